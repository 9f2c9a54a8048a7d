"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

No browser is ever downloaded: the tests use /usr/bin/chromium (``make browser`` installs it)
and fail, rather than skip, where it is missing. Screenshots go to ``$SCREENSHOT_DIR`` or to
``<LEADERBOARD_VAR_DIR>/screenshots``; the folder is printed at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1920, "height": 1080}},
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
SCREENSHOT_DIR_KEY = pytest.StashKey[Path]()
CHARTS = "#history-charts, #scatter-chart"  # pages whose scripts draw after the load event


@dataclass
class Visit:
    """One page as a browser loaded it: the page, its HTTP status and what it logged."""

    page: Page
    status: int
    console_errors: list[str] = field(default_factory=list)

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page itself is wider than the window (0 when it fits).

        Measured against the configured viewport, not ``window.innerWidth``: a mobile browser
        zooms out to show an overflowing page whole, and innerWidth grows with it."""
        viewport = self.page.viewport_size
        assert viewport is not None
        return int(self.page.evaluate("document.documentElement.scrollWidth")) - viewport["width"]

    def heading_visible(self) -> bool:
        heading = self.page.locator("main h1").first
        return heading.count() == 1 and heading.is_visible()


Visitor = Callable[..., Visit]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing, so the browser tests cannot run. Install Debian's "
            "Chromium with `make browser` (apt-get install chromium); these tests never "
            "download a browser.",
            pytrace=False,
        )
    # Playwright's sync API keeps an event loop running in this thread for as long as it
    # lives, and Django refuses ORM calls beside a running loop unless told otherwise. The
    # setting lasts exactly as long as the loop, so tests outside this folder keep the check.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir(request: pytest.FixtureRequest) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.VAR_DIR) / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SCREENSHOT_DIR_KEY] = folder.resolve()
    return folder


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    folder = config.stash.get(SCREENSHOT_DIR_KEY, None)
    if folder is not None:
        names = sorted(path.name for path in folder.glob("*.png"))
        terminalreporter.write_line(f"browser screenshots: {folder} ({len(names)} PNG files)")
        for name in names:
            terminalreporter.write_line(f"  {name}")


@pytest.fixture
def visit(browser: Browser, live_server: Any) -> Iterator[Visitor]:
    """``visit(path, width="phone", javascript=False, session=key)`` opens a page and waits
    for it to load (and for its charts to be drawn).

    Visits of one kind share a browser context, so its cache holds plotly.js after the first
    chart; a new visit closes the previous page of its kind."""
    contexts: dict[tuple[str, bool, str | None], BrowserContext] = {}

    def open_page(
        path: str, *, width: str = "laptop", javascript: bool = True, session: str | None = None
    ) -> Visit:
        key = (width, javascript, session)
        if key not in contexts:
            contexts[key] = _new_context(browser, live_server.url, *key)
        for old in contexts[key].pages:
            old.close()
        page = contexts[key].new_page()
        errors: list[str] = []
        page.on("console", lambda message: _keep_error(message, errors))
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        response = page.goto(path, wait_until="load")
        assert response is not None, f"no response for {path}"
        if javascript and page.locator(CHARTS).count():
            page.wait_for_load_state("networkidle")  # the chart's data, then its drawing
        return Visit(page, response.status, errors)

    yield open_page
    for context in contexts.values():
        context.close()


def _new_context(
    browser: Browser, url: str, width: str, javascript: bool, session: str | None
) -> BrowserContext:
    context = browser.new_context(**WIDTHS[width], java_script_enabled=javascript, base_url=url)
    if session:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}])
    return context


def _keep_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(f"{message.text} ({message.location.get('url', '')})")


@pytest.fixture
def moderator_session() -> str:
    """The session cookie of Mona, a signed-in member of the ``moderators`` group."""
    # A transactional test's flush also empties the group that a data migration made.
    group, _ = Group.objects.get_or_create(name="moderators")
    mona = User.objects.create_user("mona", password="pw-mona-123")
    mona.groups.add(group)
    client = Client()
    client.force_login(mona)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
