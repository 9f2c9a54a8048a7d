"""The rankings page's read: filters, sort, rank ties and pagination over measured scores.

Everything is read from the ``RankingEntry`` read table (``services.read_models`` keeps it in
step with runs, flags, claims and moderators' decisions): filters, the sort and the page are
SQL (WHERE, ORDER BY, LIMIT/OFFSET); only the shown rows' runs and scores are loaded. A page
costs the same few queries whatever the number of models. Claimed scores never enter a ranking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import F, FloatField, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Lower

from evaluations import generation
from evaluations.catalogue import SUITES, Benchmark, suite_benchmarks
from evaluations.models import (
    EvaluationRun,
    ModelRepo,
    RankingEntry,
    Revision,
)
from evaluations.services.read_models import (  # noqa: F401 - shared names, read from here too
    ANY_PRECISION,
    SEVERITIES,
)

SORT_AVERAGE, SORT_NAME, SORT_PARAMS = "average", "name", "params"
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 100
Kept = TypeVar("Kept")
STANDINGS_SECONDS = 300  # only bounds how long old generations' standings stay stored
UNPAGED = 10**9  # every row on one "page": the API and CSV do their own paging
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile
BILLION = 1_000_000_000


# --- What the visitor asked for ------------------------------------------------------------


def default_order(sort: str) -> str:
    """Names read A→Z; every number reads best (or biggest) first."""
    return "asc" if sort == SORT_NAME else "desc"


@dataclass(frozen=True)
class RankingQuery:
    """Every filter, the sort and the page: all of it lives in the URL so a view can be shared."""

    suite: str
    min_params: float | None = None  # billions of parameters
    max_params: float | None = None
    precision: str = ""
    licence: str = ""
    hide_flagged: bool = False
    hide_not_comparable: bool = False
    sort: str = SORT_AVERAGE
    order: str = "desc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    @property
    def filtered(self) -> bool:
        """Whether a filter (not the suite, sort or page) narrows the list."""
        return any(
            (
                self.min_params is not None,
                self.max_params is not None,
                self.precision,
                self.licence,
                self.hide_flagged,
                self.hide_not_comparable,
            )
        )

    def params(self, **changes: object) -> dict[str, str]:
        """The query string's values (with ``changes``), defaults left out so shared links
        stay short."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        values = {
            "suite": query.suite,
            "min_params": "" if query.min_params is None else f"{query.min_params:g}",
            "max_params": "" if query.max_params is None else f"{query.max_params:g}",
            "precision": query.precision,
            "licence": query.licence,
            "hide_flagged": "1" if query.hide_flagged else "",
            "hide_not_comparable": "1" if query.hide_not_comparable else "",
            "sort": "" if query.sort == SORT_AVERAGE else query.sort,
            "order": "" if query.order == default_order(query.sort) else query.order,
            "page": "" if query.page == 1 else str(query.page),
            "per_page": "" if query.per_page == DEFAULT_PER_PAGE else str(query.per_page),
        }
        return {key: value for key, value in values.items() if value}

    def key(self) -> str:
        """The query in one line (its values, encoded as in a URL): its name in caches."""
        return urlencode(self.params())


def sort_keys(suite: str) -> tuple[str, ...]:
    return (SORT_AVERAGE, SORT_NAME, SORT_PARAMS, *SUITES[suite])


# --- The rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownScore:
    """A measured score as the read table keeps it: enough for a cell, without its row."""

    benchmark: str
    value: float  # raw fraction
    stderr: float | None


@dataclass
class RankedRow:
    """One model: its latest full run of the suite, measured scores, and where it stands."""

    repo: ModelRepo
    run: EvaluationRun
    scores: dict[str, ShownScore]  # the run's scores, from the read table
    average: float  # normalised above the random baseline, 0–100
    raw_average: float  # the mean of the raw fractions, for the tooltip
    average_stderr: float  # of ``average``, in normalised points
    rank: int = 0
    tie_group: int = 0  # rows with the same group share a rank
    tied: bool = False
    flagged: bool = False
    severity: str = ""  # the worst open flag's severity
    not_comparable: bool = False  # a current claim no run of ours can settle
    verdict: str = ""  # the worst verdict among the repo's current claims; "" = no claims

    @property
    def revision(self) -> Revision | None:
        return self.run.revision

    @property
    def parameter_count(self) -> int | None:
        return self.run.revision.parameter_count if self.run.revision else None

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

    @property
    def interval(self) -> tuple[float, float]:
        margin = Z_95 * self.average_stderr
        return self.average - margin, self.average + margin


@dataclass
class RankingPage:
    query: RankingQuery
    benchmarks: list[Benchmark]
    rows: list[RankedRow]
    total: int  # rows after every filter, on all pages
    page: int  # the page shown: an out-of-range page shows the last one
    num_pages: int
    any_tied: bool = False

    @property
    def start(self) -> int:
        return (self.page - 1) * self.query.per_page + 1 if self.total else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    @property
    def clamped(self) -> bool:
        return self.page != self.query.page


def rankings(query: RankingQuery) -> RankingPage:
    """One page of the read table, filtered, sorted and sliced in SQL; then that page's runs
    and scores. The same few queries at any number of models."""
    places = standings(query)
    total = len(places)
    num_pages = max(1, math.ceil(total / query.per_page))
    page = min(query.page, num_pages)
    rows = _ranked_slice(query, places, (page - 1) * query.per_page, query.per_page)
    return RankingPage(
        query=query,
        benchmarks=suite_benchmarks(query.suite),
        rows=rows,
        total=total,
        page=page,
        num_pages=num_pages,
        any_tied=any(row.tied for row in rows),
    )


def ranked_slice(query: RankingQuery, *, offset: int, limit: int) -> tuple[list[RankedRow], int]:
    """Rows ``offset`` to ``offset + limit`` in the query's order, and how many there are
    (the API's limit/offset pages)."""
    places = standings(query)
    return _ranked_slice(query, places, offset, limit), len(places)


Places = dict[int, tuple[int, bool]]  # entry id → (rank, whether the rank is shared)


def standings(query: RankingQuery, *, fresh: bool = False) -> Places:
    """Where each entry the query's filters keep stands: its rank by average and whether it
    shares it. The ranks depend on the filters alone, not on the sort or the page, and change
    only when the site's generation moves; so they are worked out once per generation and set
    of filters (one read of every kept row's average) and shared, through the cache, by every
    page and sort order, instead of a window over all rows on every request."""

    def compute() -> Places:
        rows = list(
            _entries(query).order_by(*_RANK_ORDER).values_list("id", "average", "average_stderr")
        )
        groups = _tie_groups([(average, stderr) for _, average, stderr in rows])
        return {entry_id: group for (entry_id, _, _), group in zip(rows, groups, strict=True)}

    filters = replace(query, sort=SORT_AVERAGE, order="desc", page=1, per_page=DEFAULT_PER_PAGE)
    return _kept_for_generation(f"standings:{filters.key()}", compute, fresh=fresh)


def ordering(query: RankingQuery, *, fresh: bool = False) -> list[int]:
    """The ids of the entries the filters keep, in the asked sort order. Sorting every kept
    row (by a benchmark's value, say) is most of a deep page's cost, and the order moves only
    with the generation: kept per generation, filters and sort, every page is a slice."""

    def compute() -> list[int]:
        return list(_entries(query).order_by(*_order(query)).values_list("id", flat=True))

    order = replace(query, page=1, per_page=DEFAULT_PER_PAGE)
    return _kept_for_generation(f"ordering:{order.key()}", compute, fresh=fresh)


def _kept_for_generation(name: str, compute: Callable[[], Kept], *, fresh: bool = False) -> Kept:
    """``compute()``, kept in the cache under ``name`` until the site's generation moves (every
    change to the read table moves it). ``fresh`` computes again and keeps the new value."""
    key = f"{name}:{generation.site_generation().value}"
    value: Kept | None = None if fresh else cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=STANDINGS_SECONDS)
    return value


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
    ordered = _entries(query).select_related("run__revision").order_by(*_order(query))
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

    return _kept_for_generation(f"licences:{suite}", compute)


_RANK_ORDER = (F("average").desc(), "hub_id")


def _entries(query: RankingQuery) -> QuerySet[RankingEntry]:
    """The entries every filter keeps (a model whose size is unknown is left out once a size
    range is asked for: it cannot be said to lie inside it). Hidden models never rank."""
    entries = RankingEntry.objects.filter(
        suite=query.suite, precision_scope=query.precision, hidden=False
    )
    if query.min_params is not None:
        entries = entries.filter(parameter_count__gte=query.min_params * BILLION)
    if query.max_params is not None:
        entries = entries.filter(parameter_count__lte=query.max_params * BILLION)
    if query.licence:
        entries = entries.filter(licence__iexact=query.licence)
    if query.hide_flagged:
        entries = entries.filter(flagged=False)
    if query.hide_not_comparable:
        entries = entries.filter(not_comparable=False)
    return entries


def _order(query: RankingQuery) -> list[Any]:
    """The asked column; rows without a value go last either way, equal values A→Z. Best
    first is the rank's own order, which the table's main index serves."""
    by_name = Lower("hub_id")
    if query.sort == SORT_NAME:
        return [by_name.desc() if query.descending else by_name.asc(), "hub_id"]
    if query.sort == SORT_AVERAGE:
        return list(_RANK_ORDER) if query.descending else [F("average").asc(), "hub_id"]
    if query.sort == SORT_PARAMS:
        value: Any = F("parameter_count")
    else:
        value = Cast(KT(f"scores__{query.sort}__value"), FloatField())
    column = value.desc(nulls_last=True) if query.descending else value.asc(nulls_last=True)
    return [column, by_name, "hub_id"]


def _ranked_slice(query: RankingQuery, places: Places, offset: int, limit: int) -> list[RankedRow]:
    # The page's ids first, a slice of the stored order; then only those rows with their runs.
    ids = ordering(query)[offset : offset + limit]
    loaded = _load(ids)
    if len(loaded) < len(ids) or any(entry_id not in places for entry_id in ids):
        # The table moved after the generation was read: read it all again, unstored.
        places = standings(query, fresh=True)
        ids = ordering(query, fresh=True)[offset : offset + limit]
        loaded = _load(ids)
    return [_row(loaded[entry_id], *places[entry_id]) for entry_id in ids]


def _load(ids: list[int]) -> dict[int, RankingEntry]:
    return RankingEntry.objects.select_related("run__submission__repo", "run__revision").in_bulk(
        ids
    )


def _row(entry: RankingEntry, rank: int, tied: bool) -> RankedRow:
    run = entry.run
    return RankedRow(
        repo=run.submission.repo,
        run=run,
        scores={
            key: ShownScore(key, score["value"], score["stderr"])
            for key, score in entry.scores.items()
        },
        average=entry.average,
        raw_average=entry.raw_average,
        average_stderr=entry.average_stderr,
        rank=rank,
        tie_group=rank,
        tied=tied,
        flagged=entry.flagged,
        severity=entry.severity,
        not_comparable=entry.not_comparable,
        verdict=entry.verdict,
    )


def _interval(average: float, stderr: float) -> tuple[float, float]:
    return average - Z_95 * stderr, average + Z_95 * stderr


def _tie_groups(intervals: list[tuple[float, float]]) -> list[tuple[int, bool]]:
    """(rank, tied) per position, best first. A row whose 95 % interval overlaps that of the
    first row of the group above joins that group and shares its rank. Comparing with the
    group's first row, not merely with the neighbour, keeps a chain of small steps from tying
    models the measurements clearly tell apart."""
    groups: list[list[int]] = []
    leader_low = 0.0
    for position, (average, stderr) in enumerate(intervals, start=1):
        low, high = _interval(average, stderr)
        if groups and high >= leader_low:
            groups[-1].append(position)
        else:
            groups.append([position])
            leader_low = low
    result: list[tuple[int, bool]] = []
    for group in groups:
        result += [(group[0], len(group) > 1)] * len(group)
    return result
