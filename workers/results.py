"""Reading lm-eval's results dict: the scores the catalogue asks for, and what produced them.

Pure functions on the JSON that ``workers.evaluate_child`` writes (or on the dict that
``lm_eval.simple_evaluate`` returns): no Django, no lm-eval import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from evaluations.catalogue import Benchmark


@dataclass(frozen=True)
class ParsedScore:
    benchmark_key: str
    task: str
    metric: str
    filter: str
    shots: int
    value: float
    stderr: float | None  # None where lm-eval reports "N/A" or NaN
    n_samples: int | None


def parse_scores(results: dict[str, Any], benchmarks: list[Benchmark]) -> list[ParsedScore]:
    """One score per benchmark, in the order given. Raises ValueError naming a missing one."""
    return [_parse_score(results, benchmark) for benchmark in benchmarks]


def _parse_score(results: dict[str, Any], benchmark: Benchmark) -> ParsedScore:
    task_results = results.get("results", {}).get(benchmark.task)
    if task_results is None:
        raise ValueError(
            f"lm-eval results have no task {benchmark.task!r} (benchmark {benchmark.key!r})"
        )
    value = _as_float(task_results.get(benchmark.result_key))
    if value is None:
        raise ValueError(
            f"lm-eval results for {benchmark.task!r} have no value for "
            f"{benchmark.result_key!r} (benchmark {benchmark.key!r})"
        )
    stderr_key = f"{benchmark.metric}_stderr,{benchmark.filter}"
    return ParsedScore(
        benchmark_key=benchmark.key,
        task=benchmark.task,
        metric=benchmark.metric,
        filter=benchmark.filter,
        shots=_shots(results, benchmark),
        value=value,
        stderr=_as_float(task_results.get(stderr_key)),
        n_samples=_n_samples(results, benchmark.task),
    )


def _as_float(raw: Any) -> float | None:
    """A python float from a python or numpy number; None for "N/A", None, NaN or junk."""
    if raw is None or isinstance(raw, str | bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _shots(results: dict[str, Any], benchmark: Benchmark) -> int:
    # n-shot records what actually ran; the catalogue's number is only what was asked for.
    recorded = results.get("n-shot", {}).get(benchmark.task)
    return int(recorded) if isinstance(recorded, int | float) else benchmark.shots


def _n_samples(results: dict[str, Any], task: str) -> int | None:
    """Items scored: a task's effective count, or the sum over a group's subtasks."""
    counts = results.get("n-samples", {})
    if task in counts:
        return int(counts[task]["effective"])
    subtasks = _leaf_subtasks(results.get("group_subtasks", {}), task)
    if not subtasks or any(name not in counts for name in subtasks):
        return None
    return sum(int(counts[name]["effective"]) for name in subtasks)


def _leaf_subtasks(group_subtasks: dict[str, list[str]], group: str) -> list[str]:
    # Groups nest (mmlu → mmlu_stem → mmlu_anatomy); only leaves have n-samples.
    leaves: list[str] = []
    for child in group_subtasks.get(group, []):
        leaves.extend(_leaf_subtasks(group_subtasks, child) if child in group_subtasks else [child])
    return leaves


def parse_versions(results: dict[str, Any]) -> dict[str, Any]:
    """What produced the results: library versions, task versions and task config hashes.

    The hashes let two runs tell whether they used the same prompts, filters and metrics.
    """
    environment = results.get("environment", {})
    return {
        "lm_eval_version": results.get("lm_eval_version") or environment.get("lm_eval"),
        "transformers_version": (
            results.get("transformers_version") or environment.get("transformers")
        ),
        "torch_version": environment.get("torch"),
        "vllm_version": environment.get("vllm"),
        "python_version": environment.get("python"),
        "datasets_version": environment.get("datasets"),
        "task_versions": dict(results.get("versions", {})),
        "task_config_sha256": {
            task: config_sha256(config) for task, config in results.get("configs", {}).items()
        },
        # The worker's own record of its simple_evaluate call, and the batch sizes lm-eval
        # chose (with batch_size "auto"): what the "reproduce" command is built from.
        "setting": dict(results.get("setting") or {}),
        "batch_sizes": list(results.get("config", {}).get("batch_sizes") or []),
    }


def config_sha256(config: Any) -> str:
    """A fingerprint of a resolved task config: prompts, filters, metrics, generation.

    ``metadata`` is left out: lm-eval puts the model's arguments (its local path) and the
    YAML's path on disk there, which would make every model's hash different.
    """
    if isinstance(config, dict):
        config = {key: value for key, value in config.items() if key != "metadata"}
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def json_safe(value: Any) -> Any:
    """``value`` with numpy numbers made python ones, NaN/inf made None, the rest str.

    Strict JSON (no NaN) so that the file also loads into PostgreSQL's jsonb.
    """
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    item = getattr(value, "item", None)  # numpy scalars (and 0-d arrays) without numpy
    if callable(item):
        with contextlib.suppress(TypeError, ValueError):
            return json_safe(item())
    return str(value)
