"""Reading lm-eval's results dict: the scores the catalogue asks for, and what produced them.

Pure functions on the JSON that ``workers.evaluate_child`` writes (or on the dict that
``lm_eval.simple_evaluate`` returns): no Django, no lm-eval import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    health: dict[str, Any] = field(default_factory=dict)  # see ``parse_health``


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
        health=parse_health(results, benchmark),
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


# --- Run health (DISCREPANCY.md, "Run health before any flag") -----------------------------

# A generation that reached max_gen_toks was cut off. The count is of the decoded text
# encoded again, which can come out a token or two short of what the model produced.
TRUNCATION_SLACK_TOKENS = 2
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's own default for hf and vllm
UNPARSED = {"", "[invalid]"}
STRICT, FLEXIBLE = "strict-match", "flexible-extract"


def sample_health(
    samples: Mapping[str, list[dict[str, Any]]],
    count_tokens: Callable[[str], int],
    *,
    max_gen_toks: int = DEFAULT_MAX_GEN_TOKS,
) -> dict[str, dict[str, Any]]:
    """Per task, from lm-eval's per-sample outputs: how many generations there were, how many
    stopped at the token limit, and how many each filter found no answer in.

    A sample appears once per filter; truncation is counted on the task's first filter only,
    so that each generation counts once. Loglikelihood tasks have no generations.
    """
    health: dict[str, dict[str, Any]] = {}
    for task, task_samples in samples.items():
        first_filter = task_samples[0].get("filter", "none") if task_samples else "none"
        generations = truncated = 0
        unparsed: dict[str, int] = {}
        for sample in task_samples:
            filter_key = sample.get("filter", "none")
            for arguments, responses, answer in zip(
                sample.get("arguments", []),
                sample.get("resps", []),
                sample.get("filtered_resps", []),
                strict=False,
            ):
                gen_kwargs = _generation_kwargs(arguments)
                if gen_kwargs is None:
                    continue
                unparsed[filter_key] = unparsed.get(filter_key, 0) + _is_unparsed(answer)
                if filter_key != first_filter:
                    continue
                limit = int(gen_kwargs.get("max_gen_toks") or max_gen_toks)
                text = _first_text(responses)
                generations += 1
                truncated += count_tokens(text) >= limit - TRUNCATION_SLACK_TOKENS
        if generations:
            health[task] = {
                "generations": generations,
                "truncated": truncated,
                "unparsed": unparsed,
            }
    return health


def _generation_kwargs(arguments: Any) -> dict[str, Any] | None:
    # generate_until requests carry (context, generation kwargs); loglikelihood ones do not.
    if isinstance(arguments, list | tuple) and len(arguments) == 2:
        kwargs = arguments[1]
        if isinstance(kwargs, dict):
            return kwargs
    return None


def _first_text(responses: Any) -> str:
    while isinstance(responses, list | tuple) and responses:
        responses = responses[0]
    return responses if isinstance(responses, str) else ""


def _is_unparsed(answer: Any) -> bool:
    while isinstance(answer, list | tuple) and answer:
        answer = answer[0]
    return answer is None or (isinstance(answer, str) and answer.strip() in UNPARSED)


def parse_health(results: dict[str, Any], benchmark: Benchmark) -> dict[str, Any]:
    """A benchmark's health figures: shares of truncated and unparsed generations (summed
    over a group's subtasks) and the gap between its strict and flexible filters."""
    counts = results.get("health", {})
    group = results.get("group_subtasks", {})
    tasks = [benchmark.task] if benchmark.task in counts else _leaf_subtasks(group, benchmark.task)
    figures = [counts[task] for task in tasks if task in counts]
    generations = sum(int(f.get("generations", 0)) for f in figures)
    health: dict[str, Any] = {"generations": generations}
    if generations:
        truncated = sum(int(f.get("truncated", 0)) for f in figures)
        unparsed = sum(int(f.get("unparsed", {}).get(benchmark.filter, 0)) for f in figures)
        health["truncated"] = truncated / generations
        health["unparsed"] = unparsed / generations
    task_results = results.get("results", {}).get(benchmark.task, {})
    strict = _as_float(task_results.get(f"{benchmark.metric},{STRICT}"))
    flexible = _as_float(task_results.get(f"{benchmark.metric},{FLEXIBLE}"))
    health["strict_flexible_gap"] = (
        None if strict is None or flexible is None else flexible - strict
    )
    return health


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
