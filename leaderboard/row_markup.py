"""Each rankings row's markup, rendered once, when its read-table entry is written.

A rankings page is a few cheap reads and fifty rows of markup; the markup was most of an
uncached page's time (score cells with their intervals and bars, links, badges, ~80 µs a
row). Everything in a row but its rank comes from the entry alone, and an entry is never
updated: each change to what the rankings show writes a new entry under a new id
(``evaluations.services.read_models``, which sends ``ranking_entries_written``). So the row is
rendered once, in the transaction that writes its entry, and kept against the entry's id
(``RankingRowMarkup``); the page joins the kept cells and adds each row's rank.

Kept markup carries a version: a digest of the code that renders it and the script prefix its
links start with. A page renders anew, as before, every row whose markup is missing (entries
written before this table) or of another version (a deployment that changed the markup), and
``migrate`` renders those rows again once it has run (``refresh_stale``, on Django's
``post_migrate``), so a deployment keeps its pages' speed.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import get_script_prefix

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
        rows = rankings.entry_rows(entry_ids[first : first + CHUNK])
        RankingRowMarkup.objects.bulk_create(
            [
                RankingRowMarkup(
                    entry_id=row.entry_id,
                    version=version,
                    head=cells.head,
                    scores=_packed(cells.scores),
                    tail=cells.tail,
                )
                for row in rows
                for cells in [rankings_table.row_cells(row)]
            ],
            batch_size=500,
        )


def refresh_stale(**_signal: Any) -> int:
    """Render again the row of every entry whose markup is missing or of another version;
    returns how many (``post_migrate``'s receiver: nothing to do but one query, usually)."""
    tables = connection.introspection.table_names()
    if RankingRowMarkup._meta.db_table not in tables or RankingEntry._meta.db_table not in tables:
        return 0  # migrated backwards, past this table
    with transaction.atomic():
        RankingRowMarkup.objects.exclude(version=markup_version()).delete()
        kept = Exists(RankingRowMarkup.objects.filter(entry_id=OuterRef("id")))  # an anti-join
        missing = list(RankingEntry.objects.filter(~kept).values_list("id", flat=True))
        store(entry_ids=missing)
    return len(missing)


def stored(entry_ids: list[int]) -> dict[int, rankings_table.RowCells]:
    """The kept cells of those of the entries whose markup this code wrote."""
    if not entry_ids or len(entry_ids) > MAX_PER_PAGE:
        return {}  # a page has no more rows: one prepared read is kept per page length
    rows = _page_of(len(entry_ids)).rows(markup_version(), *entry_ids)
    return {
        entry_id: rankings_table.RowCells(head, _unpacked(scores), tail)
        for entry_id, head, scores, tail in rows
    }


KEY_END, CELL_END = "\x1f", "\x1e"  # the ASCII unit and record separators: in no cell


def _packed(cells: dict[str, str]) -> str:
    return CELL_END.join(f"{key}{KEY_END}{cell}" for key, cell in cells.items())


def _unpacked(packed: str) -> dict[str, str]:
    return dict(pair.split(KEY_END, 1) for pair in packed.split(CELL_END)) if packed else {}


@cache
def _page_of(count: int) -> PreparedQuery[tuple[Any, ...]]:
    """A page's read of ``count`` rows, its SQL built once per process for each length."""
    return PreparedQuery(
        lambda version, *ids: RankingRowMarkup.objects.filter(
            version=version, entry_id__in=ids
        ).values_list("entry_id", "head", "scores", "tail"),
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
    for module in (rankings_table, scores, intervals, rankings):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update((Path(__file__).parent / "urls.py").read_bytes())
    return digest.hexdigest()[:32]
