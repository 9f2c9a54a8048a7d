"""A thread that stamps the run's heartbeat in every stage the worker is on it.

While lm-eval runs, the child's watcher also stamps progress once a second; this thread
covers the rest too: resolving the ref, downloading the weights (minutes for a large
model), recording. A healthy slow download is thus never taken for a lost worker. It stops
when the worker is done, or once the run is no longer in flight (cancelled, reaped).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django import db

from evaluations import services

logger = logging.getLogger(__name__)


@contextmanager
def beating(run_id: int, interval: float) -> Iterator[None]:
    """Stamp ``run_id``'s heartbeat every ``interval`` seconds while the block runs."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(run_id, interval, stop), name=f"heartbeat-run-{run_id}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 10)


def _beat(run_id: int, interval: float, stop: threading.Event) -> None:
    try:
        while not stop.wait(interval):
            if not stamp(run_id):
                return  # no longer in flight: nothing left to keep alive
    finally:
        db.connections.close_all()  # this thread's own connection


def stamp(run_id: int, done: int | None = None, total: int | None = None) -> bool:
    """Stamp the heartbeat (and progress); False once the run is no longer in flight. A
    database hiccup (a PostgreSQL restart) is not the end of the run: the broken connection is
    closed, the next beat reconnects, and only a long silence lets the reaper end it."""
    try:
        return services.run_heartbeat(run_id=run_id, done=done, total=total)
    except db.Error as error:
        logger.warning("run %s: heartbeat not stamped (%s), trying again", run_id, error)
        db.connection.close()  # this thread's
        return True
