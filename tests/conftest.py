"""Shared fixtures. Tests run against the database DATABASE_URL names (PostgreSQL in CI)."""

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from evaluations import dispatch


@pytest.fixture(autouse=True)
def empty_page_cache() -> Iterator[None]:
    """Each test's database starts at generation 0 again: pages cached by the previous
    test under that number must not leak into this one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are queued on commit; unit tests keep the message instead of sending it."""
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Rate-limit counters and cached pages live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
