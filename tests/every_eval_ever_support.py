"""Helpers the Every Eval Ever tests share: the schema's validator and a run with files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs

from evaluations import services
from evaluations.models import EvaluationRun
from evaluations.selectors import open_data
from tests.factories import SHA_A, inspected_run

SCHEMA_PATH = (
    Path(__file__).resolve().parent.parent / "evaluations/schemas/every_eval_ever.eval.schema.json"
)
VALIDATOR = jsonschema_rs.Draft7Validator(json.loads(SCHEMA_PATH.read_text()))
SAMPLES_SHA = "5" * 64


def schema_errors(record: Any) -> list[str]:
    """What the Every Eval Ever schema (0.3.0) finds wrong with ``record``; [] when valid."""
    return [f"{error.instance_path}: {error.message}" for error in VALIDATOR.iter_errors(record)]


def run_with_samples(hub_id: str = "demo-org/tiny", sha: str = SHA_A) -> EvaluationRun:
    """A finished smoke run of ``hub_id``: ARC 60 % ± 4 % over 40 items, GSM8K 0 % with no
    standard error over 20, with its results and per-sample files."""
    run = inspected_run(hub_id, sha)
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    assert services.run_record_results(
        run_id=run.id,
        scores=[
            {
                "benchmark_key": "smoke_arc",
                "task": "smoke_arc",
                "metric": "acc",
                "filter": "none",
                "shots": 0,
                "value": 0.6,
                "stderr": 0.04,
                "n_samples": 40,
            },
            {
                "benchmark_key": "smoke_gsm8k",
                "task": "smoke_gsm8k",
                "metric": "exact_match",
                "filter": "flexible-extract",
                "shots": 0,
                "value": 0.0,
                "stderr": None,
                "n_samples": 20,
            },
        ],
        versions={
            "lm_eval_version": "0.4.13",
            "transformers_version": "5.24.0",
            "task_versions": {"smoke_arc": 1.0},
        },
        artifacts=[
            {
                "kind": "results",
                "path": f"run-{run.id}/results.json",
                "sha256": "f" * 64,
                "size_bytes": 123,
            },
            {
                "kind": "samples",
                "path": f"run-{run.id}/samples.jsonl.gz",
                "sha256": SAMPLES_SHA,
                "size_bytes": 456,
            },
        ],
    )
    loaded = open_data.run_detail(run.id)
    assert loaded is not None
    return loaded


def first_party_record(**changes: Any) -> dict[str, Any]:
    """What a developer, demo-org, publishes about its own model: 95 % on Smoke ARC, 0-shot."""
    record: dict[str, Any] = {
        "schema_version": "0.3.0",
        "evaluation_id": "smoke_arc/demo-org/tiny/1750000000",
        "retrieved_timestamp": "1750000000",
        "source_metadata": {
            "source_name": "demo-org model release",
            "source_type": "evaluation_run",
            "source_organization_name": "demo-org",
            "evaluator_relationship": "first_party",
        },
        "eval_library": {"name": "lm_eval", "version": "0.4.13"},
        "model_info": {
            "name": "tiny",
            "id": "demo-org/tiny",
            "developer": "demo-org",
            "additional_details": {
                "deployment_type": "self_deployed",
                "model_availability": "open_weights",
            },
        },
        "evaluation_results": [
            {
                "evaluation_name": "smoke_arc",
                "source_data": {"dataset_name": "smoke_arc", "source_type": "other"},
                "metric_config": {
                    "metric_name": "acc",
                    "lower_is_better": False,
                    "score_type": "continuous",
                    "min_score": 0.0,
                    "max_score": 1.0,
                },
                "score_details": {
                    "score": 0.95,
                    "uncertainty": {"standard_error": {"value": 0.01}, "num_samples": 40},
                },
                "generation_config": {"additional_details": {"num_fewshot": "0"}},
            }
        ],
    }
    record.update(changes)
    return record
