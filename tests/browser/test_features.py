"""What leaderboard users expect, in Chromium at desktop (1920 px) and phone (390 px) widths:
search the rankings by name, choose their columns, tick models to compare them, and withdraw
a claim from the model page. Each step is saved as a screenshot; the names are printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from evaluations.models import Claim
from tests.factories import arc_claim, model_run, person

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_broker"),
]

SIZES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1920, "height": 1080}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
MODELS = {"llama-mini": 0.62, "qwen-small": 0.57, "llama-tiny": 0.48, "phi-tiny": 0.41}


@pytest.fixture(params=list(SIZES))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def models() -> None:
    for name, value in MODELS.items():
        model_run(name, value)


def open_page(
    browser: Browser, live_server: Any, width: str, session: str | None = None
) -> Iterator[Page]:
    context = browser.new_context(**SIZES[width], base_url=live_server.url)
    if session:
        cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}
        context.add_cookies([cookie])
    yield context.new_page()
    context.close()


def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path.name}")


def fits(page: Page, width: str) -> None:
    """The page itself is no wider than the window (tables scroll inside their frame)."""
    overflow = (
        page.evaluate("document.documentElement.scrollWidth") - SIZES[width]["viewport"]["width"]
    )
    assert overflow <= 1, f"{overflow} px wider than the window"


def model_names(page: Page) -> list[str]:
    return page.locator("table.ranking tbody td:nth-child(2) > a").all_inner_texts()


@pytest.mark.usefixtures("models")
def test_a_visitor_searches_by_name_and_chooses_the_columns(
    browser: Browser, live_server: Any, width: str, screenshot_dir: Path
) -> None:
    for page in open_page(browser, live_server, width):
        page.goto("/?suite=smoke")
        page.get_by_label("Model", exact=True).fill("LLAMA")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**q=LLAMA*")
        assert model_names(page) == ["demo-org/llama-mini", "demo-org/llama-tiny"]
        expect(page.locator("main")).to_contain_text("Ranks are those of the list without")
        shot(page, screenshot_dir, f"feature-search-{width}")
        fits(page, width)

        page.locator(".column-chooser summary").click()
        page.get_by_label("Smoke GSM8K").uncheck()
        page.get_by_role("button", name="Show these columns").click()
        page.wait_for_url("**cols=smoke_arc*")
        headers = page.locator("table.ranking thead th").all_text_contents()
        assert any("Smoke ARC" in h for h in headers)
        assert not any("Smoke GSM8K" in h for h in headers)
        assert "q=LLAMA" in page.url  # the search stays
        page.locator("table.ranking thead a.sort").first.click()  # sort by name: both stay
        page.wait_for_url("**sort=name*")
        assert "q=LLAMA" in page.url and "cols=smoke_arc" in page.url
        assert model_names(page) == ["demo-org/llama-mini", "demo-org/llama-tiny"]
        shot(page, screenshot_dir, f"feature-columns-{width}")
        fits(page, width)


@pytest.fixture
def author_session() -> str:
    """Ada's session cookie: the hub says she is a member of demo-org."""
    client = Client()
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_an_author_withdraws_a_claim_from_the_model_page(
    browser: Browser, live_server: Any, width: str, screenshot_dir: Path, author_session: str
) -> None:
    model_run("tiny", 0.5)
    arc_claim("tiny", 95.0)  # contradicted
    claim = Claim.objects.get()
    for page in open_page(browser, live_server, width, author_session):
        page.goto("/models/demo-org/tiny/")
        expect(page.locator(f"#claim-{claim.id}")).to_contain_text("contradicted")
        page.get_by_text("Correct or withdraw this claim").click()
        withdraw = page.get_by_role("form", name=f"Withdraw claim #{claim.id}")
        withdraw.get_by_label("Why").fill("The score was for another model.")
        shot(page, screenshot_dir, f"feature-withdraw-form-{width}")
        withdraw.get_by_role("button", name="Withdraw the claim").click()
        page.wait_for_url("**/models/demo-org/tiny/#claim-history")
        main = page.locator("main")
        expect(main).to_contain_text("Smoke ARC withdrawn")
        expect(main).to_contain_text("“The score was for another model.”")
        expect(main).to_contain_text("No scores have been claimed for this model")
        shot(page, screenshot_dir, f"feature-withdrawn-{width}")
        fits(page, width)
    withdrawal = Claim.objects.get(supersedes=claim)
    assert withdrawal.withdrawn and Claim.objects.count() == 2


@pytest.mark.usefixtures("models")
def test_a_visitor_ticks_models_and_compares_them(
    browser: Browser, live_server: Any, width: str, screenshot_dir: Path
) -> None:
    for page in open_page(browser, live_server, width):
        page.goto("/?suite=smoke")
        page.get_by_label("Compare demo-org/llama-mini").check()
        page.get_by_label("Compare demo-org/phi-tiny").check()
        shot(page, screenshot_dir, f"feature-ticked-{width}")
        page.get_by_role("button", name="Compare ticked models").click()
        page.wait_for_url("**/compare/?*")
        assert "model=demo-org%2Fllama-mini" in page.url and "model=demo-org%2Fphi-tiny" in page.url
        page.wait_for_load_state("networkidle")
        chart = page.locator("#scatter-chart")
        expect(chart.locator(".main-svg").first).to_be_visible()  # Plotly drew it
        expect(page.locator("main")).to_contain_text("Differences with their 95 % intervals")
        shot(page, screenshot_dir, f"feature-compare-{width}")
        fits(page, width)
