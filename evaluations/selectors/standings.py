"""Where each ranked entry stands: its rank by average, whether it shares it (the 95 %
intervals of the averages overlap), and the order of a sort; each kept for one generation
of the site, so that every page and sort order of a set of filters shares one computation."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from django.core.cache import cache

from evaluations import generation
from evaluations.selectors.ranking_query import (
    DEFAULT_PER_PAGE,
    RANK_ORDER,
    SORT_AVERAGE,
    RankingQuery,
    entry_order,
    kept_entries,
)

Kept = TypeVar("Kept")
STANDINGS_SECONDS = 300  # only bounds how long old generations' standings stay stored
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


Places = dict[int, tuple[int, bool]]  # entry id → (rank, whether the rank is shared)


def standings(query: RankingQuery, *, fresh: bool = False) -> Places:
    """Where each entry the query's filters keep stands: its rank by average and whether it
    shares it. The ranks depend on the filters alone, not on the sort or the page, and change
    only when the site's generation moves; so they are worked out once per generation and set
    of filters (one read of every kept row's average) and shared, through the cache, by every
    page and sort order, instead of a window over all rows on every request. A search by
    name narrows the rows shown, not the ranks: a model found keeps the rank it has without it."""

    filters = replace(
        query,
        search="",  # a model found by name keeps its rank in the list
        columns=(),
        sort=SORT_AVERAGE,
        order="desc",
        page=1,
        per_page=DEFAULT_PER_PAGE,
    )

    def compute() -> Places:
        rows = list(
            kept_entries(filters)
            .order_by(*RANK_ORDER)
            .values_list("id", "average", "average_stderr")
        )
        groups = tie_groups([(average, stderr) for _, average, stderr in rows])
        return {entry_id: group for (entry_id, _, _), group in zip(rows, groups, strict=True)}

    return kept_for_generation(f"standings:{filters.key()}", compute, fresh=fresh)


class SortOrder:
    """The entries a query keeps, in its sort order, each with its rank and whether it shares
    it: three packed arrays, not a list and a dict of 10,000 Python objects. A web process
    reads a sort order from the shared cache once per generation; unpickling packed arrays
    is a copy of their bytes (11 µs at 10,000 entries, against 0.18 ms for a list of their
    ids and 1 ms for the standings' dict, which made a worker's first page of each sort
    dearer than the next). A page is a slice of each, and needs no other standings."""

    __slots__ = ("ids", "ranks", "tied")

    def __init__(self, ids: list[int], places: Places) -> None:
        ids = [entry_id for entry_id in ids if entry_id in places]
        self.ids = array("q", ids)
        self.ranks = array("i", (places[entry_id][0] for entry_id in ids))
        self.tied = bytes(places[entry_id][1] for entry_id in ids)

    def __len__(self) -> int:
        return len(self.ids)

    def window(self, offset: int, limit: int) -> list[tuple[int, int, bool]]:
        """(entry id, rank, shared) of the entries ``offset`` to ``offset + limit``."""
        end = offset + limit
        ids, ranks, tied = self.ids[offset:end], self.ranks[offset:end], self.tied[offset:end]
        return list(zip(ids, ranks, map(bool, tied), strict=True))


def ordering(query: RankingQuery, *, fresh: bool = False) -> SortOrder:
    """The entries the filters keep in the asked sort order, with their ranks. Sorting every
    kept row (by a benchmark's value, say) is most of a deep page's cost, and the order moves
    only with the generation: kept per generation, filters and sort, every page is a slice.
    The ranks are the standings' (``standings``): read again, with the order, if the table
    moved after they were kept (an entry is rewritten under a new id); an entry that moves
    between those two reads is left out until the next generation."""

    def read() -> list[int]:
        return list(kept_entries(query).order_by(*entry_order(query)).values_list("id", flat=True))

    def compute() -> SortOrder:
        places, ids = standings(query, fresh=fresh), read()
        if any(entry_id not in places for entry_id in ids):
            places = standings(query, fresh=True)
            ids = read()
        return SortOrder(ids, places)

    order = replace(query, columns=(), page=1, per_page=DEFAULT_PER_PAGE)
    # Not the "ordering:" of the plain lists kept before: a deployment never reads one as this.
    return kept_for_generation(f"sort-order:{order.key()}", compute, fresh=fresh)


# This process's copies of the newest values, by key, so that a page reads its sort order
# (and the process that works one out, the standings) without reading 10,000 entries from the
# cache on every request (most of a deep page's cost at 10,000 models). Bounded: the filters
# in a URL are the visitor's to choose. Callers only read the values they are handed.
_IN_PROCESS: dict[str, Any] = {}
IN_PROCESS_MAX = 32  # the default filters' standings, licences and every sort, both ways


def kept_for_generation(name: str, compute: Callable[[], Kept], *, fresh: bool = False) -> Kept:
    """``compute()``, kept in the cache under ``name`` until the site's generation moves (every
    change to the read table moves it). ``fresh`` reads the generation and computes again,
    and keeps the new value."""
    if fresh:
        generation.read_again()
    key = f"{name}:{generation.site_generation().value}"
    if not fresh and key in _IN_PROCESS:
        kept: Kept = _IN_PROCESS[key]
        return kept
    value: Kept | None = None if fresh else cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=STANDINGS_SECONDS)
    _keep_in_process(key, value)
    return value


def _keep_in_process(key: str, value: object) -> None:
    current = key.rsplit(":", 1)[1]
    for old in [k for k in _IN_PROCESS if k.rsplit(":", 1)[1] != current]:
        del _IN_PROCESS[old]  # an older generation's: never read again
    _IN_PROCESS.pop(key, None)
    while len(_IN_PROCESS) >= IN_PROCESS_MAX:
        del _IN_PROCESS[next(iter(_IN_PROCESS))]  # the oldest first
    _IN_PROCESS[key] = value


def forget_kept() -> None:
    """Empty this process's copies (tests, whose databases all start at generation 0)."""
    _IN_PROCESS.clear()


def _interval(average: float, stderr: float) -> tuple[float, float]:
    return average - Z_95 * stderr, average + Z_95 * stderr


def tie_groups(intervals: list[tuple[float, float]]) -> list[tuple[int, bool]]:
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
