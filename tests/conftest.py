"""Shared fixtures. Tests run against the database DATABASE_URL names (PostgreSQL in CI)."""

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from evaluations import dispatch


def clear_caches() -> None:
    """Empty every cache. The shared Redis one loses only its own keys (its prefix): the
    Celery broker of the end-to-end tests may use the same Redis database."""
    for backend in caches.all():
        if isinstance(backend, RedisCache):
            client = backend._cache.get_client(write=True)
            keys = list(client.scan_iter(match=backend.make_key("*")))
            if keys:
                client.delete(*keys)
        else:
            backend.clear()


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    """Each test's database starts at generation 0 again: pages cached by the previous test
    under that number must not leak into this one. Sign-in rate-limit counters start at zero."""
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are queued on commit; unit tests keep the message instead of sending it."""
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)
