"""Claims in the hub's own results files, ``.eval_results/*.yaml``."""

from __future__ import annotations

import datetime
import re
from typing import Any

from evaluations.cards.claim import make_claim
from evaluations.cards.draft import CardClaim, CardError, Draft, HubResult, as_mapping
from evaluations.cards.loading import load_yaml, refuse_too_many
from evaluations.cards.names import COT_PATTERN, as_text, resolve, shot_count
from evaluations.cards.tables import HUB_BENCHMARK_TASKS

# --- hub .eval_results files -----------------------------------------------------------------


def claims_from_eval_results(
    text: str,
    *,
    repo_id: str,
    repo_owner: str | None = None,
    source_ref: str = "",
    base_text: str = "",
) -> list[CardClaim]:
    """Claims in one ``.eval_results/*.yaml`` file: a list of entries.

    ``source_ref`` names the open pull request the file was read from ("refs/pr/N"): the hub
    shows such results as community-provided, whoever wrote them. A pull request's branch also
    holds the base commit's files, so entries already in ``base_text`` (the same file at the
    evaluated commit) are the author's, not the pull request's, and are skipped.
    """
    entries = _entries(text)
    known = _entries(base_text) if source_ref and base_text else []
    owner = (repo_owner or repo_id.split("/", 1)[0]).lower()
    return [
        make_claim(_eval_results_draft(entry, owner, source_ref))
        for entry in entries
        if isinstance(entry, dict) and entry not in known
    ]


def _entries(text: str) -> list[Any]:
    entries = load_yaml(text.replace("\r\n", "\n"), "eval results file")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise CardError("eval results file is not a list of entries")
    refuse_too_many(len(entries), "eval results file")
    return entries


def _eval_results_draft(entry: dict[str, Any], owner: str, source_ref: str) -> Draft:
    dataset, source = as_mapping(entry.get("dataset")), as_mapping(entry.get("source"))
    dataset_id, task_id = as_text(dataset.get("id")), as_text(dataset.get("task_id"))
    notes = as_text(entry.get("notes"))
    label, key, problem, matched_by = _benchmark(dataset_id, task_id)
    user = as_text(source.get("user"))
    community = bool(source_ref) or (user is not None and user.lower() != owner)
    draft = Draft(
        label=label or "unnamed",
        benchmark_key=key,
        source_kind="eval-results-community" if community else "eval-results",
        raw=entry.get("value"),
        source_name=as_text(source.get("name")),
        source_url=as_text(source.get("url")),
        reported_by=(user or f"pull request {source_ref}") if community else None,
        problems=[problem] if problem else [],
    )
    draft.hub = HubResult(
        dataset_id=dataset_id or "",
        task_id=task_id or "",
        dataset_revision=as_text(dataset.get("revision")) or "",
        verify_token=as_text(entry.get("verifyToken")) or "",
        date=_date(entry.get("date")),
        source_org=as_text(source.get("org")) or "",
        source_ref=source_ref,
        matched_by=matched_by,
    )
    _notes(draft, notes)
    return draft


def _benchmark(
    dataset_id: str | None, task_id: str | None
) -> tuple[str | None, str | None, str | None, str]:
    """(label, key, problem, how it was matched): by the hub benchmark's own task first, else
    by name as a model-index entry is."""
    key = HUB_BENCHMARK_TASKS.get(((dataset_id or "").lower(), (task_id or "").lower()))
    if key is not None:
        return dataset_id, key, None, "hub-task"
    label, key, problem = resolve([dataset_id, task_id], task_id)
    return label, key, problem, "name" if key else ""


def _date(value: Any) -> datetime.date | None:
    """The entry's date: YAML reads 2026-02-10 as a date, '2026-02-10' as a string."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10]) if value else None
    except ValueError:
        return None


def _notes(draft: Draft, notes: str | None) -> None:
    """The setting the notes describe: shots, chain of thought, tools."""
    draft.shots = shot_count(notes)
    thinking = re.search(r"\b(reasoning|thinking)\b", notes or "", re.IGNORECASE)
    draft.chain_of_thought = True if COT_PATTERN.search(notes or "") or thinking else None
    if notes and re.search(r"\btools?\b", notes, re.IGNORECASE):
        draft.problems.append(f"evaluated with tools (notes: '{notes}')")
