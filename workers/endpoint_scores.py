"""The score half of an endpoint check: the weights' run's tasks evaluated again through the
endpoint (lm-eval ``local-completions``, in ``workers.endpoint_child``), then each benchmark's
items paired with the same items of the weights' run, and the mean difference given with its
95 % interval.

The child needs the network to reach the endpoint, so it does not run in the evaluation
sandbox's network namespace; it loads no weights (only the repo's tokenizer files, which
transformers reads as data) and gets the usual environment allow-list plus the endpoint's key,
for this one call.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

from evaluations.catalogue import Benchmark
from evaluations.endpoint_stats import paired_difference
from evaluations.errors import EvaluationError
from evaluations.models import EvaluationRun, RunArtifact
from workers import sandbox
from workers.child import child_environment, log_tail

ItemKey = tuple[str, str, int]  # task, filter, doc_id


def endpoint_samples(
    *,
    completions_url: str,
    model: str,
    api_key: str,
    model_dir: Path,
    tasks: list[tuple[Benchmark, int]],
    include_path: str | None,
    work_dir: Path,
    limit: int | None = None,
) -> Path:
    """Run the child; returns its samples file. EvaluationError with the log's tail if it fails."""
    out_dir = work_dir / "endpoint-out"
    spec = {
        "completions_url": completions_url,
        "model": model,
        "tokenizer_dir": str(model_dir),
        "tasks": [{"task": benchmark.task, "shots": shots} for benchmark, shots in tasks],
        "include_path": include_path,
        "seed": 1234,
        "limit": limit,
        "num_concurrent": 1,
    }
    spec_path = work_dir / "endpoint-spec.json"
    spec_path.write_text(json.dumps(spec, indent=2))
    log_path = work_dir / "endpoint-evaluation.log"
    env = child_environment(work_dir)
    if api_key:
        env["OPENAI_API_KEY"] = api_key
    limits = sandbox.Limits.for_worker(
        address_space_gb=settings.EVAL_CHILD_ADDRESS_SPACE_GB,
        open_files=settings.EVAL_CHILD_OPEN_FILES,
        hard_time_limit=settings.EVAL_HARD_TIME_LIMIT,
    )
    command = [sys.executable, "-m", "workers.endpoint_child", str(spec_path), str(out_dir)]
    with log_path.open("w") as log:
        completed = subprocess.run(
            [*(limits.prlimit_arguments() if shutil.which("prlimit") else []), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=work_dir,
            timeout=settings.EVAL_HARD_TIME_LIMIT,
            check=False,
        )
    if completed.returncode != 0:
        tail = log_tail(log_path, 5)
        if api_key:
            tail = tail.replace(api_key, "[secret]")
        raise EvaluationError("eval:user:model-run-failed", f"endpoint evaluation: {tail}")
    return out_dir / "samples.jsonl"


def _read_lines(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def item_values(path: Path, metrics: dict[tuple[str, str], str]) -> dict[ItemKey, float]:
    """Each item's value of the metric recorded for its (task, filter)."""
    values: dict[ItemKey, float] = {}
    for sample in _read_lines(path):
        key = (str(sample.get("task")), str(sample.get("filter", "none")))
        metric = metrics.get(key)
        if metric is None or not isinstance(sample.get(metric), int | float):
            continue
        values[(key[0], key[1], int(sample["doc_id"]))] = float(sample[metric])
    return values


def weights_samples_path(run: EvaluationRun) -> Path | None:
    artifact = run.artifacts.filter(kind=RunArtifact.Kind.SAMPLES).first()
    if artifact is None:
        return None
    path = Path(settings.ARTIFACTS_DIR) / artifact.path
    return path if path.exists() else None


def paired_scores(run: EvaluationRun, endpoint_path: Path) -> list[dict[str, Any]]:
    """Per benchmark of the weights' run: the endpoint's and the weights' means over the items
    both answered, and the paired difference (endpoint − weights) with its 95 % interval."""
    weights_path = weights_samples_path(run)
    if weights_path is None:
        raise EvaluationError("eval:infra:unexpected", f"run {run.id} kept no per-item samples")
    scores = list(run.scores.order_by("benchmark"))
    metrics = {(score.task, score.filter): score.metric for score in scores}
    ours, theirs = item_values(weights_path, metrics), item_values(endpoint_path, metrics)
    rows = []
    for score in scores:
        keys = sorted(
            key for key in ours.keys() & theirs.keys() if key[:2] == (score.task, score.filter)
        )
        endpoint = [theirs[key] for key in keys]
        weights = [ours[key] for key in keys]
        row: dict[str, Any] = {
            "benchmark": score.benchmark,
            "display_name": score.display_name,
            "metric": score.metric,
            "filter": score.filter,
            "n": len(keys),
            "endpoint": sum(endpoint) / len(keys) if keys else None,
            "weights": sum(weights) / len(keys) if keys else None,
            "difference": None,
            "half_width_95": None,
        }
        if keys:
            difference = paired_difference(endpoint, weights)
            half_width = difference.half_width_95  # infinite for one item: JSON has no such value
            row.update(
                difference=difference.mean,
                half_width_95=half_width if math.isfinite(half_width) else None,
            )
        rows.append(row)
    return rows
