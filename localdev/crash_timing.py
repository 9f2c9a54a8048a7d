"""Measure how long a run whose worker is killed stays unsettled.

    DATABASE_URL=postgres://… REDIS_URL=redis://…/N python -m localdev.crash_timing [--main-only]

Publishes a tiny model on a stand-in hub, starts a real evaluation worker and a housekeeping
worker with beat (as docker-compose does), submits the model, kills the evaluation worker's
whole process group (with ``--main-only``, its main process alone) with SIGKILL while the
run evaluates, and prints the seconds from the
kill to the run ending as ``eval:infra:worker-lost`` and to its next attempt being queued.
A new evaluation worker then starts: it sweeps the dead run's scratch folder and evaluates
the new attempt. The intervals are the settings' (EVAL_HEARTBEAT_TIMEOUT, EVAL_REAP_INTERVAL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import django

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPO_ID = "demo-org/crash-test"
T = TypeVar("T")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    if not os.environ.get("REDIS_URL", "").startswith("redis://"):
        sys.exit("set REDIS_URL (and DATABASE_URL): the workers need a broker they share")
    django.setup()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the workers it started, too
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    work = Path(tempfile.mkdtemp(prefix="crash-timing-"))
    hub_url, server = publish(work)
    env = {**os.environ, "HF_ENDPOINT": hub_url, "WORKER_SCRATCH_DIR": str(work / "scratch")}
    settings.WORKER_SCRATCH_DIR = work / "scratch"
    workers = [
        start_worker("housekeeping", env, "-B", "--schedule", str(work / "beat-schedule")),
        start_worker("cpu", env),
    ]
    try:
        measure(work, env, workers)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
        server.shutdown()


def publish(work: Path) -> tuple[str, object]:
    from localdev.standin.demo_repos import model_files
    from localdev.standin.hub_server import serve_in_thread
    from localdev.standin.repos import publish_repo
    from localdev.tiny_models import build_tiny_model

    model_dir = build_tiny_model(work / "model", seed=2)
    files = model_files(model_dir, REPO_ID)
    files["notes.txt"] = work.name.encode()  # a commit of its own: no earlier run's duplicate
    publish_repo(work / "hub", REPO_ID, files)
    server, url = serve_in_thread(work / "hub")
    return url, server


def start_worker(queue: str, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--queues", queue]
    command += ["--concurrency", "1", "--loglevel", "WARNING", "--hostname", f"crash-{queue}@%h"]
    command += ["--without-mingle", "--without-gossip", *extra]
    # A process group of its own: the kill takes the worker's every process, as an OOM kill
    # of its container would.
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)


def measure(work: Path, env: dict[str, str], workers: list[subprocess.Popen[bytes]]) -> None:
    from django.conf import settings

    from evaluations import services
    from evaluations.models import EvaluationRun, RunAction, RunState

    run = services.submission_create(repo_id=REPO_ID, suite="smoke").run
    say(f"run #{run.id} submitted; waiting for it to evaluate")
    eventually(lambda: EvaluationRun.objects.filter(id=run.id, state=RunState.RUNNING).first())
    main_only = "--main-only" in sys.argv
    kill = os.kill if main_only else os.killpg
    kill(workers[1].pid, signal.SIGKILL)
    killed = time.monotonic()
    workers[1].wait()
    whom = "main process" if main_only else "process group"
    say(f"SIGKILL to the evaluation worker's {whom} while run #{run.id} was running")
    time.sleep(1)
    say(f"lm-eval children left running: {evaluation_children(run.id)}")
    lost = eventually(
        lambda: EvaluationRun.objects.filter(id=run.id, state=RunState.FAILED).first(), 300
    )
    lost_after = time.monotonic() - killed
    retry = eventually(
        lambda: RunAction.objects.filter(run_id=run.id, new_run__isnull=False).first()
    )
    queued_after = time.monotonic() - killed
    say(f"run #{run.id} ended as {lost.error_code} {lost_after:.1f} s after the kill")
    say(f"run #{retry.new_run_id} queued {queued_after:.1f} s after the kill ({retry.reason})")
    say(
        f"(EVAL_HEARTBEAT_TIMEOUT {settings.EVAL_HEARTBEAT_TIMEOUT} s, EVAL_REAP_INTERVAL "
        f"{settings.EVAL_REAP_INTERVAL} s, EVAL_HEARTBEAT_INTERVAL "
        f"{settings.EVAL_HEARTBEAT_INTERVAL} s)"
    )
    folder = work / "scratch" / f"run-{run.id}"
    say(
        f"scratch folder of run #{run.id} after the kill: "
        f"{'present' if folder.exists() else 'gone'}"
    )
    workers[1] = start_worker("cpu", env)
    again = eventually(
        lambda: EvaluationRun.objects.filter(
            id=retry.new_run_id, state__in=["finished", "failed"]
        ).first(),
        300,
    )
    say(f"a new worker started: scratch folder {'present' if folder.exists() else 'swept'}")
    say(f"run #{again.id} ended {again.state} {again.error_code}".rstrip())


def evaluation_children(run_id: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"workers.evaluate_child" in command and f"run-{run_id}/".encode() in command:
            found.append(int(entry.name))
    return found


def eventually(find: Callable[[], T | None], seconds: float = 120) -> T:
    deadline = time.monotonic() + seconds
    while (found := find()) is None:
        if time.monotonic() > deadline:
            raise SystemExit("gave up waiting")
        time.sleep(0.1)
    return found


def say(message: str) -> None:
    print(f"[crash-timing] {message}", flush=True)


if __name__ == "__main__":
    main()
