"""Static files as production serves them: `collectstatic` with the site's storage, then
whitenoise sends hashed names with a long cache, compressed when the browser asks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from leaderboard import settings as site_settings
from tests.factories import finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker", "collected")]
TEN_YEARS = 10 * 365 * 24 * 3600  # whitenoise's "forever" for a hashed name
FULL_PLOTLY = Path(site_settings.STATICFILES_DIRS[1][1]) / "plotly.min.js"  # type: ignore[index]


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(
        STATIC_ROOT=root, STORAGES=site_settings.STORAGES, WHITENOISE_USE_FINDERS=False
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page)


def fetch(url: str, encoding: str = "") -> tuple[int, dict[str, str], bytes]:
    response = Client().get(url, headers={"Accept-Encoding": encoding} if encoding else {})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, dict(response.headers), body


def plotly_url(client: Client) -> str:
    finished_run("demo-org/tiny")
    page = client.get("/models/demo-org/tiny/").content.decode()
    [url] = [url for url in asset_urls(page) if "plotly" in url]
    return url


def test_the_chart_page_loads_the_basic_plotly_bundle_by_a_hashed_name(client: Client) -> None:
    url = plotly_url(client)
    assert re.fullmatch(r"/static/vendor/plotly-basic/plotly-basic\.min\.[0-9a-f]{12}\.js", url)
    status, headers, body = fetch(url)
    assert status == 200 and body.startswith(b"/**\n* plotly.js (basic - minified) v4.1.1")
    assert len(body) < FULL_PLOTLY.stat().st_size / 3, "the full bundle is 4.8 MB"


def test_a_hashed_file_is_cached_for_years(client: Client) -> None:
    _, headers, _ = fetch(plotly_url(client))
    assert headers["Cache-Control"] == f"max-age={TEN_YEARS}, public, immutable"


def test_it_is_sent_gzipped_when_asked(client: Client) -> None:
    url = plotly_url(client)
    status, headers, body = fetch(url, "gzip, deflate")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert len(body) < 600_000 and "Accept-Encoding" in headers["Vary"]


def test_it_is_sent_with_brotli_when_asked(client: Client) -> None:
    status, headers, _ = fetch(plotly_url(client), "br, gzip")
    assert status == 200 and headers["Content-Encoding"] == "br"


@pytest.mark.parametrize("page_url", ["/models/demo-org/tiny/", "/api/v1/docs", "/scatter/"])
def test_every_asset_a_page_names_is_hashed_and_served(page_url: str, client: Client) -> None:
    finished_run("demo-org/tiny")
    page = client.get(page_url).content.decode()
    urls = asset_urls(page)
    assert urls and "cdn" not in page.lower()
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        assert fetch(url)[0] == 200, url


def test_bundles_no_page_loads_are_left_out(collected: Path) -> None:
    """Compressing them (9 MB) made every collectstatic slower; the pages' assets are above."""
    assert (collected / "plotly" / "plotly.min.js").is_file()
    assert (collected / "ninja" / "swagger-ui-bundle.js").is_file()
    assert not list((collected / "plotly").glob("widgetbundle*"))
    assert not list((collected / "ninja").glob("redoc*"))
