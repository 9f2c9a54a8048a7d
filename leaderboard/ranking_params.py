"""The rankings' query in the URL: reading it from a query string, and the links that carry it.

Every filter, the sort and the page live in the URL so that a view can be shared. The page,
the API and the CSV read them with ``parse_query`` (the same sentences refuse the same
mistakes, with a 400); the table's sort and page links are built here from the query's own
values (``RankingQuery.params``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import urlencode

from django.http import QueryDict

from evaluations.catalogue import BENCHMARKS, SUITES, Benchmark
from evaluations.models import Precision
from evaluations.selectors.ranking_query import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    SORT_AVERAGE,
    SORT_NAME,
    SORT_PARAMS,
    RankingQuery,
    default_order,
    sort_keys,
)
from evaluations.selectors.rankings import RankingPage, shown_benchmarks

MAX_SEARCH = 100  # longer than any repo id's name part
MAX_BILLIONS = 1_000_000  # far above any model; keeps the count inside a 64-bit column
_TRUE, _FALSE = {"1", "on", "true", "yes"}, {"", "0", "off", "false", "no"}


# --- Reading the URL ---------------------------------------------------------------------


def parse_query(params: Mapping[str, str], *, suite: str) -> RankingQuery:
    """The query in ``params`` (request.GET). Raises ValueError with a sentence a visitor can
    act on; the page answers it with 400, never 500."""
    if suite not in SUITES:
        raise ValueError(f"There is no suite “{suite}”. Choose one of: {', '.join(SUITES)}.")
    sort = params.get("sort") or SORT_AVERAGE
    if sort in BENCHMARKS and sort not in SUITES[suite]:
        # The filter form carries the sort; switching suite there must not end on an error.
        sort, params = SORT_AVERAGE, {k: v for k, v in params.items() if k != "order"}
    if sort not in sort_keys(suite):
        raise ValueError(f"Cannot sort by “{sort}”. Sort by one of: {', '.join(sort_keys(suite))}.")
    order = params.get("order") or default_order(sort)
    if order not in ("asc", "desc"):
        raise ValueError(f"The order must be “asc” or “desc”, not “{order}”.")
    min_params, max_params = _billions(params, "min_params"), _billions(params, "max_params")
    if min_params is not None and max_params is not None and min_params > max_params:
        raise ValueError("The smallest parameter count is above the largest.")
    precision = params.get("precision") or ""
    if precision and precision not in Precision.values:
        raise ValueError(
            f"Unknown precision “{precision}”. Choose one of: {', '.join(Precision.values)}."
        )
    licence = (params.get("licence") or "").strip()
    if len(licence) > 100:
        raise ValueError("A licence name has at most 100 characters.")
    return RankingQuery(
        suite=suite,
        search=_search(params),
        columns=known_columns(params, suite=suite)[0],
        min_params=min_params,
        max_params=max_params,
        precision=precision,
        licence=licence,
        hide_flagged=_flag(params, "hide_flagged"),
        hide_not_comparable=_flag(params, "hide_not_comparable"),
        hide_provenance_flagged=_flag(params, "hide_provenance"),
        sort=sort,
        order=order,
        page=_count(params, "page", 1, maximum=None),
        per_page=_count(params, "per_page", DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE),
    )


def _search(params: Mapping[str, str]) -> str:
    text = " ".join((params.get("q") or "").split())
    if "\x00" in text:
        raise ValueError("The search contains a NUL character.")
    if len(text) > MAX_SEARCH:
        raise ValueError(f"Search for at most {MAX_SEARCH} characters of a model's name.")
    return text


def known_columns(params: Mapping[str, str], *, suite: str) -> tuple[tuple[str, ...], list[str]]:
    """The benchmark columns ``cols`` asks for, in the suite's order, and the names it gives
    that are no benchmark of the suite (the page says they were left out; no error: a link
    shared from another suite still opens). ``cols`` is a comma-separated list, or repeated
    (the column chooser's checkboxes)."""
    values = params.getlist("cols") if isinstance(params, QueryDict) else [params.get("cols", "")]
    asked = [key.strip() for value in values for key in (value or "").split(",") if key.strip()]
    unknown = sorted({key for key in asked if key not in SUITES[suite]})
    chosen = tuple(key for key in SUITES[suite] if key in asked)
    return (() if len(chosen) == len(SUITES[suite]) else chosen), unknown  # all: the default


def _billions(params: Mapping[str, str], name: str) -> float | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{name} must be a number of billions of parameters, such as 7 or 0.5, not “{text}”."
        ) from None
    if not math.isfinite(value) or not 0 <= value <= MAX_BILLIONS:
        raise ValueError(
            f"{name} must be a number of billions of parameters from 0 to {MAX_BILLIONS:,}."
        )
    return value


def _count(params: Mapping[str, str], name: str, default: int, *, maximum: int | None) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        bound = f"1 to {maximum}" if maximum is not None else "1 or more"
        raise ValueError(f"{name} must be a whole number from {bound}, not “{text}”.")
    return int(text)


def _flag(params: Mapping[str, str], name: str) -> bool:
    text = (params.get(name) or "").strip().lower()
    if text not in _TRUE | _FALSE:
        raise ValueError(f"{name} must be 1 or 0, not “{text}”.")
    return text in _TRUE


# --- Links that carry the query ---------------------------------------------------------


def query_url(query: RankingQuery, **changes: object) -> str:
    """The query string of ``query`` with ``changes`` (``page=2``), defaults left out."""
    return "?" + urlencode(query.params(**changes))


def data_query(query: RankingQuery) -> str:
    """The filters and sort without the page, as the CSV and the API take them (they page
    with limit and offset, or not at all)."""
    return urlencode(query.params(page=1, per_page=DEFAULT_PER_PAGE, columns=()))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    url: str  # sorts on this column; the active one flips its order
    active: bool
    arrow: str
    benchmark: Benchmark | None = None


@dataclass(frozen=True)
class TableLinks:
    columns: dict[str, Column]  # name, params, average
    benchmark_columns: list[Column]
    first: str
    previous: str
    next: str
    last: str
    clear: str
    data: str  # the filters and sort for the CSV and API links (see ``data_query``)
    unsearched: str  # the same list without the search
    # What the search box and the column chooser carry besides their own field.
    kept_by_search: list[tuple[str, str]]
    kept_by_columns: list[tuple[str, str]]


def table_links(page: RankingPage) -> TableLinks:
    """Every link on the table carries the full filter state, so a shared link shows the same."""
    query = page.query
    return replace(
        _query_links(replace(query, page=1)),
        first=query_url(query, page=1) if page.page > 1 else "",
        previous=query_url(query, page=page.page - 1) if page.page > 1 else "",
        next=query_url(query, page=page.page + 1) if page.page < page.num_pages else "",
        last=query_url(query, page=page.num_pages) if page.page < page.num_pages else "",
    )


@lru_cache(maxsize=256)  # the same on every page of a query: its filters are the visitor's
def _query_links(query: RankingQuery) -> TableLinks:
    """The links of every page of ``query`` but those of the pages themselves."""

    def column(key: str, label: str, benchmark: Benchmark | None = None) -> Column:
        active = query.sort == key
        order = ("asc" if query.descending else "desc") if active else default_order(key)
        arrow = ("▼" if query.descending else "▲") if active else ""
        return Column(
            key, label, query_url(query, sort=key, order=order, page=1), active, arrow, benchmark
        )

    return TableLinks(
        columns={
            SORT_NAME: column(SORT_NAME, "Model"),
            SORT_PARAMS: column(SORT_PARAMS, "Params"),
            SORT_AVERAGE: column(SORT_AVERAGE, "Average"),
        },
        benchmark_columns=[column(b.key, b.display_name, b) for b in shown_benchmarks(query)],
        first="",
        previous="",
        next="",
        last="",
        clear=query_url(RankingQuery(suite=query.suite, columns=query.columns)),
        data=data_query(query),
        unsearched=query_url(query, search="", page=1),
        kept_by_search=list(query.params(search="", page=1).items()),
        kept_by_columns=list(query.params(columns=(), page=1).items()),
    )
