"""What moderators do: decide on flags and hide models, always with a reason, on the record.

Permissions are enforced here, not only in templates: a caller who is not a moderator gets
PermissionDenied whatever page or API it came through. Every action is a new row (a
FlagEvent or a RepoDecision) with the actor, the time and the reason; nothing is edited.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from evaluations import selectors
from evaluations.catalogue import SUITES
from evaluations.evidence.matching import never_comparable
from evaluations.generation import generation_bump
from evaluations.models import (
    FINAL_STATES,
    Claim,
    EvaluationRun,
    Flag,
    FlagAction,
    FlagEvent,
    FlagState,
    ModelRepo,
    RepoDecision,
    Revision,
)
from evaluations.services.evidence import evidence_changed
from evaluations.services.notifications import authors_notify
from evaluations.services.permissions import (
    MAX_REASON,
    MIN_REASON,
    MODERATORS_GROUP,
    User,
    clean_reason,
    is_moderator,
    require_moderator,
)
from evaluations.services.read_models import ranking_entries_refresh
from evaluations.services.submissions import submission_create

# The permission checks are moderation's public names too, so pages import them from here.
__all__ = [
    "FLAG_ACTIONS",
    "MAX_REASON",
    "MIN_REASON",
    "MODERATORS_GROUP",
    "User",
    "clean_reason",
    "flag_moderate",
    "flag_rerun_queue",
    "is_moderator",
    "repo_set_hidden",
    "require_moderator",
]

FLAG_ACTIONS = {
    "confirm": FlagState.CONFIRMED,
    "dismiss": FlagState.DISMISSED,
    "ask-author": FlagState.AUTHOR_ASKED,
}


def flag_moderate(*, flag_id: int, user: User, action: str, reason: str) -> FlagEvent:
    """Confirm or dismiss a flag, or ask its author to respond."""
    actor = require_moderator(user)
    if action not in FLAG_ACTIONS:
        raise ValidationError(f"Unknown action “{action}”.")
    reason = clean_reason(reason)
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(id=flag_id)
        rule = flag.events.from_rule().newest_first()
        last = rule.first()
        event = FlagEvent.objects.create(
            flag=flag,
            state=FLAG_ACTIONS[action],
            reason=reason,
            actor=actor,
            severity=last.severity if last else "",
            run=last.run if last else None,
            evidence=last.evidence if last else {},
        )
        # A decision moves the verdict everywhere it is shown.
        evidence_changed(repo_id=flag.repo.id, queue_matched_runs=False)
        authors_notify(event=event)  # sent once the transaction commits
        return event


def repo_set_hidden(*, repo_id: int, user: User, hidden: bool, reason: str) -> RepoDecision:
    """Hide a model from the rankings (or show it again). Its pages stay public."""
    actor = require_moderator(user)
    reason = clean_reason(reason)
    with transaction.atomic():
        repo = ModelRepo.objects.select_for_update().get(id=repo_id)
        action = RepoDecision.Action.HIDE if hidden else RepoDecision.Action.UNHIDE
        latest = repo.decisions.newest_first().first()
        current = latest.action if latest else RepoDecision.Action.UNHIDE
        if current == action:
            raise ValidationError(
                "The model is already hidden." if hidden else "The model is not hidden."
            )
        decision = RepoDecision.objects.create(repo=repo, action=action, reason=reason, actor=actor)
        ranking_entries_refresh(repo_id=repo.id)
        generation_bump()
        return decision


def flag_rerun_queue(*, flag_id: int, user: User, reason: str) -> FlagAction:
    """Measure the flag's claim again, in the claim's own setting, on the commit it was judged
    on, even though that commit was measured so already: a deliberate re-run (for a suspected
    fluke or a worker fault), with who asked and why on the record."""
    actor = require_moderator(user)
    reason = clean_reason(reason)
    with transaction.atomic():
        flag = (
            Flag.objects.select_for_update(of=("self",))
            .select_related("claim__repo")
            .get(id=flag_id)
        )
        pending = (
            flag.actions.filter(action=FlagAction.Action.RERUN)
            .exclude(run__state__in=FINAL_STATES)
            .first()
        )
        if pending is not None:
            raise ValidationError(
                f"A re-run of this claim is already queued (run #{pending.run_id})."
            )
        claim = flag.claim
        if claim is None:
            raise ValidationError(
                "A re-upload flag has no claim to measure again: the watch already queued "
                "the new commit's evaluation."
            )
        basis, measured_revision = _measured_on(flag, claim)
        revision = claim.revision or measured_revision
        outcome = submission_create(
            repo_id=claim.repo.hub_id,
            ref=revision.commit_sha,
            suite=next(suite for suite, keys in SUITES.items() if claim.benchmark in keys),
            precision=basis.submission.precision,
            chat_template=bool(claim.chat_template),
            backend=basis.submission.backend,
            deliberate_rerun=True,
            tasks=[{"benchmark": claim.benchmark, "shots": claim.shots}],
        )
        return FlagAction.objects.create(
            flag=flag,
            action=FlagAction.Action.RERUN,
            reason=reason,
            actor=actor,
            state_before=f"measured by run #{basis.id}",
            state_after=f"run #{outcome.run.id} queued",
            run=outcome.run,
        )


def _measured_on(flag: Flag, claim: Claim) -> tuple[EvaluationRun, Revision]:
    """The run the rule last judged the claim on, and its commit: that commit and the run's
    setting are re-run."""
    why_not = never_comparable(claim)
    if why_not:
        raise ValidationError(f"No run can settle this claim: {why_not}.")
    last = (
        flag.events.from_rule()
        .filter(run__revision__isnull=False)
        .select_related("run__submission", "run__revision")
        .newest_first()
        .first()
    )
    basis = last.run if last else selectors.latest_full_run(claim.repo_id)
    if basis is None or basis.revision is None:
        raise ValidationError("The model has no evaluated commit to run again.")
    return basis, basis.revision
