"""The smoke suite: lm-eval's real ARC and GSM8K task definitions on small local data.

Each smoke task is a YAML that ``include:``s the installed lm-eval task and overrides only
where the data comes from (and, for GSM8K, how many tokens to generate), so the prompts,
filters and metrics are the production ones. lm-eval resolves ``data_files`` against the
current directory, so the YAMLs are written at run time with absolute paths.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

SMOKE_DATA_DIR = Path(__file__).resolve().parent / "data"
REPO_ROOT = Path(__file__).resolve().parents[2]

# Small enough that a random tiny model finishes GSM8K in seconds; long enough for a short
# worked answer followed by "#### N".
SMOKE_MAX_GEN_TOKS = 24


def installed_task_yaml(relative: str) -> Path:
    """The path of a task YAML shipped with the installed lm-eval (e.g. "arc/arc_easy.yaml")."""
    import lm_eval.tasks

    path = Path(lm_eval.tasks.__file__).resolve().parent / relative
    if not path.is_file():
        raise FileNotFoundError(f"lm-eval has no task file {relative} at {path}")
    return path


def _local_data(jsonl_name: str) -> dict[str, Any]:
    # Only a test split exists; few-shot examples (if a caller asks for shots) are drawn from
    # it too, and lm-eval then leaves the document being asked out of its own examples.
    return {
        "dataset_path": "json",
        "dataset_name": None,
        "dataset_kwargs": {"data_files": {"test": str(SMOKE_DATA_DIR / jsonl_name)}},
        "training_split": None,
        "validation_split": None,
        "fewshot_split": "test",
        "test_split": "test",
        # The installed tags (ai2_arc, math_word_problems) would put smoke tasks into the
        # real benchmarks' tag groups if both task directories were indexed together.
        "tag": ["smoke"],
    }


def smoke_task_configs() -> dict[str, dict[str, Any]]:
    """The smoke task YAMLs as dicts, keyed by file name."""
    arc_yaml = installed_task_yaml("arc/arc_easy.yaml")
    gsm8k_yaml = installed_task_yaml("gsm8k/gsm8k.yaml")
    # ``include`` merges only top-level keys, so generation_kwargs must be restated whole:
    # copy the real one (stop sequences, greedy decoding) and cap the length.
    real_gsm8k = yaml.safe_load(gsm8k_yaml.read_text())
    generation_kwargs = {**real_gsm8k["generation_kwargs"], "max_gen_toks": SMOKE_MAX_GEN_TOKS}
    return {
        "smoke_arc.yaml": {
            "include": str(arc_yaml),
            "task": "smoke_arc",
            **_local_data("smoke_arc.jsonl"),
            "num_fewshot": 0,
        },
        "smoke_gsm8k.yaml": {
            "include": str(gsm8k_yaml),
            "task": "smoke_gsm8k",
            **_local_data("smoke_gsm8k.jsonl"),
            "num_fewshot": 0,
            "generation_kwargs": generation_kwargs,
        },
    }


def default_smoke_dir() -> Path:
    var_dir = os.environ.get("LEADERBOARD_VAR_DIR")
    return (Path(var_dir) if var_dir else REPO_ROOT / "var") / "smoke_tasks"


def smoke_task_dir(dest: Path | None = None) -> Path:
    """Write the smoke task YAMLs into ``dest`` and return it, for ``TaskManager(include_path=)``.

    Idempotent: a file is rewritten only when its content would change, so concurrent workers
    and repeated calls leave identical files (and task config hashes) behind.
    """
    directory = dest or default_smoke_dir()
    directory.mkdir(parents=True, exist_ok=True)
    for name, config in smoke_task_configs().items():
        text = yaml.safe_dump(config, sort_keys=True)
        path = directory / name
        if path.is_file() and path.read_text() == text:
            continue
        # Write then rename, so a reader never sees a half-written YAML.
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text)
        partial.replace(path)
    return directory


def smoke_training_texts() -> list[str]:
    """The smoke items formatted like the task prompts, each followed by its correct answer.

    Used to train tiny test models that must score clearly above chance.
    """
    texts = []
    for doc in _documents("smoke_arc.jsonl"):
        answer = doc["choices"]["text"][doc["choices"]["label"].index(doc["answerKey"])]
        texts.append(f"Question: {doc['question']}\nAnswer: {answer}")
    for doc in _documents("smoke_gsm8k.jsonl"):
        # Only the final number: a tiny model can learn that within the generation budget,
        # and flexible-extract picks it up.
        texts.append(f"Question: {doc['question']}\nAnswer: {doc['answer'].split('#### ')[-1]}")
    return texts


def smoke_documents_text() -> list[str]:
    """All text of the smoke items: questions, every answer choice, worked answers."""
    texts = [
        " ".join(["Question:", doc["question"], "Answer:", *doc["choices"]["text"]])
        for doc in _documents("smoke_arc.jsonl")
    ]
    texts += [
        f"Question: {doc['question']}\nAnswer: {doc['answer']}"
        for doc in _documents("smoke_gsm8k.jsonl")
    ]
    return texts


def _documents(jsonl_name: str) -> list[dict[str, Any]]:
    lines = (SMOKE_DATA_DIR / jsonl_name).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]
