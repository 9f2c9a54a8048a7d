"""Flags: the discrepancy rule's verdicts on current claims, kept as append-only events.

``flags_recompute`` lays the repo's current claims next to the measurements in the same
setting (``selectors.claim_evidence``) and appends one event for every change of a flag's
state: opened, resolved (by a newer revision, a correction, or a claim no longer
contradicted), reopened. Recomputing twice adds nothing.
"""

from __future__ import annotations

from django.db import transaction

from evaluations import selectors
from evaluations.models import (
    AUTOMATIC_STATES,
    EvaluationRun,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
)
from evaluations.services.generation import generation_bump
from evaluations.services.notifications import authors_notify
from evaluations.services.read_models import ranking_entries_refresh


def flags_recompute(*, repo_id: int) -> None:
    """Bring every flag of the repo in line with the evidence, appending one event per change."""
    with transaction.atomic():
        # One recompute per repo at a time: a claim and a finished run can arrive together.
        ModelRepo.objects.select_for_update().get(id=repo_id)
        rows = selectors.claim_evidence(repo_id)
        for row in rows:
            _settle(row)
        current = {row.claim.id for row in rows}
        for flag in Flag.objects.filter(claim__repo_id=repo_id).exclude(claim_id__in=current):
            _close(
                flag,
                f"Claim superseded by a corrected claim (#{flag.claim.superseded_by.id}).",
                run=None,
                evidence={},
            )
        # Flags (and the run or claims that moved them) change what the rankings show.
        ranking_entries_refresh(repo_id=repo_id)
        generation_bump()


def _latest_event(flag: Flag) -> FlagEvent | None:
    """The rule's latest word on the flag. Moderators' events sit beside it: a decision
    outranks the rule on the page, but never changes what the rule itself concluded."""
    return flag.events.filter(state__in=AUTOMATIC_STATES).order_by("-created_at", "-id").first()


def _settle(row: selectors.ClaimEvidence) -> None:
    judgement = row.judgement
    flag = Flag.objects.filter(claim=row.claim).first()
    if judgement is not None and judgement.flagged:
        if flag is None:
            flag = Flag.objects.create(claim=row.claim)
            state = FlagState.OPENED
        else:
            last = _latest_event(flag)
            if last is not None and last.is_open and last.run_id == row.score.run_id:
                return
            state = FlagState.REOPENED if last and not last.is_open else FlagState.OPENED
        event = FlagEvent.objects.create(
            flag=flag,
            state=state,
            severity=judgement.severity or "",
            reason=judgement.explanation,
            run=row.score.run,
            evidence=row.evidence_numbers(),
        )
        authors_notify(event=event)  # sent once the transaction commits
        return
    if flag is not None:
        if judgement is not None:
            opened_on = _latest_event(flag).run
            moved = opened_on is not None and opened_on.revision_id != row.score.run.revision_id
            prefix = "Resolved by a newer revision. " if moved else "No longer contradicted. "
            _close(
                flag,
                prefix + judgement.explanation,
                run=row.score.run,
                evidence=row.evidence_numbers(),
            )
        else:
            _close(
                flag, f"No longer comparable: {row.not_comparable_reason}.", run=None, evidence={}
            )


def _close(flag: Flag, reason: str, *, run: EvaluationRun | None, evidence: dict) -> None:
    last = _latest_event(flag)
    if last is None or not last.is_open:
        return
    FlagEvent.objects.create(
        flag=flag, state=FlagState.RESOLVED, reason=reason, run=run, evidence=evidence
    )
