"""What the end-to-end tests share: the stand-in hub, a real Celery worker process, submitting
through the form and waiting for the run's end, and reading the scores a page shows."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client

from evaluations.models import EvaluationRun
from tests.factories import person

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 300


@dataclass
class Hub:
    url: str
    server: object
    shas: dict[str, str]
    model_dirs: dict[str, Path]
    root: Path


def database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{db['NAME']}"


@contextlib.contextmanager
def celery_worker(
    hub: Hub, log_dir: Path, *, queue: str, name: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the test database and the test broker, taking runs
    from ``queue``; ``env`` adds to (or overrides) the test process's environment."""
    assert connection.vendor == "postgresql", "the end-to-end test runs on PostgreSQL"
    broker = os.environ.get("REDIS_URL", "")
    assert broker.startswith("redis://"), "the end-to-end test runs on Redis (REDIS_URL)"
    import redis

    redis.Redis.from_url(broker).flushdb()  # no message left over from an earlier run
    log_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker,
        "HF_ENDPOINT": hub.url,
        "LEADERBOARD_VAR_DIR": str(settings.VAR_DIR),
        "HF_HOME": str(log_dir / "hf-home"),
        **(env or {}),
    }
    with (log_dir / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "leaderboard",
                "worker",
                "--queues",
                queue,
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def sign_in_author(client: Client) -> Client:
    """Signed in as an author: the hub says Ada belongs to both organisations of the demo."""
    client.force_login(person("ada", hub="ada", orgs=("demo-org", "other-lab")))
    return client


def submit(client: Client, repo_id: str, ref: str = "main", **claims: str) -> EvaluationRun:
    """Submit through the form, as an author does; the run it made."""
    response = client.post(
        "/submit/",
        {"repo_id": repo_id, "ref": ref, "suite": "smoke", "precision": "auto", **claims},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/runs/(\d+)/", response["Location"])
    assert match, response["Location"]
    return EvaluationRun.objects.get(id=int(match.group(1)))


def wait_until_final(run: EvaluationRun, worker: subprocess.Popen[bytes]) -> EvaluationRun:
    """The run once it ended, with ``seen_states``: the states it was seen in, in order."""
    deadline = time.monotonic() + WAIT_SECONDS
    seen_states: list[str] = []
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not seen_states or seen_states[-1] != run.state:
            seen_states.append(run.state)
        if run.is_final:
            run.seen_states = seen_states
            return run
        assert worker.poll() is None, "the worker process died"
        time.sleep(0.2)
    raise AssertionError(f"run {run.id} still {run.state} after {WAIT_SECONDS} s")


def page_scores(html: str) -> dict[str, tuple[float, str]]:
    """Benchmark → (value, stderr) as a model page's score cells carry them."""
    cells = re.findall(r'data-benchmark="([^"]+)" data-value="([^"]+)" data-stderr="([^"]+)"', html)
    return {benchmark: (float(value), stderr) for benchmark, value, stderr in cells}
