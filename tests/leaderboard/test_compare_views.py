"""The compare and claimed-vs-measured pages, through Django's test client."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations import services
from evaluations.models import ClaimSource
from evaluations.selectors import comparison
from evaluations.services.claims import ClaimInput
from leaderboard.views import compare
from tests.factories import finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

ALICE, BOB = "alice-lab/strong", "bob-lab/weak"


def claim(repo_id: str, value: float) -> None:
    services.claims_record(
        repo_id=repo_id,
        source=ClaimSource.API,
        claims=[ClaimInput(benchmark="smoke_arc", value=value, shots=0)],
    )


def embedded_figure(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script id="scatter-figure" type="application/json">(.*?)</script>', page, re.S
    )
    assert found, "the page embeds no figure"
    return json.loads(found.group(1))


# --- Compare -------------------------------------------------------------------------------


def test_it_shows_an_empty_form_when_nothing_is_asked(client: Client) -> None:
    response = client.get("/compare/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="model"' in page and "Name two to five models" in page


def test_it_compares_two_models_side_by_side(client: Client) -> None:
    finished_run(ALICE, value=0.75)
    finished_run(BOB, value=0.25)

    response = client.get("/compare/", {"models": f"{ALICE},{BOB}", "suite": "smoke"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "Smoke ARC" in page and ALICE in page and BOB in page
    assert "<strong>50.0</strong>" in page and "± 13.9" in page  # 1.96 · √(0.05² + 0.05²)
    assert "unpaired" in page and "kept no per-sample outputs" in page


def test_it_accepts_the_forms_repeated_fields(client: Client) -> None:
    finished_run(ALICE, value=0.75)
    finished_run(BOB, value=0.25)

    response = client.get("/compare/", {"model": [ALICE, BOB, ""], "suite": "smoke"})

    assert response.status_code == 200 and "<strong>50.0</strong>" in response.content.decode()


def test_the_form_keeps_each_model_once_so_resubmitting_keeps_them_all(client: Client) -> None:
    names = [f"lab/m{index}" for index in range(5)]
    for index, name in enumerate(names):
        finished_run(name, value=0.3 + index / 10)
    a, b, c, d, e = names

    page = client.get(
        "/compare/", {"models": f"{a},{b},{a},{b},{c},{d},{e}", "suite": "smoke"}
    ).content.decode()

    inputs = re.findall(r'<input type="text" name="model" id="model-\d" value="([^"]*)"', page)
    assert inputs == names
    resubmitted = client.get("/compare/", {"model": inputs, "suite": "smoke"})
    assert resubmitted.status_code == 200
    assert all(name in resubmitted.content.decode().split("</form>")[1] for name in names)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"models": ALICE, "suite": "smoke"}, "at least 2"),
        ({"models": "a/1,a/2,a/3,a/4,a/5,a/6", "suite": "smoke"}, "At most 5"),
        ({"models": f"{ALICE},nobody/here", "suite": "smoke"}, "nobody/here"),
        ({"models": f"{ALICE},{BOB}", "suite": "bogus"}, "Unknown suite"),
    ],
)
def test_it_refuses_bad_requests_with_a_clear_message(
    client: Client, params: dict[str, str], message: str
) -> None:
    finished_run(ALICE)
    finished_run(BOB)

    response = client.get("/compare/", params)

    assert response.status_code == 400
    assert message in response.content.decode()


# --- Claimed vs measured --------------------------------------------------------------------


def test_it_draws_the_diagonal_and_marks_flagged_claims(client: Client) -> None:
    finished_run(ALICE, value=0.5)
    finished_run(BOB, value=0.6)
    claim(ALICE, 0.9)
    claim(BOB, 0.55)

    response = client.get("/scatter/", {"benchmark": "smoke_arc"})
    figure = embedded_figure(response.content.decode())

    diagonal, plain, flagged = figure["data"]
    assert diagonal["mode"] == "lines" and list(diagonal["x"]) == list(diagonal["y"])
    assert list(plain["customdata"]) == [f"/models/{BOB}/"]
    assert list(flagged["customdata"]) == [f"/models/{ALICE}/"]
    assert flagged["marker"]["color"] != plain["marker"]["color"]
    assert flagged["marker"]["symbol"] != plain["marker"]["symbol"]
    assert list(flagged["x"]) == [90.0] and list(flagged["y"]) == [50.0]
    assert list(flagged["text"]) == [ALICE] and "flagged" in flagged["hovertemplate"]
    assert "claimed %{x:.1f}" in flagged["hovertemplate"]


def test_it_lists_the_points_in_a_table_that_needs_no_javascript(client: Client) -> None:
    finished_run(ALICE, value=0.5)
    claim(ALICE, 0.9)

    page = client.get("/scatter/", {"benchmark": "smoke_arc"}).content.decode()

    assert '<table class="scatter-points">' in page
    assert f'href="/models/{ALICE}/"' in page and "contradicted" in page
    assert "90.0" in page and "50.0" in page and "40.0" in page  # claimed, measured, gap
    assert "<noscript>" in page and "leaderboard/scatter.js" in page


@pytest.fixture
def five_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five claims, two of them flagged; tables of two rows, WebGL from three points."""
    monkeypatch.setattr(comparison, "SCATTER_ROWS_PER_PAGE", 2)
    monkeypatch.setattr(compare, "WEBGL_FROM", 3)
    for index, (measured, claimed) in enumerate(
        [(0.5, 0.52), (0.5, 0.95), (0.6, 0.61), (0.3, 0.9), (0.7, 0.69)]
    ):
        finished_run(f"lab/m{index}", value=measured)
        claim(f"lab/m{index}", claimed)


def table_models(page: str) -> list[str]:
    return re.findall(r'<td><a href="/models/lab/(m\d)/">', page.split("<h2>The points</h2>")[1])


@pytest.mark.usefixtures("five_points")
def test_the_table_is_paged_flagged_first_and_says_how_many_points_in_all(
    client: Client,
) -> None:
    first = client.get("/scatter/", {"benchmark": "smoke_arc"}).content.decode()
    assert "5 points in all, 2 flagged" in first
    assert table_models(first) == ["m3", "m1"]  # flagged, the largest over-claim first
    assert 'href="?benchmark=smoke_arc&amp;page=2" rel="next"' in first
    assert table_models(
        client.get("/scatter/", {"benchmark": "smoke_arc", "page": "2"}).content.decode()
    ) == ["m0", "m2"]
    last = client.get("/scatter/", {"benchmark": "smoke_arc", "page": "9"}).content.decode()
    assert table_models(last) == ["m4"] and "page 3 of 3" in last
    refused = client.get("/scatter/", {"benchmark": "smoke_arc", "page": "two"})
    assert refused.status_code == 400 and "page must be a whole number" in refused.content.decode()


@pytest.mark.usefixtures("five_points")
def test_the_figure_keeps_every_point_on_every_page_drawn_with_webgl_when_many(
    client: Client,
) -> None:
    for page in ("1", "3"):
        html = client.get("/scatter/", {"benchmark": "smoke_arc", "page": page}).content.decode()
        _, *traces = embedded_figure(html)["data"]
        assert sorted(name for trace in traces for name in trace["text"]) == [
            f"lab/m{index}" for index in range(5)
        ]
        assert {trace["type"] for trace in traces} == {"scattergl"}
        assert all(isinstance(x, float) and x == round(x, 2) for t in traces for x in t["x"])
        assert plotly_scripts(html) == ["/static/plotly/plotly.min.js"]  # WebGL needs it all


def plotly_scripts(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]*plotly[^"]*)"', page)


def test_a_few_points_are_drawn_as_svg(client: Client) -> None:
    finished_run(ALICE, value=0.5)
    claim(ALICE, 0.9)
    page = client.get("/scatter/", {"benchmark": "smoke_arc"}).content.decode()
    assert embedded_figure(page)["data"][1]["type"] == "scatter"
    assert plotly_scripts(page) == ["/static/vendor/plotly-basic/plotly-basic.min.js"]


def test_it_opens_on_a_benchmark_that_has_claims(client: Client) -> None:
    finished_run(ALICE, value=0.5)
    claim(ALICE, 0.9)

    page = client.get("/scatter/").content.decode()

    assert "Claimed vs measured: Smoke ARC" in page


def test_it_says_so_when_there_is_nothing_to_plot(client: Client) -> None:
    response = client.get("/scatter/", {"benchmark": "mmlu"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "nothing to plot" in page and "scatter-figure" not in page


def test_it_refuses_an_unknown_benchmark(client: Client) -> None:
    response = client.get("/scatter/", {"benchmark": "nope"})
    assert response.status_code == 400 and "Unknown benchmark" in response.content.decode()


def test_it_offers_the_empty_form_again_after_a_refusal(client: Client) -> None:
    finished_run(ALICE)
    page = client.get("/compare/", {"model": [ALICE, "nobody/none"]}).content.decode()
    assert "No model named nobody/none" in page
    assert '<a href="/compare/">Start again with other choices</a>' in page


def test_the_scatter_page_makes_the_same_queries_for_one_model_or_four(client: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/scatter/", {"benchmark": "smoke_arc"}).status_code == 200
        return len(queries)

    finished_run(ALICE, value=0.5)
    claim(ALICE, 0.9)
    small = count()
    for index in range(3):
        repo_id = f"more-lab/model-{index}"
        finished_run(repo_id, value=0.5)
        claim(repo_id, 0.6 + index / 10)

    assert count() == small <= 4


def test_the_nav_links_to_both_pages(client: Client) -> None:
    page = client.get("/compare/").content.decode()
    assert 'href="/compare/"' in page and 'href="/scatter/"' in page
