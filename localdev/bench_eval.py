"""`make bench-eval`: what the pipeline costs on top of lm-eval itself.

Times the same tiny model and smoke tasks, several times each:
  - the bare ``lm_eval`` command line (as a person would run it, samples logged);
  - a bare script making the one ``simple_evaluate`` call the worker makes (same task index);
  - the whole pipeline: submit → a real Celery worker → fetch from the stand-in hub →
    the evaluation child → recorded, finished.
Prints medians and the ratios of wall times. Uses PostgreSQL/Redis when DATABASE_URL/REDIS_URL
are set, else the embedded SQLite and filesystem broker in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = "8"
DIRECT_SCRIPT = """
import sys, lm_eval
from lm_eval.tasks import TaskManager
lm_eval.simple_evaluate(model="hf", model_args={"pretrained": sys.argv[1], "dtype": "auto"},
    tasks=["smoke_arc", "smoke_gsm8k"], device="cpu", batch_size=8, log_samples=True,
    task_manager=TaskManager(include_path=sys.argv[2], include_defaults=False),
    random_seed=1234, numpy_random_seed=1234, torch_random_seed=1234, fewshot_random_seed=1234)
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT_ROOT,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    os.environ["LEADERBOARD_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from localdev.smoke import smoke_task_dir
    from localdev.standin import demo_repos
    from localdev.standin.hub_server import serve_in_thread

    call_command("migrate", verbosity=0)
    hub_root = var_dir / "hub"
    model_dir = demo_repos.build_models(var_dir / "models")[demo_repos.TRAINED]
    server, hub_url = serve_in_thread(hub_root)
    tasks_dir = str(smoke_task_dir())
    offline = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leaderboard",
            "worker",
            "--queues",
            "cpu",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "HF_ENDPOINT": hub_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cli = [
        sys.executable,
        "-m",
        "lm_eval",
        "run",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model_dir},dtype=auto",
        "--tasks",
        "smoke_arc,smoke_gsm8k",
        "--include_path",
        tasks_dir,
        "--device",
        "cpu",
        "--batch_size",
        BATCH_SIZE,
        "--seed",
        "1234",
        "--log_samples",
        "--output_path",
        str(var_dir / "cli-out"),
    ]
    direct = [sys.executable, "-c", DIRECT_SCRIPT, str(model_dir), tasks_dir]
    times: dict[str, list[float]] = {
        "lm_eval command line": [],
        "direct simple_evaluate": [],
        "pipeline (submit → finished)": [],
    }
    try:
        for repeat in range(args.repeats):
            times["lm_eval command line"].append(timed(cli, offline))
            times["direct simple_evaluate"].append(timed(direct, offline))
            times["pipeline (submit → finished)"].append(pipeline_once(hub_root, model_dir, repeat))
            print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.shutdown()
    report(times)


def pipeline_once(hub_root: Path, model_dir: Path, repeat: int) -> float:
    """One submission of a fresh commit (so nothing is deduplicated), timed to finished."""
    from evaluations import services
    from evaluations.models import EvaluationRun, RunState
    from localdev.standin import demo_repos
    from localdev.standin.repos import publish_repo

    files = demo_repos.model_files(model_dir, demo_repos.TRAINED)
    files["README.md"] = (
        demo_repos.model_card(demo_repos.TRAINED) + f"\nbench {repeat} {time.time()}\n".encode()
    )
    publish_repo(hub_root, demo_repos.TRAINED, files)
    start = time.perf_counter()
    run = services.submission_create(repo_id=demo_repos.TRAINED, ref="main", suite="smoke").run
    while True:
        state = EvaluationRun.objects.values_list("state", flat=True).get(id=run.id)
        if state in (RunState.FINISHED, RunState.FAILED, RunState.CANCELLED):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    if state != RunState.FINISHED:
        raise SystemExit(f"pipeline run {run.id} ended {state}")
    return elapsed


def report(times: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) for name, values in times.items()}
    runs = len(next(iter(times.values())))
    print(f"\n{'':32} {'min':>7} {'median':>7} {'max':>7}  (seconds, {runs} runs each)")
    for name, values in times.items():
        print(f"{name:32} {min(values):7.2f} {medians[name]:7.2f} {max(values):7.2f}")
    pipeline = medians["pipeline (submit → finished)"]
    print(f"\npipeline / lm_eval command line   = {pipeline / medians['lm_eval command line']:.3f}")
    print(f"pipeline / direct simple_evaluate = {pipeline / medians['direct simple_evaluate']:.3f}")


if __name__ == "__main__":
    main()
