"""Each rankings row's markup, rendered once, when its read-table entry is written.

A rankings page is a few cheap reads and fifty rows of markup; the markup was most of an
uncached page's time (score cells with their intervals and bars, links, badges, ~80 µs a
row). Everything in a row but its rank comes from the entry alone, and an entry is never
updated: each change to what the rankings show writes a new entry under a new id
(``evaluations.services.read_models``, which sends ``ranking_entries_written``). So the row is
rendered once, in the transaction that writes its entry, and kept against the entry's id
(``RankingRowMarkup``) as one string, a score cell for each benchmark of the suite in its
order (their bounds beside it): a page that shows every column puts each row's rank before
it, one that shows some of them cuts their cells out.

Kept markup carries a version: a digest of the code that renders it and the script prefix its
links start with. A page renders anew, as before, every row whose markup is missing (entries
written before this table) or of another version (a deployment that changed the markup), and
``migrate`` renders those rows again once it has run (``refresh_stale``, on Django's
``post_migrate``), so a deployment keeps its pages' speed.
"""

from __future__ import annotations

import hashlib
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import get_script_prefix

from evaluations import catalogue
from evaluations.catalogue import suite_benchmarks
from evaluations.models import RankingEntry
from evaluations.prepared import NAME_STAND_IN, PreparedQuery, id_stand_ins
from evaluations.selectors import rankings
from evaluations.selectors.ranking_query import MAX_PER_PAGE
from leaderboard.models import RankingRowMarkup
from leaderboard.templatetags import intervals, rankings_table, scores

CHUNK = 1000  # entries rendered and written per round (a rebuild writes them all)


def store(*, entry_ids: list[int], **_signal: Any) -> None:
    """Render the entries' rows and keep them (``ranking_entries_written``'s receiver)."""
    version = markup_version()
    for first in range(0, len(entry_ids), CHUNK):
        chunk = entry_ids[first : first + CHUNK]
        suites = dict(RankingEntry.objects.filter(id__in=chunk).values_list("id", "suite"))
        kept = []
        for row in rankings.entry_rows(chunk):
            cells, bounds = _joined_cells(row, _suite_keys(suites[row.entry_id]))
            kept.append(
                RankingRowMarkup(entry_id=row.entry_id, version=version, cells=cells, bounds=bounds)
            )
        RankingRowMarkup.objects.bulk_create(kept, batch_size=500)


def _joined_cells(row: rankings.RankedRow, keys: tuple[str, ...]) -> tuple[str, str]:
    """The row's cells in one string, a score cell for each of ``keys``, and their bounds."""
    parts = rankings_table.row_parts(row, keys)
    ends = list(accumulate(len(part) for part in parts[:-1]))
    return "".join(parts), ",".join(map(str, ends))


def refresh_stale(**_signal: Any) -> int:
    """Render again the row of every entry whose markup is missing or of another version;
    returns how many (``post_migrate``'s receiver: nothing to do but one query, usually)."""
    if not _migrated():
        return 0  # migrated backwards, past this code's table
    with transaction.atomic():
        RankingRowMarkup.objects.exclude(version=markup_version()).delete()
        kept = Exists(RankingRowMarkup.objects.filter(entry_id=OuterRef("id")))  # an anti-join
        missing = list(RankingEntry.objects.filter(~kept).values_list("id", flat=True))
        store(entry_ids=missing)
    return len(missing)


def _migrated() -> bool:
    table = RankingRowMarkup._meta.db_table
    if table not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, table)
    return {field.column for field in RankingRowMarkup._meta.fields} <= {c.name for c in columns}


def stored(entry_ids: list[int], *, suite: str, keys: list[str]) -> dict[int, str]:
    """The kept cells (all but the rank) of those of the entries whose markup this code
    wrote, with a score cell for each of ``keys``, benchmarks of ``suite`` in its order."""
    if not entry_ids or len(entry_ids) > MAX_PER_PAGE:
        return {}  # a page has no more rows: one prepared read is kept per page length
    rows = _read(markup_version(), entry_ids)
    every = _suite_keys(suite)
    if tuple(keys) == every:
        return {entry_id: cells for entry_id, cells, _ in rows}
    places = [every.index(key) for key in keys]
    return {entry_id: _cut(cells, bounds, places) for entry_id, cells, bounds in rows}


def _cut(cells: str, bounds: str, places: list[int]) -> str:
    """The head, the score cells at ``places`` (in the suite's order) and the tail."""
    ends = [int(end) for end in bounds.split(",")]
    scores = "".join(cells[ends[place] : ends[place + 1]] for place in places)
    return f"{cells[: ends[0]]}{scores}{cells[ends[-1] :]}"


@cache
def _suite_keys(suite: str) -> tuple[str, ...]:
    return tuple(benchmark.key for benchmark in suite_benchmarks(suite))


def _read(version: str, entry_ids: list[int]) -> list[tuple[Any, ...]]:
    """(entry id, cells, bounds) of those of the entries kept with ``version``. On PostgreSQL
    the ids are one array parameter: psycopg parses again, on every call, a query of more
    than 50 parameters (a page's 50 ids and the version), which cost a tenth of the read."""
    if connection.vendor != "postgresql":
        return _page_of(len(entry_ids)).rows(version, *entry_ids)
    with connection.cursor() as cursor:
        cursor.execute(_READ_SQL, [version, entry_ids])
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


_READ_SQL = (  # RankingRowMarkup's table and columns
    "SELECT entry_id, cells, bounds FROM leaderboard_rankingrowmarkup "
    "WHERE version = %s AND entry_id = ANY(%s)"
)


@cache
def _page_of(count: int) -> PreparedQuery[tuple[Any, ...]]:
    """A page's read of ``count`` rows, its SQL built once per process for each length."""
    return PreparedQuery(
        lambda version, *ids: RankingRowMarkup.objects.filter(
            version=version, entry_id__in=ids
        ).values_list("entry_id", "cells", "bounds"),
        NAME_STAND_IN,
        *id_stand_ins(count),
    )


def markup_version() -> str:
    """The digest of the modules that render a row (with the row's own labels, made in the
    selector) and the URLs its links follow, with the script prefix in front of those links
    (a site served under a path renders its own)."""
    return _version(get_script_prefix())


@cache
def _version(prefix: str) -> str:
    digest = hashlib.sha256(prefix.encode())
    for module in (rankings_table, scores, intervals, rankings, catalogue):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update((Path(__file__).parent / "urls.py").read_bytes())
    return digest.hexdigest()[:32]
