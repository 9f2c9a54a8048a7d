"""The rankings page, through Django's test client: filters in the URL, sortable headers,
pages, shared ranks, the verdict column, clear empty and error states, constant queries."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations import dispatch
from evaluations.models import Revision
from evaluations.services import read_models
from leaderboard.cache import LayeredCache
from tests.factories import arc_claim as claim
from tests.factories import model_run as model

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


def table(client: Client, url: str) -> str:
    """The rankings card only: the "Recent runs" below names every model too."""
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().split("Recent runs")[0]


def shown(page: str) -> list[str]:
    return re.findall(r'<td><a href="/models/demo-org/([\w-]+)/">', page)


def test_it_shows_benchmark_columns_with_raw_values_and_stderr_on_hover(client: Client) -> None:
    model("alpha", 0.625)
    page = table(client, "/?suite=smoke")
    assert "Smoke ARC" in page and "Smoke GSM8K" in page
    # the score_cell partial
    assert 'title="raw 0.6250, standard error 0.0500; 95 % interval 52.7–72.3"' in page
    assert "raw average 31.25 %" in page and ">25.0</strong>" in page
    assert "Recent runs" in client.get("/?suite=smoke").content.decode()


def test_filters_live_in_the_url_and_each_narrows_the_list(client: Client) -> None:
    model("small", 0.4)
    model("large", 0.6, precision="bfloat16")
    model("flagged", 0.7)
    claim("flagged", 99.0)
    model("cot", 0.5)
    claim("cot", 50.0, chain_of_thought=True)
    Revision.objects.filter(repo__hub_id="demo-org/large").update(
        parameter_count=7_000_000_000, licence="apache-2.0"
    )
    # Commits are edited by hand here, past the services: rebuild the read table.
    read_models.ranking_entries_rebuild()
    everyone = {"small", "large", "flagged", "cot"}
    assert set(shown(table(client, "/?suite=smoke"))) == everyone
    assert shown(table(client, "/?suite=smoke&min_params=1")) == ["large"]
    assert set(shown(table(client, "/?suite=smoke&max_params=1"))) == everyone - {"large"}
    assert shown(table(client, "/?suite=smoke&precision=bfloat16")) == ["large"]
    assert shown(table(client, "/?suite=smoke&licence=apache-2.0")) == ["large"]
    assert set(shown(table(client, "/?suite=smoke&hide_flagged=1"))) == everyone - {"flagged"}
    page = table(client, "/?suite=smoke&hide_not_comparable=1")
    assert set(shown(page)) == everyone - {"cot"}
    assert 'name="hide_not_comparable" value="1" checked' in page  # the form keeps its state


def test_headers_sort_both_ways_and_keep_the_filters(client: Client) -> None:
    model("bravo", 0.9)
    model("alpha", 0.3)
    model("charlie", 0.6)
    page = table(client, "/?suite=smoke&hide_flagged=1")
    assert shown(page) == ["bravo", "charlie", "alpha"]
    header = html.unescape(re.search(r'href="([^"]*sort=smoke_arc[^"]*)"', page).group(1))
    assert header == "?suite=smoke&hide_flagged=1&sort=smoke_arc"
    assert shown(table(client, header)) == ["bravo", "charlie", "alpha"]
    flipped = table(client, "/?suite=smoke&hide_flagged=1&sort=smoke_arc")
    assert "sort=smoke_arc&amp;order=asc" in flipped  # the active header flips the order
    assert shown(table(client, "/?suite=smoke&sort=smoke_arc&order=asc")) == [
        "alpha",
        "charlie",
        "bravo",
    ]
    assert shown(table(client, "/?suite=smoke&sort=average&order=asc")) == [
        "alpha",
        "charlie",
        "bravo",
    ]
    assert shown(table(client, "/?suite=smoke&sort=name")) == ["alpha", "bravo", "charlie"]


def test_page_two_has_the_rest_and_a_page_past_the_end_shows_the_last(client: Client) -> None:
    for index in range(5):
        model(f"m{index}", 0.3 + index * 0.1)
    first = table(client, "/?suite=smoke&per_page=3")
    assert shown(first) == ["m4", "m3", "m2"] and "1–3 of 5" in first
    assert 'href="?suite=smoke&amp;page=2&amp;per_page=3" rel="next"' in first
    second = table(client, "/?suite=smoke&per_page=3&page=2")
    assert shown(second) == ["m1", "m0"] and "4–5 of 5" in second and 'rel="next"' not in second
    beyond = table(client, "/?suite=smoke&per_page=3&page=7")
    assert shown(beyond) == ["m1", "m0"] and "There is no page 7" in beyond


@pytest.mark.parametrize(
    "query, message",
    [
        ("suite=nope", "There is no suite"),
        ("suite=smoke&per_page=1000", "per_page must be a whole number from 1 to 100"),
        ("suite=smoke&page=-1", "page must be a whole number"),
        ("suite=smoke&sort=bogus", "Cannot sort by"),
        ("suite=smoke&min_params=big", "billions of parameters"),
        ("suite=smoke&min_params=1e300", "billions of parameters from 0 to"),
    ],
)
def test_bad_parameters_get_a_400_that_says_why(client: Client, query: str, message: str) -> None:
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())


def test_overlapping_intervals_share_a_rank_and_distant_ones_do_not(client: Client) -> None:
    model("close-a", 0.50)
    model("close-b", 0.52)
    page = table(client, "/?suite=smoke")
    assert page.count(">=1</span>") == 2 and "A shared rank" in page
    model("far", 0.95)
    page = table(client, "/?suite=smoke")
    assert re.search(r'<td class="rank">1</td>\s*<td><a href="/models/demo-org/far/">', page)
    assert page.count(">=2</span>") == 2


def test_distant_models_have_their_own_ranks(client: Client) -> None:
    model("low", 0.3)
    model("high", 0.9)
    page = table(client, "/?suite=smoke")
    assert '<td class="rank">1</td>' in page and '<td class="rank">2</td>' in page
    assert "A shared rank" not in page


def test_the_verdict_column_shows_the_worst_verdict(client: Client) -> None:
    model("overclaimer", 0.5)
    claim("overclaimer", 95.0)
    model("honest", 0.5)
    claim("honest", 50.0)
    model("vague", 0.5)
    claim("vague", 50.0, shots=None)
    model("silent", 0.5)
    page = table(client, "/?suite=smoke&sort=name")
    rows = dict(zip(shown(page), page.split('<td><a href="/models/demo-org/')[1:], strict=True))
    assert "verdict-contradicted" in rows["overclaimer"]
    assert "severity-severe" in rows["overclaimer"]
    assert ">inconclusive</a>" in rows["honest"]  # 40 items cannot tell a 3-point gap
    assert ">not comparable</a>" in rows["vague"]
    assert "no claims" in rows["silent"]


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(client: Client) -> None:
    page = table(client, "/?suite=smoke")
    assert "No model has finished this suite yet" in page
    model("alpha", 0.5)
    page = table(client, "/?suite=smoke&min_params=100&sort=name")
    assert "No model matches these filters" in page
    assert '<a href="?suite=smoke">Clear the filters</a>' in page


def test_the_controls_every_page_of_a_query_shares_follow_each_change(client: Client) -> None:
    """The card's head, the filters and the column heads are kept per query and generation:
    another page of the same query shows them, and a change shows in them at once."""
    for index in range(3):
        model(f"m{index}", 0.3 + index * 0.2)
    first = table(client, "/?suite=smoke&per_page=2&sort=name")
    assert "3 models" in first and 'value="apache-2.0"' not in first
    model("m3", 0.9)
    Revision.objects.filter(repo__hub_id="demo-org/m3").update(licence="apache-2.0")
    read_models.ranking_entries_rebuild()
    second = table(client, "/?suite=smoke&per_page=2&sort=name&page=2")
    assert "4 models" in second and 'value="apache-2.0"' in second
    heads = re.findall(r"<thead>.*?</thead>", first, re.S)
    assert heads and heads == re.findall(r"<thead>.*?</thead>", second, re.S)


def test_controls_one_process_rendered_are_read_by_the_others(client: Client) -> None:
    """With Redis the fragments cache is process memory in front of the shared cache: a
    process whose memory lacks a fragment reads it there before it renders it again."""
    fragments = caches["fragments"]
    assert isinstance(fragments, LayeredCache)  # the tests run with REDIS_URL, as deployed
    for index in range(3):
        model(f"m{index}", 0.3 + index * 0.2)
    table(client, "/?suite=smoke&per_page=2")
    shared = caches["default"]
    keys = [key for key in fragments._local._cache if "rankings-controls" in key]
    assert len(keys) == 1
    shared.set(f"fragments{keys[0]}", "<p>rendered-by-another-process</p>")
    fragments.clear()  # this process's memory only: another process, as it starts
    assert "rendered-by-another-process" in table(client, "/?suite=smoke&per_page=2&page=2")
    fragments.clear()
    shared.delete(f"fragments{keys[0]}")  # kept nowhere: rendered again
    assert "rendered-by-another-process" not in table(client, "/?suite=smoke&per_page=2&page=3")


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_models(client: Client) -> None:
    def add(start: int, stop: int) -> None:
        for index in range(start, stop):
            model(f"m{index}", 0.3 + index * 0.04)
            if index % 3 == 0:
                claim(f"m{index}", 99.0)  # flagged
            elif index % 3 == 1:
                claim(f"m{index}", 50.0, shots=None)  # not comparable

    add(0, 3)
    url = "/?suite=smoke&hide_not_comparable=0&sort=smoke_arc"
    few = _queries(client, url)
    add(3, 15)
    assert _queries(client, url) == few
    # Same filters, another page: the standings of the call before serve it (one read fewer).
    assert _queries(client, "/?suite=smoke&per_page=5&page=2") <= few
    # the generation, runs in flight, standings, order, licences, the rows' markup, recent runs
    assert few <= 7


def test_the_api_pages_the_rankings(client: Client) -> None:
    for index in range(4):
        model(f"m{index}", 0.3 + index * 0.2)  # 13 points apart: no shared ranks
    body = client.get("/api/v1/rankings?suite=smoke&limit=2&offset=2").json()
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 2)
    assert [row["hub_id"] for row in body["rows"]] == ["demo-org/m1", "demo-org/m0"]
    assert [row["rank"] for row in body["rows"]] == [3, 4]
    assert client.get("/api/v1/rankings?suite=smoke&limit=101").status_code == 422


# --- The API and the CSV read what the page shows -----------------------------------------


def page_rows(client: Client, url: str) -> list[tuple[str, bool, str]]:
    """(rank, tied, model) per row of the rankings table, top to bottom."""
    cells = re.findall(
        r'<td class="rank">(.*?)</td>\s*<td><a href="/models/demo-org/([\w-]+)/">',
        table(client, url),
    )
    return [(re.sub(r"<[^>]+>|=", "", rank), "=" in rank, name) for rank, name in cells]


def api_rows(client: Client, query: str) -> list[tuple[str, bool, str]]:
    response = client.get(f"/api/v1/rankings?{query}")
    assert response.status_code == 200
    return [
        (str(row["rank"]), row["tied"], row["hub_id"].removeprefix("demo-org/"))
        for row in response.json()["rows"]
    ]


def csv_rows(client: Client, query: str) -> list[dict[str, str]]:
    response = client.get(f"/api/v1/rankings.csv?{query}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def five_models() -> None:
    """Sizes, precisions, licences, a flag, a claim no run can settle and a shared rank."""
    model("small", 0.40)
    model("large", 0.60, precision="bfloat16")
    model("close", 0.62)
    model("flagged", 0.80)
    claim("flagged", 99.0)
    model("cot", 0.30)
    claim("cot", 50.0, chain_of_thought=True)
    Revision.objects.filter(repo__hub_id__in=["demo-org/large", "demo-org/close"]).update(
        parameter_count=7_000_000_000, licence="apache-2.0"
    )
    read_models.ranking_entries_rebuild()


SAME_QUERIES = [
    "suite=smoke",
    "suite=smoke&sort=name",
    "suite=smoke&sort=name&order=desc",
    "suite=smoke&sort=params&order=asc",
    "suite=smoke&sort=smoke_arc&order=asc",
    "suite=smoke&sort=average&order=asc",
    "suite=smoke&min_params=1",
    "suite=smoke&max_params=1&hide_flagged=1",
    "suite=smoke&precision=bfloat16",
    "suite=smoke&licence=APACHE-2.0&sort=name",
    "suite=smoke&hide_not_comparable=1",
    "suite=smoke&hide_flagged=true&hide_not_comparable=yes&sort=params",
]


@pytest.mark.usefixtures("five_models")
def test_the_api_and_the_csv_filter_and_sort_as_the_page_does(client: Client) -> None:
    for query in SAME_QUERIES:
        on_page = page_rows(client, f"/?{query}")
        assert on_page, query
        assert api_rows(client, query) == on_page, query
        in_csv = [
            (row["rank"], row["tied"] == "True", row["hub_id"].removeprefix("demo-org/"))
            for row in csv_rows(client, query)
        ]
        assert in_csv == on_page, query
    assert any(tied for _, tied, _ in page_rows(client, "/?suite=smoke"))  # shared ranks too


@pytest.mark.usefixtures("five_models")
def test_each_api_and_csv_row_carries_what_the_page_shows(client: Client) -> None:
    rows = {row["hub_id"]: row for row in client.get("/api/v1/rankings?suite=smoke").json()["rows"]}
    flagged, cot, large = rows["demo-org/flagged"], rows["demo-org/cot"], rows["demo-org/large"]
    assert (flagged["flagged"], flagged["severity"], flagged["verdict"]) == (
        True,
        "severe",
        "contradicted",
    )
    assert (cot["not_comparable"], cot["verdict"]) == (True, "not comparable")
    assert (large["precision"], large["parameter_count"]) == ("bfloat16", 7_000_000_000)
    assert large["average"] == pytest.approx((0.6 - 0.25) / 0.75 * 100 / 2)
    assert large["raw_average"] == pytest.approx(0.3)
    assert large["average_stderr"] > 0
    assert large["scores"][0] == {"benchmark": "smoke_arc", "value": 0.6, "stderr": 0.05}
    in_csv = {row["hub_id"]: row for row in csv_rows(client, "suite=smoke")}
    row = in_csv["demo-org/flagged"]
    assert (row["severity"], row["verdict"], row["flagged"]) == ("severe", "contradicted", "True")
    large_csv = in_csv["demo-org/large"]
    # The API's normalised average is in points (0–100); the CSV's, named so, is a fraction.
    stderr = float(large_csv["normalised_average_stderr_fraction"])
    assert stderr == pytest.approx(large["average_stderr"] / 100, abs=1e-6)
    average = float(large_csv["normalised_average_fraction"])
    assert average == pytest.approx(large["average"] / 100, abs=1e-6)
    assert float(large_csv["raw_average_fraction"]) == pytest.approx(0.3)
    assert (large_csv["precision"], large_csv["smoke_arc_fraction"]) == ("bfloat16", "0.6")


@pytest.mark.parametrize(
    "query",
    [
        "suite=nope",
        "suite=smoke&sort=bogus",
        "suite=smoke&order=up",
        "suite=smoke&min_params=big",
        "suite=smoke&min_params=9&max_params=1",
        "suite=smoke&precision=int3",
        "suite=smoke&hide_flagged=maybe",
        "suite=smoke&licence=" + "x" * 101,
    ],
)
def test_the_api_and_the_csv_refuse_bad_filters_with_the_pages_message(
    client: Client, query: str
) -> None:
    page = client.get(f"/?{query}")
    assert page.status_code == 400
    for url in (f"/api/v1/rankings?{query}", f"/api/v1/rankings.csv?{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        message = response.json()["detail"]
        assert message and message in html.unescape(page.content.decode()), url


def test_the_page_links_the_csv_and_the_api_with_its_filters_and_sort(client: Client) -> None:
    model("alpha", 0.3)
    model("bravo", 0.9)
    page = table(client, "/?suite=smoke&hide_flagged=1&sort=name&order=desc&page=1&per_page=25")
    data = "suite=smoke&amp;hide_flagged=1&amp;sort=name&amp;order=desc"  # no page: all rows
    assert f'<a href="/api/v1/rankings.csv?{data}" download>Download CSV</a>' in page
    assert f'<a href="/api/v1/rankings?{data}" type="application/json">JSON API</a>' in page
    assert [row["hub_id"] for row in csv_rows(client, html.unescape(data))] == [
        "demo-org/bravo",
        "demo-org/alpha",
    ]


def test_the_openapi_document_names_every_rankings_parameter(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/rankings", "/api/v1/rankings.csv"):
        names = {parameter["name"] for parameter in paths[path]["get"]["parameters"]}
        assert {
            "suite",
            "min_params",
            "max_params",
            "precision",
            "licence",
            "hide_flagged",
            "hide_not_comparable",
            "sort",
            "order",
        } <= names, path
    names = {p["name"] for p in paths["/api/v1/rankings"]["get"]["parameters"]}
    assert {"limit", "offset"} <= names
