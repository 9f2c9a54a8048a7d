"""The rankings' rows: one page of ranked models, or every row the filters keep.

Everything is read from the ``RankingEntry`` read table (``services.read_models`` keeps it in
step with runs, flags, claims and moderators' decisions): filters, the sort and the page are
SQL (WHERE, ORDER BY, LIMIT/OFFSET); only the shown rows' runs and scores are loaded. A page
costs the same few queries whatever the number of models. Claimed scores never enter a ranking.
The query and its filters live in ``ranking_query``; ranks and sort orders, kept per
generation, in ``standings``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, NamedTuple

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from evaluations.catalogue import Benchmark, suite_benchmarks
from evaluations.models import RankingEntry
from evaluations.prepared import PreparedQuery, id_stand_ins
from evaluations.selectors.ranking_query import (
    BILLION,
    MAX_PER_PAGE,
    RANK_ORDER,
    RankingQuery,
    entry_order,
    kept_entries,
)
from evaluations.selectors.read_models import ANY_PRECISION
from evaluations.selectors.standings import (
    Z_95,
    SortOrder,
    kept_for_generation,
    ordering,
    standings,
)

UNPAGED = 10**9  # every row on one "page": the API and CSV do their own paging


class ShownScore(NamedTuple):
    """A measured score as the read table keeps it: enough for a cell, without its row. A
    named tuple: a page makes hundreds, at a fifth of a frozen dataclass's cost."""

    benchmark: str
    value: float  # raw fraction
    stderr: float | None


@dataclass
class RankedRow:
    """One model: its latest full run of the suite, measured scores, and where it stands. Plain
    values of the read table's row: a page of rows loads no run, commit or repo."""

    hub_id: str
    run_id: int
    commit_sha: str  # of the run ranked here ("" if the run names none)
    precision: str
    parameter_count: int | None
    scores_json: str  # the run's scores as the read table keeps them: see ``scores``
    average: float  # normalised above the random baseline, 0–100
    raw_average: float  # the mean of the raw fractions, for the tooltip
    average_stderr: float  # of ``average``, in normalised points
    rank: int = 0
    tie_group: int = 0  # rows with the same group share a rank
    tied: bool = False
    flagged: bool = False
    severity: str = ""  # the worst open flag's severity
    not_comparable: bool = False  # a current claim no run of ours can settle
    provenance_flagged: bool = False  # a provenance flag stands (re-upload, lineage...)
    verdict: str = ""  # the worst verdict among the repo's current claims; "" = no claims
    entry_id: int = 0  # the read table's row (rewritten, under a new id, whenever it changes)

    @property
    def parameters_label(self) -> str:
        """7.24 B, 494 M: the size as model names say it ("" when unknown)."""
        count = self.parameter_count
        if not count:
            return ""
        for unit, size in (("B", BILLION), ("M", 1_000_000), ("K", 1_000)):
            if count >= size:
                return f"{count / size:.3g} {unit}"
        return str(count)

    @cached_property
    def scores(self) -> dict[str, ShownScore]:
        """The run's scores by benchmark key. Read as the table's JSON text and decoded only
        here: a page whose rows' markup is kept (``leaderboard.row_markup``) never needs them."""
        return {
            key: ShownScore(key, score["value"], score["stderr"])
            for key, score in json.loads(self.scores_json).items()
        }

    @property
    def interval(self) -> tuple[float, float]:
        margin = Z_95 * self.average_stderr
        return self.average - margin, self.average + margin


class Slot(NamedTuple):
    """A place on a page: the read table's entry shown there, its rank, and whether the rank
    is shared. Enough for a row whose markup the site has kept (``leaderboard.row_markup``)."""

    entry_id: int
    rank: int
    tied: bool


@dataclass
class RankingPage:
    query: RankingQuery
    benchmarks: list[Benchmark]  # the columns shown (``shown_benchmarks``)
    slots: list[Slot]  # the page's entries in order, with their ranks
    total: int  # rows after every filter, on all pages
    page: int  # the page shown: an out-of-range page shows the last one
    num_pages: int

    @cached_property
    def rows(self) -> list[RankedRow]:
        """The page's rows, read on first use: a page whose rows' markup is kept shows its
        slots and never reads them."""
        query, per_page = self.query, self.query.per_page
        offset = (self.page - 1) * per_page
        return _ranked_slice(query, ordering(query), offset, per_page)

    @property
    def any_tied(self) -> bool:
        return any(slot.tied for slot in self.slots)

    @property
    def start(self) -> int:
        return (self.page - 1) * self.query.per_page + 1 if self.total else 0

    @property
    def end(self) -> int:
        return self.start + len(self.slots) - 1 if self.slots else 0

    @property
    def clamped(self) -> bool:
        return self.page != self.query.page


def rankings(query: RankingQuery) -> RankingPage:
    """One page of the read table, filtered, sorted and sliced: its entries' places, from
    what is kept per generation; the rows' values are read when ``rows`` is first asked for.
    The same few queries at any number of models."""
    order = ordering(query)
    total = len(order)  # fewer than the ranked entries when a search narrows the list
    num_pages = max(1, math.ceil(total / query.per_page))
    page = min(query.page, num_pages)
    return RankingPage(
        query=query,
        benchmarks=shown_benchmarks(query),
        slots=[Slot(*place) for place in order.window((page - 1) * query.per_page, query.per_page)],
        total=total,
        page=page,
        num_pages=num_pages,
    )


def ranked_slice(query: RankingQuery, *, offset: int, limit: int) -> tuple[list[RankedRow], int]:
    """Rows ``offset`` to ``offset + limit`` in the query's order, and how many there are
    (the API's limit/offset pages)."""
    order = ordering(query)
    return _ranked_slice(query, order, offset, limit), len(order)


def shown_benchmarks(query: RankingQuery) -> list[Benchmark]:
    """The suite's benchmarks the query shows as columns, in the suite's order."""
    benchmarks = suite_benchmarks(query.suite)
    if not query.columns:
        return benchmarks
    return [benchmark for benchmark in benchmarks if benchmark.key in query.columns]


def all_rows(suite: str, *, hide_flagged: bool = False) -> list[RankedRow]:
    """Every ranked row of a suite, best first (small suites and tests; the CSV streams
    ``ranked_entries`` instead)."""
    query = RankingQuery(suite=suite, hide_flagged=hide_flagged, per_page=UNPAGED)
    return ranked_slice(query, offset=0, limit=UNPAGED)[0]


def ranked_entries(query: RankingQuery) -> Iterator[tuple[int, bool, RankingEntry]]:
    """Every entry the query keeps, in its order, with its rank and whether the rank is
    shared: the whole list read once, no runs' score rows loaded (the CSV download). Ranks are
    the page's (``standings``)."""
    places = standings(query)
    ordered = kept_entries(query).order_by(*entry_order(query))
    for entry in ordered.iterator(2000):
        if entry.id not in places:  # the table moved under a cached standing
            places = standings(query, fresh=True)
        rank, tied = places[entry.id]
        yield rank, tied, entry


def licence_choices(suite: str) -> list[str]:
    """The licences of the commits ranked in the suite, for the filter's options (a scan of
    the suite's entries, so kept for the generation like the standings)."""

    def compute() -> list[str]:
        entries = RankingEntry.objects.filter(suite=suite, precision_scope=ANY_PRECISION)
        found = entries.exclude(licence="").values_list("licence", flat=True).distinct()
        return sorted(found, key=str.lower)

    return kept_for_generation(f"licences:{suite}", compute)


def _ranked_slice(
    query: RankingQuery, order: SortOrder, offset: int, limit: int
) -> list[RankedRow]:
    # The page's places first, a slice of the stored order; then only those rows' values.
    places = order.window(offset, limit)
    loaded = _load([entry_id for entry_id, _, _ in places])
    if len(loaded) < len(places):
        # The table moved after the generation was read: read it all again, unstored.
        places = ordering(query, fresh=True).window(offset, limit)
        loaded = _load([entry_id for entry_id, _, _ in places])
    return [
        _row(loaded[entry_id], rank, tied)
        for entry_id, rank, tied in places
        if entry_id in loaded  # an entry rewritten between the two reads: shown next time
    ]


# What a row shows: the read table's own columns, read as plain values (no model instances,
# no joins), in the order ``_row`` takes them; the scores as their JSON text, last.
SHOWN = (
    "id",
    "hub_id",
    "run_id",
    "commit_sha",
    "precision",
    "parameter_count",
    "average",
    "raw_average",
    "average_stderr",
    "flagged",
    "severity",
    "not_comparable",
    "provenance_flagged",
    "verdict",
)
Shown = tuple[Any, ...]  # one row of ``SHOWN``


def _load(ids: list[int]) -> dict[int, Shown]:
    if not ids:
        return {}
    if len(ids) > MAX_PER_PAGE:  # the API's long pages and the CSV: built as usual
        values = list(_shown(RankingEntry.objects.filter(id__in=ids)))
    else:
        values = _page_of(len(ids)).rows(*ids)
    return {row[0]: row for row in values}


@cache
def _page_of(count: int) -> PreparedQuery[Shown]:
    """The read of a page of ``count`` rows, its SQL built once per process for each length
    (25, 50 or 100 rows, and the last page's)."""
    return PreparedQuery(
        lambda *ids: _shown(RankingEntry.objects.filter(id__in=ids)),
        *id_stand_ins(count),
    )


def _shown(entries: QuerySet[RankingEntry]) -> QuerySet[RankingEntry, Shown]:
    return entries.values_list(*SHOWN, Cast("scores", TextField()))


def entry_rows(ids: list[int]) -> list[RankedRow]:
    """The read table's rows of ``ids`` as a page shows them, without their ranks (which
    depend on the page's sort and filters): what the site renders once per entry."""
    return [_row(entry, 0, False) for entry in _load(ids).values()]


def _row(entry: Shown, rank: int, tied: bool) -> RankedRow:
    (entry_id, hub_id, run_id, commit_sha, precision, parameter_count, *rest) = entry
    average, raw_average, average_stderr, flagged, severity, *marks = rest
    not_comparable, provenance_flagged, verdict, scores_json = marks
    return RankedRow(
        hub_id=hub_id,
        run_id=run_id,
        commit_sha=commit_sha,
        precision=precision,
        parameter_count=parameter_count,
        scores_json=scores_json,
        average=average,
        raw_average=raw_average,
        average_stderr=average_stderr,
        rank=rank,
        tie_group=rank,
        tied=tied,
        flagged=flagged,
        severity=severity,
        not_comparable=not_comparable,
        provenance_flagged=provenance_flagged,
        verdict=verdict,
        entry_id=entry_id,
    )


@dataclass(frozen=True)
class SizePoint:
    """A ranked model's size and average: one point of the score-vs-parameters view."""

    hub_id: str
    parameter_count: int
    average: float  # normalised, 0–100
    average_stderr: float
    flagged: bool


def size_points(query: RankingQuery) -> list[SizePoint]:
    """Every model the query's filters (and search) keep whose size is known, in one read of
    the read table's own columns (no runs loaded). Sort and page do not apply: a plot shows
    them all."""
    rows = (
        kept_entries(query)
        .exclude(parameter_count__isnull=True)
        .order_by(*RANK_ORDER)
        .values_list("hub_id", "parameter_count", "average", "average_stderr", "flagged")
    )
    return [
        SizePoint(hub_id, count or 0, average, stderr, flagged)
        for hub_id, count, average, stderr, flagged in rows
    ]
