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

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from evaluations.models import GenerationBump

KEEP = 1000  # rows kept behind the newest; older ones are pruned now and then


@dataclass(frozen=True)
class Generation:
    """The site's generation and when it last moved."""

    value: int
    changed_at: datetime | None


def site_generation() -> Generation:
    """The newest bump: one read of the primary key's index, shared by every process."""
    row = GenerationBump.objects.order_by("-id").values_list("id", "created_at").first()
    return Generation(*row) if row else Generation(0, None)


def generation_bump() -> None:
    """Move the generation on now and, inside a transaction, again once it commits."""
    _insert()
    connection = transaction.get_connection()
    waiting = any(callback is _insert for _, callback, _ in connection.run_on_commit)
    if connection.in_atomic_block and not waiting:  # one more row per transaction is enough
        transaction.on_commit(_insert, robust=True)


def _insert() -> None:
    newest = GenerationBump.objects.create()
    if newest.id % KEEP == 0:
        GenerationBump.objects.filter(id__lt=newest.id - KEEP).delete()
