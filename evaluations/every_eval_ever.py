"""Every Eval Ever, the field's shared format for evaluation results (schema 0.3.0).

Two directions, both pure (no writes):
- ``run_record`` turns a finished run of ours into one aggregate record: we are a third party
  to every model we measure, the record carries each score's standard error, 95 % interval and
  number of items, and points to the run's per-sample outputs by their sha256;
- ``read_record`` reads a record someone else wrote into claim inputs mapped to the
  catalogue, refusing what it cannot read with a sentence a person can act on.

The schema is kept as data in ``evaluations/schemas/`` (where it comes from is noted there);
the tests validate every exported record against it.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse

from evaluations.catalogue import BENCHMARKS, Benchmark, benchmark_for_task
from evaluations.models import EvaluationRun, RunArtifact, RunState, Score, Unit
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH, ClaimInput
from evaluations.validation import COMMIT_SHA_RE, REPO_ID_RE

SCHEMA_VERSION = "0.3.0"
SOURCE_NAME = "ClaimCheck"
COLLECTION = "claimcheck"  # the datastore folder our records would go in: data/claimcheck/…
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile, as the rankings use it
STDERR_METHOD = "analytic: lm-evaluation-harness's standard error of the mean over items"
INTERVAL_METHOD = "normal approximation: score ± 1.96 standard errors, clipped to [0, 1]"
ENGINES = {"hf": "transformers", "vllm": "vllm"}


class RecordError(ValueError):
    """A run that cannot be exported, or a record that cannot be read: ``str()`` says why."""


# --- Export ----------------------------------------------------------------------------


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


# --- Import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRecord:
    """What a record says, as claim inputs: who ran it, about which model and commit."""

    evaluation_id: str
    repo_id: str
    commit_sha: str  # "" when the record names no commit
    evaluator_relationship: str
    source_organization: str
    claims: list[ClaimInput]


RELATIONSHIPS = ("first_party", "third_party", "collaborative", "other")
MAX_TEXT = 300


def read_record(record: Any) -> ReadRecord:
    """Read an Every Eval Ever record (already parsed from JSON). Raises ``RecordError``
    with what is wrong and where; never anything else for any input."""
    top = _object(record, "the record")
    if not isinstance(top.get("schema_version"), str):
        raise RecordError("This is not an Every Eval Ever record: it has no schema_version.")
    source = _object(top.get("source_metadata"), "source_metadata")
    relationship = _text(source, "evaluator_relationship", "source_metadata")
    if relationship not in RELATIONSHIPS:
        raise RecordError(
            f"source_metadata.evaluator_relationship must be one of {', '.join(RELATIONSHIPS)}."
        )
    model = _object(top.get("model_info"), "model_info")
    repo_id = _text(model, "id", "model_info")
    if not REPO_ID_RE.match(repo_id):
        raise RecordError(
            f"model_info.id “{repo_id[:100]}” is not a Hugging Face repo id (owner/name)."
        )
    details = _object_or_empty(model, "additional_details", "model_info")
    sha = details.get("sha")
    # Only a full commit id can name one of our revisions; anything else is not a pin.
    commit_sha = sha.strip().lower() if isinstance(sha, str) else ""
    results = top.get("evaluation_results")
    if not isinstance(results, list) or not results:
        raise RecordError("evaluation_results must be a non-empty list.")
    if len(results) > MAX_CLAIMS_PER_BATCH:
        raise RecordError(
            f"The record has {len(results)} results; at most {MAX_CLAIMS_PER_BATCH} are "
            "imported at once."
        )
    organization = source.get("source_organization_name")
    if not isinstance(organization, str) or "\x00" in organization:
        organization = ""
    return ReadRecord(
        evaluation_id=_text(top, "evaluation_id", "the record")[:MAX_TEXT],
        repo_id=repo_id,
        commit_sha=commit_sha if COMMIT_SHA_RE.match(commit_sha) else "",
        evaluator_relationship=relationship,
        source_organization=organization.strip()[:200],
        claims=[_claim(item, f"evaluation_results[{i}]") for i, item in enumerate(results)],
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"{where} must be a JSON object.")
    return value


def _object_or_empty(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """An optional object: absent or null is empty, anything else but an object is refused."""
    value = parent.get(key)
    return {} if value is None else _object(value, f"{where}.{key}")


def _text(parent: dict[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{where}.{key} must be non-empty text.")
    if "\x00" in value:  # no database stores it as text
        raise RecordError(f"{where}.{key} contains a NUL character.")
    return value.strip()


def _number(value: Any, where: str) -> float:
    # JSON booleans are Python ints: refuse them, and NaN, infinities and huge integers.
    if not isinstance(value, bool) and isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise RecordError(f"{where} must be a finite number.")


def _claim(item: Any, where: str) -> ClaimInput:
    result = _object(item, where)
    name = _text(result, "evaluation_name", where)
    metric_config = _object(result.get("metric_config"), f"{where}.metric_config")
    score_details = _object(result.get("score_details"), f"{where}.score_details")
    value = _number(score_details.get("score"), f"{where}.score_details.score")
    data_details = _strings(
        _object_or_empty(result, "source_data", where).get("additional_details")
    )
    metric_details = _strings(metric_config.get("additional_details"))
    task, _, name_filter = (data_details.get("lm_eval_task") or name).partition("/")
    benchmark = BENCHMARKS.get(data_details.get("benchmark", "")) or benchmark_for_task(task)
    named_metric, described_filter = _metric_name(metric_config)
    metric = metric_details.get("lm_eval_metric") or named_metric
    filter_name = metric_details.get("lm_eval_filter") or name_filter.strip() or described_filter
    unit, unit_reason = _unit(metric_config, value)
    problems = [] if metric else ["the record does not name the metric"]
    if benchmark and metric_config.get("lower_is_better") is True and benchmark.higher_is_better:
        problems.append(
            f"the record says lower is better, but higher is better on {benchmark.display_name}"
        )
    stderr = _stderr(score_details, where)
    generation = _strings(
        _object_or_empty(result, "generation_config", where).get("additional_details")
    )
    return ClaimInput(
        benchmark=benchmark.key if benchmark else "",
        label=name[:MAX_TEXT],
        value=value if unit else None,
        unit=unit,
        unit_reason=unit_reason,
        typed_value=f"{value:g}",
        stated_stderr=stderr if unit else None,
        metric=metric[:100],
        filter=(filter_name or (benchmark.filter if benchmark else ""))[:60],
        shots=_shots(generation.get("num_fewshot"), where),
        chat_template=_yes_no(generation.get("chat_template")),
        chain_of_thought=_yes_no(generation.get("reasoning")),
        not_comparable_reason="; ".join(problems)[:MAX_TEXT],
    )


def _strings(value: Any) -> dict[str, str]:
    """An ``additional_details`` object's text values (anything else is ignored)."""
    if not isinstance(value, dict):
        return {}
    return {k: v.strip() for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


# How the project's own lm-eval converter names a metric when it sets no metric_name:
# "acc", or "exact_match (filter: strict-match)".
DESCRIBED_METRIC = re.compile(r"^([A-Za-z0-9_.@-]+)(?: \(filter: ([^()]+)\))?$")


def _metric_name(metric_config: dict[str, Any]) -> tuple[str, str]:
    """The metric the result measures, and the filter where only the description names it."""
    for key in ("metric_name", "metric_id"):
        value = metric_config.get(key)
        if isinstance(value, str) and value.strip():
            return ("acc" if value.strip() == "accuracy" else value.strip()), ""
    description = metric_config.get("evaluation_description")
    described = (
        DESCRIBED_METRIC.match(description.strip()) if isinstance(description, str) else None
    )
    if described:
        return described.group(1), (described.group(2) or "").strip()
    return "", ""


def _unit(metric_config: dict[str, Any], value: float) -> tuple[str, str]:
    """The claim's unit from the metric's stated unit or range; ("", why) when neither says."""
    stated = metric_config.get("metric_unit")
    if stated == "proportion":
        return Unit.FRACTION, "the record's metric_unit is proportion"
    if stated == "percent":
        return Unit.PERCENT, "the record's metric_unit is percent"
    top = metric_config.get("max_score")
    if metric_config.get("min_score") == 0 and top in (1, 100) and not isinstance(top, bool):
        unit = Unit.FRACTION if top == 1 else Unit.PERCENT
        return unit, f"the record's scores range from 0 to {top}"
    return "", "the record states neither the unit nor a 0–1 or 0–100 range"


def _stderr(score_details: dict[str, Any], where: str) -> float | None:
    uncertainty = score_details.get("uncertainty")
    if not isinstance(uncertainty, dict):
        return None
    standard_error = uncertainty.get("standard_error")
    if not isinstance(standard_error, dict) or "value" not in standard_error:
        return None
    stderr = _number(standard_error["value"], f"{where}.score_details.uncertainty.standard_error")
    if stderr < 0:
        raise RecordError(f"{where}: a standard error cannot be negative.")
    return stderr


def _shots(value: str | None, where: str) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 3) or int(value) > 100:
        raise RecordError(f"{where}: num_fewshot “{value[:20]}” is not a number of shots (0–100).")
    return int(value)


def _yes_no(value: str | None) -> bool | None:
    answers = {"true": True, "false": False}
    return answers.get(value.lower()) if value else None
