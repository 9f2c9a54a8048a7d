"""Export: a finished run of ours as one Every Eval Ever aggregate record."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from django.urls import reverse

from evaluations.catalogue import BENCHMARKS, Benchmark
from evaluations.every_eval_ever.common import (
    COLLECTION,
    ENGINES,
    INTERVAL_METHOD,
    SCHEMA_VERSION,
    SOURCE_NAME,
    STDERR_METHOD,
    Z_95,
    RecordError,
)
from evaluations.models import EvaluationRun, RunArtifact, RunState, Score


def exportable(run: EvaluationRun) -> None:
    """Raise ``RecordError`` unless the run finished with measurements of its own."""
    if run.state != RunState.FINISHED:
        raise RecordError(
            f"Run {run.id} is {run.get_state_display().lower()}, not finished: only a "
            "finished run's scores can be exported."
        )
    if run.duplicate_of_id:
        raise RecordError(
            f"Run {run.id} ran nothing: the commit had already been evaluated in the same "
            f"setting by run {run.duplicate_of_id}; export that one."
        )


def record_uuid(run: EvaluationRun) -> uuid.UUID:
    """A version-4-shaped UUID derived from the run, so a re-export names the same files."""
    digest = hashlib.sha256(f"{COLLECTION}/run/{run.id}".encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def record_path(run: EvaluationRun, suffix: str = ".json") -> str:
    """Where the record (or, with ``_samples.jsonl``, its per-sample file) sits in the
    datastore's layout: ``data/<collection>/<developer>/<model>/<uuid><suffix>``."""
    owner, name = run.submission.repo.hub_id.split("/", 1)
    return f"data/{COLLECTION}/{owner}/{name}/{record_uuid(run)}{suffix}"


def run_record(run: EvaluationRun, *, base_url: str) -> dict[str, Any]:
    """The run as one Every Eval Ever record. ``base_url`` (``https://host``) makes the links
    absolute. Deterministic: the record's timestamps are the run's, not the export's."""
    exportable(run)
    hub_id = run.submission.repo.hub_id
    finished = _epoch(run.finished_at) or "0"
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": f"{COLLECTION}/{hub_id}/run-{run.id}",
        "evaluation_timestamp": _epoch(run.started_at) or finished,
        "retrieved_timestamp": finished,
        "source_metadata": {
            "source_name": SOURCE_NAME,
            "source_type": "evaluation_run",
            "source_organization_name": SOURCE_NAME,
            "source_organization_url": base_url,
            "evaluator_relationship": "third_party",
            "additional_details": {
                "run_id": str(run.id),
                "run_url": base_url + reverse("run-detail", args=[run.id]),
            },
        },
        "eval_library": _eval_library(run.versions or {}),
        "model_info": _model_info(run),
        "evaluation_results": [_result(run, score) for score in _scores(run)],
    }
    samples = _artifact(run, RunArtifact.Kind.SAMPLES)
    if samples is not None:
        record["detailed_evaluation_results"] = _samples_reference(run, samples, base_url)
    return record


def _epoch(moment: datetime | None) -> str | None:
    return str(int(moment.timestamp())) if moment else None


def _scores(run: EvaluationRun) -> list[Score]:
    return sorted(run.scores.all(), key=lambda score: score.id)


def _artifact(run: EvaluationRun, kind: str) -> RunArtifact | None:
    return next((a for a in run.artifacts.all() if a.kind == kind), None)


def _details(values: dict[str, Any]) -> dict[str, str]:
    """An ``additional_details`` object: strings only, empty values left out."""
    return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _eval_library(versions: dict[str, Any]) -> dict[str, Any]:
    scalars = {k: v for k, v in versions.items() if isinstance(v, str | int | float)}
    library = {"name": "lm_eval", "version": str(versions.get("lm_eval_version") or "unknown")}
    others = _details({k: v for k, v in scalars.items() if k != "lm_eval_version"})
    return {**library, "additional_details": others} if others else library


def _model_info(run: EvaluationRun) -> dict[str, Any]:
    submission, revision = run.submission, run.revision
    backend = run.backend_used or submission.backend
    engine = {"name": ENGINES.get(backend, backend)}
    engine_version = (run.versions or {}).get(f"{engine['name']}_version")
    if engine_version:
        engine["version"] = str(engine_version)
    hub_id = submission.repo.hub_id
    return {
        "name": hub_id,
        "id": hub_id,
        "developer": hub_id.split("/", 1)[0],
        "inference_platform": "huggingface",
        "inference_engine": engine,
        "additional_details": {
            # We run public safetensors checkpoints on our own workers.
            "deployment_type": "self_deployed",
            "model_availability": "open_weights",
            **_details(
                {
                    "revision": submission.ref,
                    "sha": revision.commit_sha if revision else None,
                    "precision": submission.precision,
                    "dtype": revision.dtype if revision else None,
                    "num_parameters": revision.parameter_count if revision else None,
                    "licence": revision.licence if revision else None,
                }
            ),
        },
    }


def _result(run: EvaluationRun, score: Score) -> dict[str, Any]:
    benchmark = BENCHMARKS.get(score.benchmark)
    name = score.task if score.filter == "none" else f"{score.task}/{score.filter}"
    return {
        "evaluation_result_id": f"{score.task}/{score.metric},{score.filter}",
        "evaluation_name": name,  # lm-eval's task, "/filter" when it has one
        "source_data": {
            "dataset_name": score.task,
            "source_type": "other",
            "additional_details": _details(
                {
                    "lm_eval_task": score.task,
                    "benchmark": score.benchmark,
                    "benchmark_name": benchmark.display_name if benchmark else None,
                    "task_version": (run.versions or {}).get("task_versions", {}).get(score.task),
                }
            ),
        },
        "metric_config": _metric_config(score, benchmark),
        "score_details": {"score": score.value, "uncertainty": _uncertainty(score)},
        "generation_config": {
            "additional_details": {
                "num_fewshot": str(score.shots),
                "chat_template": "true" if run.submission.chat_template else "false",
            }
        },
    }


def _metric_config(score: Score, benchmark: Benchmark | None) -> dict[str, Any]:
    label = f"{score.metric} (filter: {score.filter})" if score.filter != "none" else score.metric
    return {
        "evaluation_description": f"{benchmark.display_name if benchmark else score.task}: {label}",
        "metric_id": "accuracy" if score.metric == "acc" else f"lm_eval.{score.metric}",
        "metric_name": score.metric,
        "metric_unit": "proportion",
        "lower_is_better": not (benchmark.higher_is_better if benchmark else True),
        "score_type": "continuous",
        "min_score": 0.0,
        "max_score": 1.0,
        "additional_details": {"lm_eval_metric": score.metric, "lm_eval_filter": score.filter},
    }


def _uncertainty(score: Score) -> dict[str, Any]:
    uncertainty: dict[str, Any] = {}
    if score.stderr is not None:
        margin = Z_95 * score.stderr
        uncertainty["standard_error"] = {"value": score.stderr, "method": STDERR_METHOD}
        uncertainty["confidence_interval"] = {
            "lower": max(0.0, score.value - margin),
            "upper": min(1.0, score.value + margin),
            "confidence_level": 0.95,
            "method": INTERVAL_METHOD,
        }
    if score.n_samples is not None:
        uncertainty["num_samples"] = score.n_samples
    return uncertainty


def _samples_reference(run: EvaluationRun, samples: RunArtifact, base_url: str) -> dict[str, Any]:
    url = base_url + reverse("run-artifact", args=[run.id, samples.kind])
    return {
        "format": "jsonl",
        "file_path": record_path(run, "_samples.jsonl"),
        "hash_algorithm": "sha256",
        "checksum": samples.sha256,
        "additional_details": {
            "url": url,
            "compression": "gzip",
            "checksum_of": "the gzip file as served at url",
            "size_bytes": str(samples.size_bytes),
            "content": "lm-evaluation-harness per-sample outputs (log_samples), one JSON "
            "object per line with its task",
        },
    }
