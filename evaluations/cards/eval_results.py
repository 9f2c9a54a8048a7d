"""Claims in the hub's own results files, ``.eval_results/*.yaml``."""

from __future__ import annotations

import re
from typing import Any

from evaluations.cards.claim import _claim
from evaluations.cards.draft import CardClaim, CardError, _Draft, _mapping
from evaluations.cards.loading import _load_yaml, _refuse_too_many
from evaluations.cards.names import _COT, _resolve, _shot_count, _text

# --- hub .eval_results files -----------------------------------------------------------------


def claims_from_eval_results(
    text: str, *, repo_id: str, repo_owner: str | None = None
) -> list[CardClaim]:
    """Claims in one ``.eval_results/*.yaml`` file: a list of entries."""
    entries = _load_yaml(text.replace("\r\n", "\n"), "eval results file")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise CardError("eval results file is not a list of entries")
    _refuse_too_many(len(entries), "eval results file")
    owner = (repo_owner or repo_id.split("/", 1)[0]).lower()
    return [
        _claim(_eval_results_draft(entry, owner)) for entry in entries if isinstance(entry, dict)
    ]


def _eval_results_draft(entry: dict[str, Any], owner: str) -> _Draft:
    dataset, source = _mapping(entry.get("dataset")), _mapping(entry.get("source"))
    task_id, notes = _text(dataset.get("task_id")), _text(entry.get("notes"))
    label, key, problem = _resolve([_text(dataset.get("id")), task_id], task_id)
    user = _text(source.get("user"))
    community = user is not None and user.lower() != owner
    draft = _Draft(
        label=label or "unnamed",
        benchmark_key=key,
        source_kind="eval-results-community" if community else "eval-results",
        raw=entry.get("value"),
        source_name=_text(source.get("name")),
        source_url=_text(source.get("url")),
        reported_by=user if community else None,
        problems=[problem] if problem else [],
    )
    draft.shots = _shot_count(notes)
    thinking = re.search(r"\b(reasoning|thinking)\b", notes or "", re.IGNORECASE)
    draft.chain_of_thought = True if _COT.search(notes or "") or thinking else None
    if notes and re.search(r"\btools?\b", notes, re.IGNORECASE):
        draft.problems.append(f"evaluated with tools (notes: '{notes}')")
    return draft
