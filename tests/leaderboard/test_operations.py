"""The operator's view: /healthz for the load balancer, Prometheus metrics, the staff page of
live workers. Olga operates the site (staff); Sam is signed in but no staff; a scraper holds
the metrics token. A broker or database that is down is a real one: a closed port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import current_app
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from evaluations import dispatch
from leaderboard import health
from tests.factories import finished_run, inspected_run, person, queued_run

pytestmark = pytest.mark.django_db
TOKEN = "scrape-" + "x" * 40


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(current_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    monkeypatch.setitem(current_app.conf, "broker_write_url", None)
    monkeypatch.setitem(current_app.conf, "broker_read_url", None)


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A second connection to the same database, at a port where nothing listens (or, on
    SQLite, in a folder that does not exist)."""
    default = connections["default"]
    settings_dict = dict(default.settings_dict)
    if default.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    else:
        settings_dict.update(NAME="/nonexistent-folder/leaderboard.sqlite3")
    unreachable = type(default)(settings_dict)
    monkeypatch.setattr(health, "connection", unreachable)
    yield
    unreachable.close()


@pytest.fixture
def olga() -> User:
    return User.objects.create_user("olga", password="pw-olga-123", is_staff=True)


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_answers_200_when_the_database_and_the_broker_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_answers_503_naming_the_broker_when_it_is_down(
    client: Client, broker_down: None
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}


def test_healthz_answers_503_naming_the_database_when_it_is_down(
    client: Client, database_down: None
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down", "broker": "ok"}
    assert "Connection refused" not in response.content.decode()  # no internals to the public


def test_healthz_answers_a_probe_by_address_over_plain_http(client: Client, settings: Any) -> None:
    """A load balancer probes the backend by its address: no host check, no HTTPS redirect."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["leaderboard.example.org"]
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert client.get("/", HTTP_HOST="10.0.0.7:8000").status_code == 400  # the rest checks


def test_healthz_takes_no_post(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


# --- /metrics ---------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.parametrize(
    ("who", "authorization", "status", "says"),
    [
        (None, "", 401, "Send Authorization: Bearer <METRICS_TOKEN>, or sign in as staff."),
        ("sam", "", 403, "Only staff, or a scraper with the METRICS_TOKEN, may read metrics."),
        (None, "Bearer not-the-token", 403, "The bearer token is not this site's METRICS_TOKEN."),
    ],
)
def test_metrics_are_refused_in_words_to_anyone_else(
    client: Client, settings: Any, who: str | None, authorization: str, status: int, says: str
) -> None:
    settings.METRICS_TOKEN = TOKEN
    if who:
        client.force_login(person(who))
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == status
    assert response.content.decode().strip() == says
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_without_a_token_set_no_bearer_token_opens_the_metrics(
    client: Client, settings: Any
) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_metrics_count_runs_queues_heartbeats_and_evaluation_time(
    client: Client, settings: Any
) -> None:
    queue = f"depth-{uuid.uuid4().hex[:8]}"  # a queue of this test's own in the broker
    settings.EVAL_WORKER_CLASSES = [{"name": queue, "backend": "hf", "memory_gib": 16}]
    settings.METRICS_TOKEN = TOKEN
    finished_run("demo-org/done")
    inspected_run("demo-org/busy")  # claimed by worker-1, which stamped a heartbeat
    waiting = queued_run("demo-org/waiting")
    for _ in range(2):
        dispatch.send_run(waiting.id, queue)
    try:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    finally:
        _drain(queue)

    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    values = samples(response.content.decode())
    assert values[("claimcheck_runs", (("state", "finished"),))] == 1
    assert values[("claimcheck_runs", (("state", "fetching"),))] == 1
    assert values[("claimcheck_runs", (("state", "queued"),))] == 1
    assert values[("claimcheck_queued_runs", (("queue", queue),))] == 1
    assert values[("claimcheck_oldest_queued_run_age_seconds", (("queue", queue),))] > 0
    assert values[("claimcheck_queue_depth", (("queue", queue),))] == 2
    assert values[("claimcheck_broker_up", ())] == 1
    assert values[("claimcheck_worker_heartbeat_age_seconds", (("worker", "worker-1"),))] >= 0
    arc = ("benchmark", "smoke_arc")
    assert values[("claimcheck_evaluation_seconds_count", (arc,))] == 1
    assert values[("claimcheck_evaluation_seconds_bucket", (arc, ("le", "+Inf")))] == 1
    assert values[("claimcheck_evaluation_seconds_bucket", (arc, ("le", "60.0")))] == 1


def _drain(queue: str) -> None:
    with current_app.connection_for_write() as broker:
        broker.default_channel.queue_purge(queue)


def test_staff_read_the_metrics_with_the_broker_down(
    client: Client, olga: User, broker_down: None
) -> None:
    client.force_login(olga)
    response = client.get("/metrics")
    values = samples(response.content.decode())
    assert response.status_code == 200
    assert values[("claimcheck_broker_up", ())] == 0
    assert not [key for key in values if key[0] == "claimcheck_queue_depth"]


# --- the staff page of live workers ---------------------------------------------------------


def test_staff_see_runs_in_flight_and_queues_linked_from_the_nav(
    client: Client, olga: User
) -> None:
    busy = inspected_run("demo-org/busy")
    client.force_login(olga)
    response = client.get("/operations/workers/")
    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="/runs/{busy.id}/">#{busy.id}</a>' in page and "worker-1" in page
    assert "No worker answered." in page  # no worker runs in this test
    for queue in ("cpu", "gpu-24g", "gpu-80g", "gpu-multi", "housekeeping"):
        assert f"<td>{queue}</td>" in page
    assert 'href="/operations/workers/">Workers</a>' in client.get("/").content.decode()


def test_the_workers_page_says_the_broker_is_down_instead_of_failing(
    client: Client, olga: User, broker_down: None
) -> None:
    busy = inspected_run("demo-org/busy")
    client.force_login(olga)
    response = client.get("/operations/workers/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "The broker cannot be reached" in page
    assert f"#{busy.id}</a>" in page  # the database's view still shows


def test_the_workers_page_is_for_staff_only(client: Client) -> None:
    assert client.get("/operations/workers/").status_code == 302  # to sign in
    client.force_login(person("sam"))
    assert client.get("/operations/workers/").status_code == 403
    assert "/operations/workers/" not in client.get("/").content.decode()


@pytest.mark.e2e
def test_the_workers_page_lists_a_real_worker_that_answers(client: Client, olga: User) -> None:
    from tests.e2e_support import ROOT, database_url

    name = f"ops-{uuid.uuid4().hex[:8]}@test"
    command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--queues"]
    command += [f"idle-{name}", "--hostname", name, "--concurrency", "1", "--without-mingle"]
    env = {**os.environ, "DATABASE_URL": database_url()}
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    client.force_login(olga)
    page, deadline = "", time.monotonic() + 90
    try:
        while f"<td>{name}</td>" not in page:
            assert time.monotonic() < deadline and worker.poll() is None, "it never answered"
            page = client.get("/operations/workers/").content.decode()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    row = page.split(f"<td>{name}</td>")[1].split("</tr>")[0]
    assert "idle" in row  # it answered, running nothing
