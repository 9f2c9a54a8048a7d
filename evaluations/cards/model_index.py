"""Claims in a README's ``model-index``: the front matter most model cards carry."""

from __future__ import annotations

from typing import Any

from evaluations.cards.claim import make_claim
from evaluations.cards.draft import CardClaim, CardError, Draft, as_list, as_mapping
from evaluations.cards.loading import load_yaml, refuse_too_many
from evaluations.cards.names import (
    COT_PATTERN,
    as_text,
    chat_template_from,
    inherited_from_name,
    leaderboard_kind,
    read_shots,
    real_name,
    resolve,
)
from evaluations.cards.tables import NON_LLM_METRICS, NON_LLM_TASKS, V2_KEY

# --- README model-index ----------------------------------------------------------------------


def claims_from_readme(text: str, *, repo_id: str) -> list[CardClaim]:
    """Claims in a README's YAML front matter; [] when it has none or no model-index."""
    front_matter = _front_matter(text)
    if front_matter is None:
        return []
    card_data = load_yaml(front_matter, "README front matter", line_offset=1)
    if card_data is None:
        return []
    if not isinstance(card_data, dict):
        raise CardError("README front matter is not a mapping of keys to values")
    return claims_from_card_data(card_data, repo_id=repo_id)


def _front_matter(text: str) -> str | None:
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:number])
    raise CardError("README front matter opened with '---' on line 1 is never closed")


def claims_from_card_data(card_data: dict[str, Any], *, repo_id: str) -> list[CardClaim]:
    """Claims in parsed card metadata (the hub's ``cardData``)."""
    if not isinstance(card_data, dict):
        return []
    model_index = card_data.get("model-index", card_data.get("model_index"))
    models = [(model, as_list(model.get("results"))) for model in as_list(model_index)]
    metrics = sum(len(as_list(r.get("metrics"))) for _, results in models for r in results)
    refuse_too_many(metrics, "the model-index")
    claims: list[CardClaim] = []
    for model, results in models:
        inherited = inherited_from_name(model.get("name"), repo_id)
        for result in results:
            claims.extend(_result_claims(result, inherited))
    return claims


def _result_claims(result: dict[str, Any], inherited: str | None) -> list[CardClaim]:
    task, dataset = as_mapping(result.get("task")), as_mapping(result.get("dataset"))
    source = as_mapping(result.get("source"))
    claims = []
    for metric in as_list(result.get("metrics")):
        draft = _readme_draft(task, dataset, source, metric)
        if draft is None:
            continue
        draft.inherited_from = inherited
        claims.append(make_claim(draft))
    return claims


def _readme_draft(
    task: dict[str, Any], dataset: dict[str, Any], source: dict[str, Any], metric: dict[str, Any]
) -> Draft | None:
    """One metric of one result, or None for placeholders and non-LLM results."""
    dataset_name, metric_type = real_name(dataset.get("name")), as_text(metric.get("type"))
    label, key, problem = resolve(
        [dataset_name, real_name(dataset.get("type")), as_text(task.get("name")), metric_type],
        as_text(dataset.get("config")),
    )
    if key is None and problem is None and _is_noise(task, dataset, metric_type):
        return None
    source_name, source_url = as_text(source.get("name")), as_text(source.get("url"))
    kind = leaderboard_kind(dataset_name, source_name, source_url) or "self-reported"
    if kind == "open-llm-leaderboard-v2":
        key = V2_KEY.get(key or "", key)
    if metric_type and label == metric_type and key:  # the metric type names the benchmark
        metric_type = as_text(metric.get("name"))
    draft = Draft(
        label=label or "unnamed",
        benchmark_key=key,
        source_kind=kind,
        raw=metric.get("value"),
        metric=metric_type,
        source_name=source_name,
        source_url=source_url,
        problems=[problem] if problem else [],
    )
    read_shots(
        dataset.get("args"),
        [dataset_name, label, as_text(task.get("name")), as_text(metric.get("name"))],
        draft,
    )
    _settings(draft, dataset, metric)
    return draft


def _is_noise(task: dict[str, Any], dataset: dict[str, Any], metric_type: str | None) -> bool:
    """Placeholder results (no dataset) and non-LLM tasks (speech, vision, classifiers)."""
    if not any(real_name(dataset.get(field)) for field in ("name", "type")):
        return True
    task_type = (as_text(task.get("type")) or "").lower()
    return task_type in NON_LLM_TASKS or (metric_type or "").lower() in NON_LLM_METRICS


def _settings(draft: Draft, dataset: dict[str, Any], metric: dict[str, Any]) -> None:
    if draft.source_kind.startswith("open-llm-leaderboard"):
        # Neither leaderboard prompted for chain of thought; v1 never applied chat templates.
        draft.chain_of_thought = False
        draft.chat_template = False if draft.source_kind.endswith("v1") else None
        return
    words = " ".join(
        filter(
            None,
            (
                draft.label,
                as_text(dataset.get("config")),
                as_text(metric.get("name")),
                str(dataset.get("args") or ""),
            ),
        )
    )
    draft.chain_of_thought = True if COT_PATTERN.search(words) else None
    draft.chat_template = chat_template_from(dataset.get("args"))
