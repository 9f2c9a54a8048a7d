"""`python -m localdev.bench_vllm`: the evaluation child on vLLM's CPU build against hf.

Runs the worker's own child (``workers.child.run_child``: its environment allow-list, its
log) on the smoke suite with a tiny model 128 wide (vLLM's CPU attention needs heads of 32 or
more), in float32, several times per backend. Prints each backend's wall time and vLLM's own
engine start (from its log), and the largest hf-vs-vLLM gap in a per-item log-likelihood and
in a metric. vLLM runs as in the tests: one process, eager (``VLLM_ENABLE_V1_MULTIPROCESSING=0``,
``enforce_eager``); ``--engine-defaults`` times vLLM's defaults instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

VLLM_ENVIRONMENT = {
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_HOST_IP": "127.0.0.1",
}
ENGINE_START = re.compile(r"init engine \(profile, create kv cache, warmup model\) took ([\d.]+)")


def spec(backend: str, model_dir: Path, tasks_dir: Path, eager: bool) -> dict[str, Any]:
    return {
        "backend": backend,
        "model_dir": str(model_dir),
        "commit_sha": "0" * 40,
        "dtype": "float32",
        "device": "cpu",
        "tasks": [{"task": "smoke_arc", "shots": 0}, {"task": "smoke_gsm8k", "shots": 0}],
        "include_path": str(tasks_dir),
        "batch_size": 8,
        "seed": 1234,
        **({"vllm_engine": {"enforce_eager": eager}} if backend == "vllm" else {}),
    }


def run_once(run_spec: dict[str, Any], work_dir: Path) -> tuple[float, dict[str, Any], str]:
    from workers.child import run_child

    start = time.perf_counter()
    outcome = run_child(run_spec, work_dir, on_progress=lambda done, total: True)
    elapsed = time.perf_counter() - start
    samples = [json.loads(line) for line in outcome.samples_path.read_text().splitlines()]
    results = json.loads(outcome.results_path.read_text())["results"]
    return elapsed, {"results": results, "samples": samples}, outcome.log_path.read_text()


def logliks(samples: list[dict[str, Any]]) -> dict[tuple[str, int], list[float]]:
    return {
        (s["task"], s["doc_id"]): [resp[0][0] for resp in s["resps"]]
        for s in samples
        if s["task"] == "smoke_arc"
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine-defaults", action="store_true")
    args = parser.parse_args()
    os.environ.update(VLLM_ENVIRONMENT)
    if not args.engine_defaults:
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"

    from localdev.smoke import smoke_task_dir
    from localdev.standin.demo_repos import TRAIN_STEPS, WIDE_HIDDEN_SIZE
    from localdev.tiny_models import build_tiny_model

    root = Path(tempfile.mkdtemp(prefix="bench-vllm-"))
    model_dir = build_tiny_model(
        root / "model", seed=4, train_steps=TRAIN_STEPS, hidden_size=WIDE_HIDDEN_SIZE
    )
    tasks_dir = smoke_task_dir(root / "tasks")
    times: dict[str, list[float]] = {"hf": [], "vllm": []}
    engine_starts: list[float] = []
    outputs: dict[str, dict[str, Any]] = {}
    for repeat in range(args.repeats):
        for backend in ("hf", "vllm"):
            run_spec = spec(backend, model_dir, tasks_dir, eager=not args.engine_defaults)
            elapsed, outputs[backend], log = run_once(run_spec, root / f"{backend}-{repeat}")
            times[backend].append(elapsed)
            if backend == "vllm":
                engine_starts += [float(found) for found in ENGINE_START.findall(log)]
        print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)

    print(f"\n{'child, smoke suite, float32':32} {'min':>7} {'median':>7} {'max':>7}  (seconds)")
    for backend, values in times.items():
        print(
            f"{backend:32} {min(values):7.2f} {statistics.median(values):7.2f} {max(values):7.2f}"
        )
    if engine_starts:
        print(f"vLLM engine init (its log)       median {statistics.median(engine_starts):.2f} s")
    hf, vllm = logliks(outputs["hf"]["samples"]), logliks(outputs["vllm"]["samples"])
    gaps = [abs(a - b) for key in hf for a, b in zip(hf[key], vllm[key], strict=True)]
    print(f"\nmax per-item log-likelihood gap (smoke_arc, {len(hf)} items): {max(gaps):.2e}")
    for task, metrics in outputs["vllm"]["results"].items():
        for metric, value in metrics.items():
            if isinstance(value, float) and "stderr" not in metric:
                other = outputs["hf"]["results"][task][metric]
                print(
                    f"{task} {metric}: hf {other:.4f} vllm {value:.4f} gap {abs(value - other):.2e}"
                )


if __name__ == "__main__":  # vLLM's engine processes may import this module
    main()
