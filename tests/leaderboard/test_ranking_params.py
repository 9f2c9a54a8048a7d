"""The rankings' query in the URL: every filter read back, defaults left out of links, and
a sentence for each mistake (no database)."""

from __future__ import annotations

import pytest

from evaluations.catalogue import suite_benchmarks
from evaluations.selectors.ranking_query import RankingQuery
from evaluations.selectors.rankings import RankingPage
from leaderboard.ranking_params import data_query, parse_query, query_url, table_links


def test_it_reads_every_filter_from_the_url() -> None:
    query = parse_query(
        {
            "min_params": "0.5",
            "max_params": "8",
            "precision": "bfloat16",
            "licence": " MIT ",
            "hide_flagged": "1",
            "hide_not_comparable": "on",
            "sort": "smoke_arc",
            "order": "asc",
            "page": "3",
            "per_page": "100",
        },
        suite="smoke",
    )
    assert query == RankingQuery(
        suite="smoke",
        min_params=0.5,
        max_params=8.0,
        precision="bfloat16",
        licence="MIT",
        hide_flagged=True,
        hide_not_comparable=True,
        sort="smoke_arc",
        order="asc",
        page=3,
        per_page=100,
    )


def test_defaults_are_the_average_best_first_and_names_a_to_z() -> None:
    assert parse_query({}, suite="smoke") == RankingQuery(suite="smoke")
    assert parse_query({"sort": "name"}, suite="smoke").order == "asc"
    assert parse_query({"sort": "params"}, suite="smoke").order == "desc"


def test_a_shared_link_carries_the_whole_state_and_no_defaults() -> None:
    query = parse_query({"hide_flagged": "1", "sort": "smoke_arc", "page": "2"}, suite="smoke")
    assert query_url(query) == "?suite=smoke&hide_flagged=1&sort=smoke_arc&page=2"
    assert parse_query(dict(query.params()), suite="smoke") == query
    assert query_url(query, page=1) == "?suite=smoke&hide_flagged=1&sort=smoke_arc"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"sort": "bogus"}, "Cannot sort by “bogus”"),
        ({"order": "up"}, "“asc” or “desc”"),
        ({"page": "0"}, "page must be a whole number from 1 or more"),
        ({"page": "two"}, "page must be a whole number"),
        ({"per_page": "500"}, "per_page must be a whole number from 1 to 100"),
        ({"min_params": "-1"}, "from 0 to 1,000,000"),
        ({"max_params": "seven"}, "such as 7 or 0.5"),
        ({"min_params": "nan"}, "from 0 to 1,000,000"),
        ({"max_params": "1e300"}, "from 0 to 1,000,000"),
        ({"min_params": "8", "max_params": "7"}, "smallest parameter count is above"),
        ({"precision": "int4"}, "Unknown precision “int4”"),
        ({"hide_flagged": "maybe"}, "hide_flagged must be 1 or 0"),
        ({"licence": "x" * 101}, "at most 100 characters"),
    ],
)
def test_it_refuses_a_bad_query_with_a_sentence(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_query(params, suite="smoke")


def test_switching_suite_drops_a_sort_on_the_old_suites_benchmark() -> None:
    query = parse_query({"sort": "mmlu", "order": "asc", "hide_flagged": "1"}, suite="smoke")
    assert query == RankingQuery(suite="smoke", hide_flagged=True)


def test_it_refuses_an_unknown_suite() -> None:
    with pytest.raises(ValueError, match="There is no suite “nope”"):
        parse_query({}, suite="nope")


def test_the_data_links_carry_filters_and_sort_but_not_the_page() -> None:
    query = RankingQuery(suite="smoke", licence="MIT", sort="name", order="asc", page=4)
    assert data_query(query) == "suite=smoke&licence=MIT&sort=name"


def test_the_active_column_flips_its_order_and_pages_keep_the_filters() -> None:
    query = RankingQuery(suite="smoke", hide_flagged=True, sort="name", order="asc", page=2)
    page = RankingPage(query, suite_benchmarks("smoke"), slots=[], total=0, page=2, num_pages=3)
    links = table_links(page)
    assert links.columns["name"].url == "?suite=smoke&hide_flagged=1&sort=name&order=desc"
    assert links.columns["name"].arrow == "▲"
    assert links.columns["average"].url == "?suite=smoke&hide_flagged=1"
    assert links.previous == "?suite=smoke&hide_flagged=1&sort=name"
    assert links.last == "?suite=smoke&hide_flagged=1&sort=name&page=3"
    assert links.clear == "?suite=smoke"
