"""Runs ``workers.evaluate_child`` in a separate process and watches it.

The child gets an explicit environment allow-list: no database URL, no secret key, no hub
token, the hub set offline. ``subprocess`` *replaces* the environment with what we pass, so
nothing else leaks in. While it runs, the parent stamps the run's heartbeat and progress
once a second and stops the child when the run was cancelled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluations.errors import EvaluationError
from workers import sandbox

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Variables the child may inherit: locale, paths, thread and GPU selection. Nothing secret.
INHERITED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NLTK_DATA",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "VLLM_WORKER_MULTIPROC_METHOD",
)
MODEL_LOAD_FAILED_EXIT = 3  # the child's exit code when lm-eval cannot load the model

# on_progress(done, total) -> False asks the child to stop (the run was cancelled).
ProgressCallback = Callable[[int | None, int | None], bool]


@dataclass(frozen=True)
class ChildOutcome:
    results_path: Path
    samples_path: Path
    log_path: Path


def child_environment(home: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        HOME=str(home),
        HF_HOME=str(home / "hf"),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONPATH=str(PROJECT_ROOT),
        PYTHONUNBUFFERED="1",
        # The child dies with this process: it checks it was not orphaned before it could ask.
        EVALUATION_PARENT_PID=str(os.getpid()),
    )
    return env


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_child(
    spec: dict[str, Any],
    work_dir: Path,
    on_progress: ProgressCallback,
    *,
    limits: sandbox.Limits | None = None,
    module: str = "workers.evaluate_child",
) -> ChildOutcome:
    """Evaluate ``spec`` in a child process, in the sandbox that ``workers.sandbox`` sets up;
    raise EvaluationError if it fails or is stopped. ``module`` is what the child runs (a test
    runs a probe in the same sandbox)."""
    out_dir = work_dir / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    spec_path = work_dir / "spec.json"
    spec_path.write_text(json.dumps(spec, indent=2))
    log_path = work_dir / "evaluation.log"
    progress: dict[str, int | None] = {"done": None, "total": None}

    box = sandbox.prepare(Path(spec["model_dir"]), limits or sandbox.Limits.defaults())

    with log_path.open("w") as log:
        print(box.describe(), file=log, flush=True)  # the run's record of its protections
        process = subprocess.Popen(
            box.wrap([sys.executable, "-m", module, str(spec_path), str(out_dir)]),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=child_environment(work_dir),
            cwd=work_dir,
        )
        reader = threading.Thread(target=_read_progress, args=(process, progress), daemon=True)
        reader.start()
        try:
            _watch(process, progress, on_progress)
        finally:
            _stop(process)
            reader.join(timeout=5)

    if process.returncode == MODEL_LOAD_FAILED_EXIT:
        raise EvaluationError("eval:user:model-load-failed", log_tail(log_path, 5))
    if process.returncode != 0:
        raise EvaluationError("eval:infra:evaluation-crashed", f"exit code {process.returncode}")
    return ChildOutcome(out_dir / "results.json", out_dir / "samples.jsonl", log_path)


def _read_progress(process: subprocess.Popen[str], progress: dict[str, int | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "PROGRESS":
            progress["done"], progress["total"] = int(parts[1]), int(parts[2])


def _watch(
    process: subprocess.Popen[str],
    progress: dict[str, int | None],
    on_progress: ProgressCallback,
) -> None:
    while True:
        try:
            process.wait(timeout=1.0)  # returns at once when the child exits
            return
        except subprocess.TimeoutExpired:
            pass
        if not on_progress(progress["done"], progress["total"]):
            raise EvaluationError("eval:cancelled", "stopped at the submitter's request")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
