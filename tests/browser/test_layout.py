"""The layout at desktop (1,920 px) and phone (390 px) width with the 8-benchmark suite: wide
tables fit a desktop and keep the model name and verdict in view on a phone, a model's history
is one figure, a moderator cancels and retries a run from its page, the live badge takes the
server's classes, and the stand-in hub's sign-in page is styled. Screenshots are saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Dialog, Locator, Page, expect

from evaluations import services
from evaluations.catalogue import BENCHMARKS, SUITES
from evaluations.models import EvaluationRun, RunAction, RunState
from localdev.standin.hub_server import serve_in_thread
from localdev.standin.oidc import add_oauth_client
from tests.browser.conftest import Visitor
from tests.factories import queued_run, suite_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_broker"),
]
# Long ids, as real ones are; the first one claims MMLU far above what was measured.
MODELS = {
    "mistral-7b-instruct-v0.3-community-finetune-dpo": 0.62,
    "llama-3.1-8b-instruct-abliterated-merged": 0.55,
    "qwen2.5-7b": 0.48,
}
FLAGGED = "demo-org/mistral-7b-instruct-v0.3-community-finetune-dpo"
REASON = "The worker ran out of disk; the author asked for another try."


@pytest.fixture
def classic() -> None:
    """Three models measured on all 8 classic benchmarks, one with a contradicted claim."""
    for index, (name, value) in enumerate(MODELS.items()):
        suite_run(f"demo-org/{name}", value=value, sha=str(index + 1) * 40)
    mmlu = BENCHMARKS["mmlu"]
    claim = services.ClaimInput(benchmark="mmlu", value=95.0, unit="percent", shots=mmlu.shots)
    services.claims_record(repo_id=FLAGGED, source="submission", claims=[claim])


def shot(page: Page, folder: Path, name: str) -> str:
    """A full-page screenshot in the test output folder; its file name is printed."""
    page.screenshot(path=folder / name, full_page=True)
    print(f"screenshot: {folder / name}")
    return name


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


def in_view(locator: Locator, width: int) -> bool:
    edges = box(locator)
    return edges["x"] >= 0 and edges["x"] + edges["width"] <= width


# --- Desktop: wide tables fit -----------------------------------------------------------


def test_at_1920_px_the_rankings_show_every_column_with_the_claims_in_view(
    visit: Visitor, classic: None, screenshot_dir: Path
) -> None:
    page = visit("/?suite=classic", width="desktop").page
    shot(page, screenshot_dir, "layout-rankings-classic-desktop.png")
    table = page.locator("table.ranking")
    headers = table.locator("thead th")
    # #, model, size, average, 8 benchmarks, claims, and the compare tick last
    assert headers.count() == 4 + 8 + 2
    claims = headers.nth(headers.count() - 2)
    assert in_view(claims, 1920) and "Claims" in (claims.text_content() or "")
    wrap = page.locator("#rankings .table-wrap")
    width, room = wrap.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert width <= room, "at 1,920 px the 8-benchmark table fits without scrolling"
    cells = table.locator("tbody tr").filter(has_text=FLAGGED).locator("td")
    verdict = cells.nth(cells.count() - 2)  # the claims verdict, before the compare tick
    assert in_view(verdict, 1920) and "contradicted" in verdict.inner_text()
    headers = table.locator("thead").text_content() or ""
    assert headers.count("± 95 %") == 9  # the average and each benchmark say what ± is


def test_at_1920_px_the_model_page_shows_the_verdict_and_one_chart_of_8_panels(
    visit: Visitor, classic: None, screenshot_dir: Path
) -> None:
    loaded = visit(f"/models/{FLAGGED}/", width="desktop")
    page = loaded.page
    shot(page, screenshot_dir, "layout-model-classic-desktop.png")
    verdict = page.locator("#evidence table.evidence thead th").last
    assert verdict.inner_text().strip().lower() == "verdict" and in_view(verdict, 1920)
    assert in_view(page.locator("#evidence tbody tr").first.locator("td").nth(8), 1920)
    charts = page.locator("#history-charts .js-plotly-plot")
    assert charts.count() == 1, f"one figure, not one per benchmark ({loaded.console_errors})"
    titles = charts.locator(".annotation-text").all_text_contents()
    assert {BENCHMARKS[key].display_name for key in SUITES["classic"]} <= set(titles)
    assert box(charts)["height"] < 1000, "8 benchmarks took 5,600 px as stacked charts"
    assert "Measured ± 95 %" in (page.locator("#evidence thead").text_content() or "")


def test_at_1920_px_the_audit_log_and_the_submit_form_fit(
    visit: Visitor, classic: None, moderator_session: str, screenshot_dir: Path
) -> None:
    run = queued_run("demo-org/qwen2.5-7b")
    long_reason = REASON + " More context follows." * 20  # as moderators write them
    mona = User.objects.get(username="mona")
    assert services.run_cancel(run_id=run.id, user=mona, reason=long_reason)
    log = visit("/moderation/log/", width="desktop", session=moderator_session).page
    shot(log, screenshot_dir, "layout-audit-log-desktop.png")
    reason = log.locator("main table thead th").last
    assert "Reason" in (reason.text_content() or "") and in_view(reason, 1920)
    assert in_view(log.locator("main table tbody tr").first.locator("td").last, 1920)

    submit = visit("/submit/", width="desktop", session=moderator_session).page
    shot(submit, screenshot_dir, "layout-submit-desktop.png")
    sources = submit.locator("table.claims-form input[type=url]")
    assert sources.count() >= 2
    for index in range(sources.count()):
        assert in_view(sources.nth(index), 1920), "a source link input is clipped"


# --- Phone: name and verdict stay, scores scroll -----------------------------------------


def test_on_a_phone_the_name_and_verdict_stay_while_the_scores_scroll(
    visit: Visitor, classic: None, screenshot_dir: Path
) -> None:
    page = visit("/?suite=classic", width="phone").page
    shot(page, screenshot_dir, "layout-rankings-classic-phone.png")
    wrap = page.locator("#rankings .table-wrap")
    row = page.locator("table.ranking tbody tr").filter(has_text=FLAGGED)
    cells = row.locator("td")
    # the claims verdict sits before the last column, the compare tick
    name, verdict, score = cells.nth(1), cells.nth(cells.count() - 2), cells.nth(6)
    before = box(score)["x"]
    wrap.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    page.wait_for_function("document.querySelector('#rankings .table-wrap').scrollLeft > 0")
    page.screenshot(path=screenshot_dir / "layout-rankings-classic-phone-scrolled.png")
    print(f"screenshot: {screenshot_dir / 'layout-rankings-classic-phone-scrolled.png'}")
    assert box(score)["x"] < before, "the score columns scroll"
    assert in_view(name, 390) and FLAGGED in name.inner_text()
    assert in_view(verdict, 390) and "contradicted" in verdict.inner_text()
    assert box(name)["x"] + box(name)["width"] <= box(verdict)["x"]  # side by side, not overlaid


def test_on_a_phone_the_model_page_has_one_chart_and_its_verdict_in_view(
    visit: Visitor, classic: None, screenshot_dir: Path
) -> None:
    visit_ = visit(f"/models/{FLAGGED}/", width="phone")
    page = visit_.page
    shot(page, screenshot_dir, "layout-model-classic-phone.png")
    assert page.locator("#history-charts .js-plotly-plot").count() == 1
    assert visit_.horizontal_overflow() <= 1
    verdict = page.locator("#evidence tbody tr").first.locator("td").nth(8)
    assert in_view(verdict, 390)


# --- A moderator cancels and retries a run from its page ---------------------------------


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_moderator_cancels_a_run_and_retries_it_from_its_page(
    visit: Visitor, moderator_session: str, screenshot_dir: Path, width: str
) -> None:
    run = queued_run("demo-org/flaky")
    page = visit(f"/runs/{run.id}/", width=width, session=moderator_session).page
    shot(page, screenshot_dir, f"run-cancel-form-{width}.png")
    page.fill("#cancel-reason", REASON)
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Cancel this run").click()
    assert asked and "cannot be undone" in asked[0]
    assert EvaluationRun.objects.get(id=run.id).state == RunState.QUEUED  # nothing sent

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel this run").click()
    page.wait_for_url(f"**/runs/{run.id}/")
    expect(page.locator(".messages")).to_contain_text(f"Run #{run.id} cancelled: recorded.")
    expect(page.locator("#run-state .state")).to_have_text("Cancelled")

    page.fill("#retry-reason", REASON)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Retry as a new run").click()
    expect(page.locator(".messages")).to_contain_text("retried as run #")
    shot(page, screenshot_dir, f"run-retried-{width}.png")
    new = EvaluationRun.objects.exclude(id=run.id).get()
    assert new.state == RunState.QUEUED
    assert list(RunAction.objects.values_list("action", flat=True)) == ["cancel-run", "retry-run"]
    expect(page.locator("#attempts")).to_contain_text(f"Run #{new.id}")


def test_a_visitor_sees_no_cancel_or_retry(visit: Visitor) -> None:
    run = queued_run("demo-org/flaky")
    page = visit(f"/runs/{run.id}/").page
    assert page.locator("#run-cancel, #run-retry").count() == 0


def test_the_live_badge_takes_the_class_and_words_the_server_renders(
    visit: Visitor, screenshot_dir: Path
) -> None:
    run = queued_run("demo-org/huge")
    page = visit(f"/runs/{run.id}/").page
    badge = page.locator("#run-state .state")
    expect(badge).to_have_class("state state-queued")
    assert services.run_claim(run_id=run.id, worker_name="worker-1", task_id="task-1")
    expect(badge).to_have_text("Fetching from the hub")
    expect(badge).to_have_class("state state-fetching")
    assert services.run_fail(run_id=run.id, code="eval:user:too-large", detail="70 B parameters")
    expect(badge).to_have_text("Refused")  # the page reloads once the run is final
    expect(badge).to_have_class("state state-refused")
    shot(page, screenshot_dir, "run-refused-live.png")


# --- The stand-in hub's sign-in page -----------------------------------------------------


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_stand_in_hubs_sign_in_page_is_styled(
    visit: Visitor, tmp_path: Path, screenshot_dir: Path, width: str, live_server: Any
) -> None:
    callback = "http://127.0.0.1/callback/"
    add_oauth_client(tmp_path, "site-client", "site-secret", [callback])
    server, url = serve_in_thread(tmp_path)
    try:
        page = visit(
            f"{url}/oauth/authorize?client_id=site-client&response_type=code"
            f"&redirect_uri={callback}&scope=openid",
            width=width,
        ).page
        shot(page, screenshot_dir, f"standin-sign-in-{width}.png")
        card = page.locator("main.card")
        assert card.evaluate("card => getComputedStyle(card).borderRadius") == "12px"
        button = page.get_by_role("button", name="Sign in")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") != "rgba(0, 0, 0, 0)"
        username = page.get_by_label("Username")
        assert box(username)["width"] >= 250 and in_view(card, 390 if width == "phone" else 1920)
    finally:
        server.shutdown()
        server.server_close()
