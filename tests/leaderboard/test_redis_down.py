"""With Redis down the site keeps answering: the cache falls back to process memory, sign-in
and /submit/ work, and a submission whose message the broker refused is sent by the requeue's
next pass, oldest first. (tests/workers/test_faults.py stops a real Redis.)"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client, override_settings
from kombu.exceptions import OperationalError

from evaluations import dispatch, services
from evaluations.models import EvaluationRun
from localdev.faults import free_port
from tests.factories import person

pytestmark = pytest.mark.django_db

DEAD_REDIS = {
    "BACKEND": "leaderboard.cache.FallbackRedisCache",
    "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}
REDIS_DOWN = override_settings(
    CACHES={
        "default": DEAD_REDIS,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
)


@REDIS_DOWN
def test_the_cache_answers_from_memory_while_redis_is_down() -> None:
    cache = caches["default"]
    cache.set("standings", [1, 2], 60)
    assert cache.add("lock", True, 5) and not cache.add("lock", True, 5)
    assert cache.get("standings") == [1, 2] and cache.get_many(["standings"]) == {
        "standings": [1, 2]
    }
    cache.set("count", 1)
    assert cache.incr("count") == 2


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    def refuse(run_id: int, queue: str) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(dispatch, "send_run", refuse)
    return []


@REDIS_DOWN
def test_pages_sign_in_and_submit_answer_with_redis_and_the_broker_down(
    client: Client, broker_down: list[int], django_capture_on_commit_callbacks, monkeypatch
) -> None:
    assert client.get("/").status_code == 200
    get_user_model().objects.create_user("grace", "grace@example.org", "a long passphrase 42")
    signed_in = client.post(
        "/accounts/login/", {"login": "grace", "password": "a long passphrase 42"}
    )
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session

    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/submit/",
            {"repo_id": "demo-org/tiny", "ref": "main", "suite": "smoke", "precision": "auto"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    run_id = int(re.search(r"/runs/(\d+)/", response["Location"]).group(1))
    run = EvaluationRun.objects.get(id=run_id)
    assert run.state == "queued" and run.enqueued_at is None  # committed, not yet sent

    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: sent.append((run_id, queue)))
    assert services.runs_requeue_stalled() == [run_id]  # the next pass, not 10 minutes later
    assert sent == [(run_id, "cpu")]
    run.refresh_from_db()
    assert run.enqueued_at is not None


def test_the_sites_redis_cache_is_the_one_that_falls_back() -> None:
    from django.conf import settings

    if settings.CACHES["default"].get("LOCATION", "").startswith("redis://"):
        assert settings.CACHES["default"]["BACKEND"] == DEAD_REDIS["BACKEND"]


def test_the_redis_cache_makes_one_client_per_pool() -> None:
    from django.conf import settings

    if not settings.CACHES["default"].get("LOCATION", "").startswith("redis://"):
        pytest.skip("the tests run with a memory cache")
    client = caches["default"]._cache
    assert client.get_client() is client.get_client(write=True)  # one server, one pool
    caches["default"].set("one-client", [1], 10)
    assert caches["default"].get("one-client") == [1]
