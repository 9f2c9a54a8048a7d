"""Evaluate a hosted endpoint with lm-eval's ``local-completions`` backend, in a process of its
own.

    python -m workers.endpoint_child SPEC_JSON OUT_DIR

SPEC_JSON::

    {"completions_url": "https://host/v1/completions", "model": "served-name",
     "tokenizer_dir": "/abs/released/weights", "tasks": [{"task": "mmlu", "shots": 5}, …],
     "include_path": null | "/abs/dir", "seed": 1234, "limit": null, "num_concurrent": 1,
     "batch_size": 16}

The same task definitions and shots as the weights' run, so that items pair one to one. The
endpoint's key, if any, comes from ``OPENAI_API_KEY`` (where lm-eval's backend reads it), set
by the parent for this process alone: it never enters the model arguments, which the results
record. Writes OUT_DIR/results.json and OUT_DIR/samples.jsonl like ``evaluate_child``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from workers.evaluate_child import TaskSpec, load_tasks, write_outputs  # noqa: E402


def model_args(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": spec["model"],
        "base_url": spec["completions_url"],
        "tokenizer": spec["tokenizer_dir"],
        "tokenizer_backend": "huggingface",
        "num_concurrent": int(spec.get("num_concurrent") or 1),
        # Several prompts per request, as providers accept: far fewer round trips.
        "batch_size": int(spec.get("batch_size") or 16),
        "max_retries": 2,
        "seed": int(spec["seed"]),
    }


def evaluate(spec: dict[str, Any]) -> dict[str, Any]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    include_path = spec.get("include_path")
    task_manager = TaskManager(include_path=include_path, include_defaults=include_path is None)
    tasks = tuple(TaskSpec(str(t["task"]), int(t["shots"])) for t in spec["tasks"])
    seed = int(spec["seed"])
    results: dict[str, Any] = lm_eval.simple_evaluate(
        model="local-completions",
        model_args=model_args(spec),
        tasks=load_tasks(task_manager, tasks),
        task_manager=task_manager,
        limit=spec.get("limit"),
        log_samples=True,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
    )
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m workers.endpoint_child SPEC_JSON OUT_DIR", file=sys.stderr)
        return 2
    try:
        results = evaluate(json.loads(Path(argv[0]).read_text()))
        write_outputs(results, Path(argv[1]))
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
