"""A crash never ends a run: a lost worker's run is attempted again, every stage sends a
heartbeat, the evaluation child dies with its worker, and a worker's start sweeps the scratch
folders of runs that are no longer its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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
from workers import hub, runner, scratch

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


ROOT = Path(__file__).resolve().parent.parent.parent
# A worker in miniature: it starts the real evaluation child the way the runner does.
WORKER_SCRIPT = """
import json, sys
from pathlib import Path
from workers.child import run_child
run_child(json.loads(sys.argv[1]), Path(sys.argv[2]), lambda done, total: True)
"""
SPEC = {
    "backend": "hf",
    "model_dir": "/nonexistent/model",
    "commit_sha": SHA_A,
    "dtype": "float32",
    "device": "cpu",
    "tasks": [{"task": "smoke_arc", "shots": 0}],
}


def _child_of(spec_path: Path) -> int | None:
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"workers.evaluate_child" in command and str(spec_path).encode() in command:
            return int(entry.name)
    return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie waits for init to reap it: it no longer runs


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_evaluation_child_dies_with_its_worker_even_by_sigkill(tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, json.dumps(SPEC), str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    child = None
    try:
        deadline = time.monotonic() + 30
        while (child := _child_of(tmp_path / "spec.json")) is None:
            assert time.monotonic() < deadline and worker.poll() is None, "no child started"
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        deadline = time.monotonic() + 2  # its own end (lm-eval failing to load) takes longer
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child), "the evaluation child outlived its worker"
        assert "Traceback" not in (tmp_path / "evaluation.log").read_text()  # killed, not ended
    finally:
        worker.kill()
        if child is not None and _alive(child):
            os.kill(child, signal.SIGKILL)


def _folders(scratch_dir: Path, *runs: EvaluationRun) -> dict[int, Path]:
    folders = {run.id: scratch_dir / f"run-{run.id}" for run in runs}
    for folder in folders.values():
        (folder / "model").mkdir(parents=True)
        (folder / "model" / "model.safetensors").write_bytes(b"weights")
    return folders


def test_a_starting_worker_sweeps_the_folders_of_runs_no_longer_its_own(tmp_path: Path) -> None:
    ended = inspected_run("demo-org/ended")
    services.run_fail(run_id=ended.id, code="eval:infra:worker-lost")
    mine = inspected_run("demo-org/mine")  # in flight on worker-1: the worker that restarts
    elsewhere = inspected_run("demo-org/elsewhere")
    EvaluationRun.objects.filter(id=elsewhere.id).update(worker_name="worker-2")
    queued = services.submission_create(repo_id="demo-org/queued").run
    folders = _folders(tmp_path, ended, mine, elsewhere, queued)
    (tmp_path / "run-999999").mkdir()  # a run the database no longer has
    (tmp_path / "notes").mkdir()  # not a run's folder: not ours to judge

    swept = scratch.sweep(tmp_path, worker_name="worker-1")
    assert set(swept) == {folders[ended.id], folders[mine.id], tmp_path / "run-999999"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["notes", f"run-{elsewhere.id}", f"run-{queued.id}"]
    )


def test_a_dead_workers_run_is_declared_lost_within_75_seconds_at_the_default_settings() -> None:
    """The worst case: killed just before a beat, found stale just after a reaper pass."""
    from django.conf import settings

    worst = (
        settings.EVAL_HEARTBEAT_INTERVAL
        + settings.EVAL_HEARTBEAT_TIMEOUT
        + settings.EVAL_REAP_INTERVAL
    )
    assert worst <= 75
    assert settings.EVAL_HEARTBEAT_TIMEOUT >= 5 * settings.EVAL_HEARTBEAT_INTERVAL  # hiccups


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)  # the worker process reads the rows
def test_a_real_worker_sweeps_a_killed_runs_folder_as_it_starts(tmp_path: Path) -> None:
    from tests.e2e_support import database_url

    ended = inspected_run()
    services.run_fail(run_id=ended.id, code="eval:infra:worker-lost")
    folder = _folders(tmp_path / "scratch", ended)[ended.id]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WORKER_SCRATCH_DIR": str(tmp_path / "scratch"),
    }
    command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--queues"]
    command += ["sweep-test", "--concurrency", "1", "--without-mingle", "--without-gossip"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while folder.exists():
            assert time.monotonic() < deadline and worker.poll() is None, "not swept"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
