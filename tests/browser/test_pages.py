"""Every page at laptop and phone width: it loads, fits the phone, logs no error, and is
saved as a full-page screenshot; the pages that matter work without JavaScript."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from evaluations import services
from evaluations.models import EvaluationRun, Flag
from tests.browser.conftest import Visit, Visitor
from tests.factories import arc_claim, model_run, queued_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_broker"),
]

# Measured Smoke ARC scores; the names include a long one, as real repo ids are.
MODELS = {
    "llama-mini": 0.62,
    "qwen-small": 0.57,
    "phi-tiny": 0.48,
    "mistral-7b-instruct-v0.3-community-finetune-dpo": 0.41,
}
FLAGGED = "phi-tiny"


@dataclass
class Dataset:
    runs: dict[str, EvaluationRun]
    failed_run: EvaluationRun
    flag: Flag

    def ids(self) -> dict[str, int]:
        """What the pages' paths are filled in with."""
        return {
            "run": self.runs["llama-mini"].id,
            "failed_run": self.failed_run.id,
            "flag": self.flag.id,
        }


@pytest.fixture
def dataset() -> Dataset:
    """Four measured models, two claims (one contradicted, so flagged) and a failed run."""
    runs = {name: model_run(name, value) for name, value in MODELS.items()}
    arc_claim("llama-mini", 63.0)
    arc_claim(FLAGGED, 95.0, source_url="https://example.org/announcement")
    failed = queued_run("demo-org/pickled-weights")
    services.run_fail(run_id=failed.id, code="eval:user:no-safetensors")
    return Dataset(runs, EvaluationRun.objects.get(id=failed.id), Flag.objects.get())


@dataclass(frozen=True)
class PageCase:
    name: str
    path: str  # filled in with Dataset.ids()
    status: int = 200
    text: str = ""  # words the page must show (an empty or error state says why)
    moderator: bool = False


PAGES = [
    PageCase("rankings", "/", text="flagged claim"),
    PageCase("model", f"/models/demo-org/{FLAGGED}/", text="contradicted"),
    PageCase("run", "/runs/{run}/", text="Measured scores"),
    PageCase("run-failed", "/runs/{failed_run}/", text="The repository has no safetensors weights"),
    PageCase(
        "compare",
        "/compare/?model=demo-org/llama-mini&model=demo-org/phi-tiny&model=demo-org/qwen-small",
        text="Values and differences in points",
    ),
    PageCase("compare-empty", "/compare/", text="Name two to five models"),
    PageCase(
        "compare-error",
        "/compare/?model=demo-org/llama-mini&model=nobody/none",
        status=400,
        text="No model named nobody/none is known here",
    ),
    PageCase("scatter", "/scatter/", text="demo-org/phi-tiny"),
    PageCase("submit", "/submit/", moderator=True, text="Scores you claim"),  # signed in
    PageCase("sign-in", "/accounts/login/", text="Password"),
    PageCase("sign-up", "/accounts/signup/", text="Create an account"),
    PageCase("account", "/account/", moderator=True, text="API tokens"),
    PageCase("flag", "/flags/{flag}/", text="not yet reviewed by a moderator"),
    PageCase("moderation-queue", "/moderation/", moderator=True, text="Record"),
    PageCase(
        "moderation-log", "/moderation/log/", moderator=True, text="automatic check"
    ),  # the rule's flag changes are on the record
    PageCase(
        "not-found",
        "/models/nobody/nothing-here/",
        status=404,
        text="There is nothing at this address",
    ),
    PageCase("rankings-no-match", "/?min_params=5000", text="No model matches these filters"),
]


def _unexpected_console_errors(visit: Visit) -> list[str]:
    """An error page's own status is logged by Chromium as a failed load: not a fault."""
    own = re.compile(rf"status of {visit.status} .*\({re.escape(visit.page.url)}\)$")
    return [error for error in visit.console_errors if visit.status < 400 or not own.search(error)]


def _problems(visit: Visit, case: PageCase, width: str) -> list[str]:
    where = f"{case.name} at {width}"
    problems = [f"{where}: console error {error}" for error in _unexpected_console_errors(visit)]
    if visit.status != case.status:
        problems.append(f"{where}: HTTP {visit.status}, expected {case.status}")
    if not visit.heading_visible():
        problems.append(f"{where}: no visible main heading")
    if case.text not in visit.page.locator("main").inner_text():
        problems.append(f"{where}: does not say “{case.text}”")
    if width == "phone" and visit.horizontal_overflow() > 1:
        problems.append(f"{where}: {visit.horizontal_overflow()} px wider than the phone")
    return problems


def _check_pages(
    visit: Visitor,
    cases: list[PageCase],
    ids: dict[str, int],
    screenshot_dir: Path,
    session: str | None = None,
) -> list[str]:
    problems: list[str] = []
    for case in cases:
        for width in ("laptop", "phone"):
            page = visit(
                case.path.format(**ids), width=width, session=session if case.moderator else None
            )
            page.page.screenshot(path=screenshot_dir / f"{case.name}-{width}.png", full_page=True)
            problems += _problems(page, case, width)
    return problems


def test_it_renders_every_page_at_laptop_and_phone_width(
    visit: Visitor,
    dataset: Dataset,
    moderator_session: str,
    screenshot_dir: Path,
) -> None:
    # One dataset for all pages (a flush per page would double the run time); every page is
    # checked and every problem listed before the test fails.
    problems = _check_pages(visit, PAGES, dataset.ids(), screenshot_dir, moderator_session)
    assert not problems, "\n".join(problems)


def test_it_says_so_when_no_model_has_been_measured(visit: Visitor, screenshot_dir: Path) -> None:
    empty = PageCase("rankings-empty", "/", text="No model has finished this suite yet")
    problems = _check_pages(visit, [empty], {}, screenshot_dir)
    assert not problems, "\n".join(problems)


def test_it_works_without_javascript(visit: Visitor, dataset: Dataset) -> None:
    page = visit("/", javascript=False).page
    assert page.locator("table.ranking tbody tr").count() == len(MODELS)
    page.locator("#rankings").get_by_role("link", name=f"demo-org/{FLAGGED}", exact=True).click()
    assert page.locator("main h1").inner_text() == f"demo-org/{FLAGGED}"
    assert "contradicted" in page.locator("#evidence table").inner_text()
    assert page.locator("#history-charts noscript").count() == 1

    page.goto("/compare/")
    page.fill("#model-1", "demo-org/llama-mini")
    page.fill("#model-2", f"demo-org/{FLAGGED}")
    page.get_by_role("button", name="Compare").click()
    table = page.locator("table.comparison")
    assert table.locator("tbody tr").count() == 2  # Smoke ARC and Smoke GSM8K
    table.get_by_role("link", name=f"demo-org/{FLAGGED}", exact=True).first.click()
    assert page.locator("main h1").inner_text() == f"demo-org/{FLAGGED}"


def test_it_keeps_wide_tables_scrolling_inside_their_box_on_a_phone(
    visit: Visitor,
    dataset: Dataset,
) -> None:
    page = visit("/", width="phone").page
    wrapper = page.locator("#rankings .table-wrap")
    sizes = wrapper.evaluate("box => [box.scrollWidth, box.clientWidth]")
    assert sizes[0] > sizes[1], "the rankings table should be wider than a phone, in its box"
    assert wrapper.evaluate("box => getComputedStyle(box).overflowX") == "auto"


def test_on_a_phone_the_average_is_in_view_and_the_filters_fold_away(
    visit: Visitor,
    dataset: Dataset,
) -> None:
    phone = visit("/", width="phone").page
    assert not phone.locator("#suite").is_visible()  # folded under "Filters"
    phone.locator("details.filter-panel > summary").click()
    assert phone.locator("#suite").is_visible()
    viewport = phone.viewport_size
    assert viewport is not None
    average = phone.locator("table.ranking tbody tr").first.locator("strong.average")
    box = average.bounding_box()
    assert box is not None and box["x"] + box["width"] <= viewport["width"]

    laptop = visit("/", width="laptop").page
    assert laptop.locator("#suite").is_visible()  # no toggle to open on a wide screen
    assert not laptop.locator("details.filter-panel > summary").is_visible()
