"""Flags: the discrepancy rule's verdicts on current claims, kept as append-only events.

``flags_recompute`` lays the repo's current claims next to the measurements in the same
setting (``evidence.claim_evidence``) and appends one event for every change of a flag's
state: opened, in doubt (the test would flag but the run's health check failed: moderators
see it, the public does not), resolved (by a newer revision, a correction, or a claim no
longer contradicted), reopened. Recomputing twice adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from evaluations.evidence.matching import ClaimEvidence, EvidenceNumbers, claim_evidence
from evaluations.evidence.verdicts import Verdict
from evaluations.models import (
    EvaluationRun,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
)
from evaluations.services.notifications import authors_notify
from evaluations.services.read_models import ranking_entries_refresh


def provenance_flag_open(
    flag: Flag, *, reason: str, evidence: dict[str, Any], run: EvaluationRun | None = None
) -> FlagEvent:
    """Open a flag on where a model's weights come from (a re-upload after claims, weights
    unlike the named base, an endpoint unlike the weights): ``flag`` names its kind and
    subject, unsaved. Moderators review it as a score gap, the authors are told once the
    transaction commits, and the rankings can hide the model from then on."""
    flag.save()
    opened = FlagEvent.objects.create(
        flag=flag, state=FlagState.OPENED, reason=reason, run=run, evidence=evidence
    )
    authors_notify(event=opened)
    ranking_entries_refresh(repo_id=flag.repo.id)
    return opened


def flags_recompute(*, repo_id: int) -> None:
    """Bring every flag of the repo in line with the evidence, appending one event per change."""
    with transaction.atomic():
        # One recompute per repo at a time: a claim and a finished run can arrive together.
        ModelRepo.objects.select_for_update().get(id=repo_id)
        rows = claim_evidence(repo_id)
        for row in rows:
            _settle(row)
        current = {row.claim.id for row in rows}
        for flag in Flag.objects.filter(claim__repo_id=repo_id).exclude(claim_id__in=current):
            assert flag.claim is not None  # filtered on the claim's repo
            later = flag.claim.superseded_by
            reason = (
                f"Claim withdrawn (#{later.id})."
                if later.withdrawn
                else f"Claim superseded by a corrected claim (#{later.id})."
            )
            _close(flag, reason, run=None, evidence={})


def _latest_event(flag: Flag) -> FlagEvent | None:
    """The rule's latest word on the flag. Moderators' events sit beside it: a decision
    outranks the rule on the page, but never changes what the rule itself concluded."""
    return flag.events.from_rule().newest_first().first()


def _settle(row: ClaimEvidence) -> None:
    judgement = row.judgement
    flag = Flag.objects.filter(claim=row.claim).first()
    rejected = judgement is not None and judgement.verdict in (
        Verdict.CONTRADICTED,
        Verdict.HARNESS_IN_DOUBT,
    )
    if judgement is not None and rejected:
        assert row.score is not None
        last = _latest_event(flag) if flag is not None else None
        if flag is None:
            flag = Flag.objects.create(claim=row.claim)
        if judgement.verdict == Verdict.HARNESS_IN_DOUBT:
            state = FlagState.IN_DOUBT
        elif last is not None and last.state == FlagState.RESOLVED:
            state = FlagState.REOPENED
        else:
            state = FlagState.OPENED
        if last is not None and last.run_id == row.score.run_id and _same_kind(last.state, state):
            return
        event = FlagEvent.objects.create(
            flag=flag,
            state=state,
            severity=judgement.severity or "",
            reason=judgement.explanation,
            run=row.score.run,
            evidence=row.evidence_numbers(),
        )
        if event.is_open:
            authors_notify(event=event)  # sent once the transaction commits
        return
    if flag is not None:
        if judgement is not None:
            assert row.score is not None  # a judgement is made on a measurement
            last = _latest_event(flag)
            assert last is not None  # a flag is made with the rule's first event
            opened_on = last.run
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


def _same_kind(last: str, new: str) -> bool:
    # Opened and reopened are one kind: a flag that stays open on the same run is unchanged.
    if last == FlagState.RESOLVED:
        return False
    return (last == FlagState.IN_DOUBT) == (new == FlagState.IN_DOUBT)


def _close(
    flag: Flag, reason: str, *, run: EvaluationRun | None, evidence: EvidenceNumbers
) -> None:
    last = _latest_event(flag)
    if last is None or last.state == FlagState.RESOLVED:
        return
    FlagEvent.objects.create(
        flag=flag, state=FlagState.RESOLVED, reason=reason, run=run, evidence=evidence
    )
