"""The site's generation: a number that moves with every change the public pages show.

It is read and moved here only. Services that change what a visitor sees (a run's state or
results, a claim, a flag, a moderator's decision, the rankings' read table) call
``generation_bump``; ``site_generation`` reads it. The generation is the id of the newest
``GenerationBump`` row, kept in the database so that the web and Celery processes of any
deployment (SQLite or PostgreSQL) share it; ``leaderboard.page_cache`` keys pages and ETags on
it, and the rankings keep their standings for one generation.

A bump inserts a row twice. Inside the transaction: it commits together with the change, so
no reader sees the change under the old number, and the transaction's own reads (a test's
requests) see the new one. Again on commit: two transactions can commit out of id order, and
a reader that took the later id before the earlier transaction committed must still be told
that something changed. Inserts take no lock that another transaction waits for, so bumps
never serialise or deadlock the services that call them (an UPDATE of one counter row would
hold that row until commit while flags are recomputed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from evaluations.models import GenerationBump
from evaluations.prepared import PreparedQuery

KEEP = 1000  # rows kept behind the newest; older ones are pruned now and then


@dataclass(frozen=True)
class Generation:
    """The site's generation and when it last moved."""

    value: int
    changed_at: datetime | None


# Inside ``read_once``: a one-item list, empty until the generation is read (None outside).
_read: ContextVar[list[Generation] | None] = ContextVar("site_generation_read", default=None)


# Read on every request: its SQL is built once (see ``evaluations.prepared``).
_NEWEST_BUMP = PreparedQuery(
    lambda: GenerationBump.objects.order_by("-id").values_list("id", "created_at")[:1]
)


def site_generation() -> Generation:
    """The newest bump: one read of the primary key's index, shared by every process. Inside
    ``read_once`` it is read once (until ``read_again``)."""
    read = _read.get()
    if read:
        return read[0]
    rows = _NEWEST_BUMP.rows()
    generation = Generation(*rows[0]) if rows else Generation(0, None)
    if read is not None:
        read[:] = [generation]
    return generation


def read_again() -> None:
    """Inside ``read_once``: the next ``site_generation`` reads the database again (a reader
    that found the rows moved under the generation it read)."""
    read = _read.get()
    if read:
        read.clear()


@contextmanager
def read_once() -> Iterator[None]:
    """Read the generation once for all that runs inside (a request: the page cache's key,
    the standings and the licences then rest on one generation, in one query, not four). A
    bump inside forgets it, so that a request that changes something reads its own change."""
    token = _read.set([])
    try:
        yield
    finally:
        _read.reset(token)


def generation_bump() -> None:
    """Move the generation on now and, inside a transaction, again once it commits."""
    _insert()
    connection = transaction.get_connection()
    waiting = any(callback is _insert for _, callback, _ in connection.run_on_commit)
    if connection.in_atomic_block and not waiting:  # one more row per transaction is enough
        transaction.on_commit(_insert, robust=True)


def _insert() -> None:
    read_again()
    newest = GenerationBump.objects.create()
    if newest.id % KEEP == 0:
        GenerationBump.objects.filter(id__lt=newest.id - KEEP).delete()
