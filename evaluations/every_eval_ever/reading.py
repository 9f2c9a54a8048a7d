"""Import: an Every Eval Ever record someone else wrote, read into claim inputs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from evaluations.catalogue import BENCHMARKS, benchmark_for_task
from evaluations.every_eval_ever.common import RecordError
from evaluations.models import Unit
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH, ClaimInput
from evaluations.validation import COMMIT_SHA_RE, REPO_ID_RE


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
