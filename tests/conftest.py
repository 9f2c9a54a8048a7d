"""Shared fixtures. Tests run against the database DATABASE_URL names (PostgreSQL in CI)."""

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from evaluations import dispatch
from evaluations.selectors import standings
from tests.e2e_support import Hub

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


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
    standings.forget_kept()


@pytest.fixture(autouse=True, scope="session")
def static_files_from_their_sources() -> Iterator[None]:
    """Pages name static files unhashed and whitenoise serves them from the source folders.

    The site's manifest storage needs `collectstatic` first, which hashes and compresses
    some 15 MB (gzip alone takes seconds, brotli far longer) before every test run:
    tests/leaderboard/test_static.py does it once, in a folder of its own, and checks what
    the site then serves."""
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, WHITENOISE_USE_FINDERS=True):
        yield


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


@pytest.fixture
def isolated_hub_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A client that can reach only the stand-in hub, with its own cache and no token.

    huggingface_hub reads its settings at import: patch the constant that would make it fetch
    a telemetry list from the default endpoint, and refuse any non-loopback host, so an
    accidental outside request fails the test instead of going out.
    """
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK_HOSTS:
            raise OSError(f"test tried to reach {host!r}: only the stand-in hub is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Transactional tests end by emptying every table with TRUNCATE, which the append-only
    tables refuse unless the session allows it (migration 0015): the test database allows it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {name} SET claimcheck.allow_truncate = 'on'")
    connection.close()  # the next connection starts with the setting


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The stand-in hub on 127.0.0.1 with the demo repos, for the end-to-end tests."""
    from localdev.standin import demo_repos
    from localdev.standin.hub_server import serve_in_thread

    root = tmp_path_factory.mktemp("hub")
    models = tmp_path_factory.mktemp("models")
    shas = demo_repos.publish_demo_hub(root, models)
    server, url = serve_in_thread(root)
    yield Hub(url, server, shas, demo_repos.build_models(models), root)
    server.shutdown()
