"""Database writes that outlast a PostgreSQL restart.

A restart breaks every open connection. Django checks a connection again only when a request
or a task starts (``CONN_HEALTH_CHECKS``); a run lasts minutes, so inside it the worker closes
the broken connection itself and tries the write again, for up to ``EVAL_DB_RETRY_SECONDS``,
instead of failing the run. Only connection-level errors are tried again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django import db
from django.conf import settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


def retrying(call: Callable[[], T], what: str) -> T:
    """``call()``, again on a new connection while the database cannot be reached."""
    deadline = time.monotonic() + settings.EVAL_DB_RETRY_SECONDS
    pause = 0.5
    while True:
        try:
            return call()
        except (db.OperationalError, db.InterfaceError) as error:
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("%s: database unreachable (%s); reconnecting", what, error)
            db.connection.close()
            time.sleep(pause)
            pause = min(2 * pause, 5.0)
