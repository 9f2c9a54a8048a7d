"""parse_scores / parse_versions / json_safe on hand-written lm-eval results."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from evaluations.catalogue import BENCHMARKS, suite_benchmarks
from workers.results import ParsedScore, config_sha256, json_safe, parse_scores, parse_versions


def smoke_results() -> dict:
    return {
        "results": {
            "smoke_arc": {
                "alias": "smoke_arc",
                "acc,none": np.float64(0.75),
                "acc_stderr,none": np.float64(0.0693),
                "acc_norm,none": 0.5,
                "acc_norm_stderr,none": "N/A",
            },
            "smoke_gsm8k": {
                "exact_match,strict-match": np.float64(0.0),
                "exact_match_stderr,strict-match": 0.0,
                "exact_match,flexible-extract": np.float64(0.85),
                "exact_match_stderr,flexible-extract": "N/A",
            },
        },
        "n-shot": {"smoke_arc": 0, "smoke_gsm8k": 0},
        "n-samples": {
            "smoke_arc": {"original": 40, "effective": np.int64(40)},
            "smoke_gsm8k": {"original": 20, "effective": 20},
        },
        "versions": {"smoke_arc": 1.0, "smoke_gsm8k": 3.0},
        "configs": {
            "smoke_arc": {
                "task": "smoke_arc",
                "num_fewshot": 0,
                "metadata": {"pretrained": "/models/a"},
            },
            "smoke_gsm8k": {"task": "smoke_gsm8k", "num_fewshot": 0},
        },
        "lm_eval_version": "0.4.13",
        "transformers_version": "5.24.0",
        "environment": {"torch": "2.13.0+cpu", "python": "3.11.7", "vllm": None},
    }


def test_it_reads_the_smoke_suite() -> None:
    arc, gsm8k = parse_scores(smoke_results(), suite_benchmarks("smoke"))

    assert arc == ParsedScore(
        benchmark_key="smoke_arc",
        task="smoke_arc",
        metric="acc",
        filter="none",
        shots=0,
        value=0.75,
        stderr=0.0693,
        n_samples=40,
        health={"generations": 0, "strict_flexible_gap": None},
    )
    assert gsm8k.value == 0.85
    assert gsm8k.filter == "flexible-extract"


def test_it_returns_python_numbers_not_numpy() -> None:
    arc, _ = parse_scores(smoke_results(), suite_benchmarks("smoke"))

    assert type(arc.value) is float
    assert type(arc.stderr) is float
    assert type(arc.n_samples) is int


def test_it_turns_na_and_nan_stderr_into_none() -> None:
    results = smoke_results()
    results["results"]["smoke_arc"]["acc_stderr,none"] = float("nan")

    arc, gsm8k = parse_scores(results, suite_benchmarks("smoke"))

    assert arc.stderr is None
    assert gsm8k.stderr is None  # "N/A"


def test_it_names_a_benchmark_missing_from_the_results() -> None:
    results = smoke_results()
    del results["results"]["smoke_gsm8k"]

    with pytest.raises(ValueError, match="smoke_gsm8k"):
        parse_scores(results, suite_benchmarks("smoke"))


def test_it_names_a_benchmark_whose_metric_is_missing() -> None:
    results = smoke_results()
    del results["results"]["smoke_arc"]["acc,none"]

    with pytest.raises(ValueError, match="acc,none"):
        parse_scores(results, [BENCHMARKS["smoke_arc"]])


def test_it_sums_a_nested_groups_samples_over_its_leaf_tasks() -> None:
    results = {
        "results": {"mmlu": {"acc,none": np.float32(0.5), "acc_stderr,none": 0.01}},
        "n-shot": {"mmlu": 5},
        "n-samples": {
            "mmlu_anatomy": {"effective": 135},
            "mmlu_astronomy": {"effective": 152},
            "mmlu_law": {"effective": 1534},
        },
        "group_subtasks": {
            "mmlu": ["mmlu_stem", "mmlu_humanities"],
            "mmlu_stem": ["mmlu_anatomy", "mmlu_astronomy"],
            "mmlu_humanities": ["mmlu_law"],
        },
    }

    [mmlu] = parse_scores(results, [BENCHMARKS["mmlu"]])

    assert mmlu.n_samples == 135 + 152 + 1534
    assert mmlu.shots == 5
    assert mmlu.value == 0.5


def test_it_leaves_samples_unknown_when_a_subtask_count_is_missing() -> None:
    results = {
        "results": {"mmlu": {"acc,none": 0.5}},
        "n-samples": {"mmlu_anatomy": {"effective": 135}},
        "group_subtasks": {"mmlu": ["mmlu_anatomy", "mmlu_law"]},
    }

    [mmlu] = parse_scores(results, [BENCHMARKS["mmlu"]])

    assert mmlu.n_samples is None
    assert mmlu.stderr is None


def test_it_records_versions_and_config_hashes() -> None:
    versions = parse_versions(smoke_results())

    assert versions["lm_eval_version"] == "0.4.13"
    assert versions["transformers_version"] == "5.24.0"
    assert versions["torch_version"] == "2.13.0+cpu"
    assert versions["task_versions"] == {"smoke_arc": 1.0, "smoke_gsm8k": 3.0}
    assert set(versions["task_config_sha256"]) == {"smoke_arc", "smoke_gsm8k"}
    assert len(versions["task_config_sha256"]["smoke_arc"]) == 64


def test_a_config_hash_ignores_metadata_but_not_the_prompt() -> None:
    config = {"task": "t", "doc_to_text": "Q: {{q}}", "metadata": {"pretrained": "/models/a"}}

    same = {**config, "metadata": {"pretrained": "/models/b"}}
    other_prompt = {**config, "doc_to_text": "Question: {{q}}"}

    assert config_sha256(config) == config_sha256(same)
    assert config_sha256(config) != config_sha256(other_prompt)


def test_json_safe_makes_strict_json() -> None:
    raw = {
        "a": np.float64(0.5),
        "b": np.int64(3),
        "c": float("nan"),
        "d": (1, np.bool_(True)),
        "e": object,
        7: "seven",
        "f": np.array([1, 2]),
    }

    safe = json_safe(raw)
    text = json.dumps(safe, allow_nan=False)

    assert json.loads(text)["a"] == 0.5
    assert type(safe["b"]) is int
    assert safe["c"] is None
    assert safe["d"] == [1, True]
    assert safe["7"] == "seven"
    assert isinstance(safe["e"], str)
    assert not math.isnan(safe["a"])
