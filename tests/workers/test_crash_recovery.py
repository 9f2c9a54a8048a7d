"""A crash never ends a run: a lost worker's run is attempted again, every stage sends a
heartbeat, the evaluation child dies with its worker, and a worker's start sweeps the scratch
folders of runs that are no longer its own."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from evaluations import services
from evaluations.errors import EvaluationError
from evaluations.models import EvaluationRun
from tests.factories import SHA_A, inspected_run
from workers import hub, runner

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _lose_worker(run: EvaluationRun) -> EvaluationRun:
    """The reaper finds the run's worker silent and queues the next attempt."""
    stale = timezone.now() - timedelta(hours=1)
    EvaluationRun.objects.filter(id=run.id).update(heartbeat_at=stale)
    assert services.runs_reap_stale() == [run.id]
    return run.actions.get().new_run


def test_the_run_page_shows_every_attempt_and_why_each_ended(client: Client) -> None:
    first = inspected_run()
    second = _lose_worker(first)
    html = client.get(f"/runs/{second.id}/").content.decode()
    attempts = html[html.index('id="attempts"') :]
    assert f'href="/runs/{first.id}/"' in attempts and f"Run #{second.id}</strong>" in attempts
    assert "eval:infra:worker-lost" in attempts and "presumed lost" in attempts
    assert f"Retried as run #{second.id} by (automatic)" in attempts


def test_a_run_never_retried_shows_no_attempts_list(client: Client) -> None:
    run = inspected_run()
    assert 'id="attempts"' not in client.get(f"/runs/{run.id}/").content.decode()


@pytest.fixture
def standin_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_hub_client: None):
    """A tiny repo on the stand-in hub; yields its commit."""
    from localdev.standin.hub_server import serve_in_thread
    from localdev.standin.repos import publish_repo
    from tests.workers.test_hub import tiny_llama

    sha = publish_repo(tmp_path / "hub", "demo-org/slow", tiny_llama())
    server, url = serve_in_thread(tmp_path / "hub")
    monkeypatch.setenv("HF_ENDPOINT", url)
    yield sha
    server.shutdown()


@pytest.mark.django_db(transaction=True)  # the heartbeat thread has a connection of its own
def test_the_heartbeat_is_stamped_while_the_weights_download(
    monkeypatch: pytest.MonkeyPatch, settings, tmp_path: Path, standin_repo: str
) -> None:
    settings.EVAL_HEARTBEAT_INTERVAL = 0.1
    settings.WORKER_SCRATCH_DIR = tmp_path / "scratch"
    stamps = []

    def slow_download(*args: object, **kwargs: object) -> None:
        for _ in range(3):
            stamps.append(EvaluationRun.objects.values_list("heartbeat_at", flat=True).get())
            time.sleep(0.5)  # five heartbeat intervals
        raise EvaluationError("eval:infra:hub-unreachable", "the download stalled")

    monkeypatch.setattr(hub, "download_repo", slow_download)
    run = services.submission_create(repo_id="demo-org/slow").run
    assert runner.evaluate_run(run.id, worker_name="w", task_id="t") == "eval:infra:hub-unreachable"
    assert stamps[0] < stamps[1] < stamps[2]


def test_a_new_attempt_evaluates_the_commit_of_the_lost_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refs = []

    def inspect_repo(repo_id: str, ref: str, **kwargs: object) -> None:
        refs.append(ref)
        raise EvaluationError("eval:user:gated", "stop here")

    monkeypatch.setattr(hub, "inspect_repo", inspect_repo)
    again = _lose_worker(inspected_run(ref="main", sha=SHA_A))
    runner.evaluate_run(again.id, worker_name="w2", task_id="t2")
    assert refs == [SHA_A]
