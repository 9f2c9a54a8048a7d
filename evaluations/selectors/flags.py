"""Reads of flags: which stand in public, what the rule and moderators said, and a model's
history of scores, claims and flag events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Case, CharField, F, OuterRef, Q, QuerySet, Subquery, Value, When

from evaluations.models import (
    DECISION_STATES,
    QUEUE_STATES,
    Claim,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
    Revision,
    Score,
)
from evaluations.prepared import ID_STAND_IN, PreparedQuery


class FlagStateFields(TypedDict):
    """The fields ``flags_with_state`` adds to a flag (each None when no event says)."""

    rule_state: str | None
    latest_decision: str | None
    decided_at: datetime | None
    rule_opened_at: datetime | None
    decision: str | None


if TYPE_CHECKING:  # WithAnnotations cannot be subscripted at run time on Python 3.11
    from django_stubs_ext import WithAnnotations

    FlagWithState = WithAnnotations[Flag, FlagStateFields]


def flag_history(repo_id: int) -> QuerySet[FlagEvent]:
    """The repo's flag events, newest first, with what a history shows of each (its run by
    id, its claim's label and benchmark): not the whole rows of the claims and runs."""
    return (
        FlagEvent.objects.filter(flag__claim__repo_id=repo_id)
        .select_related("flag__claim")
        .only(*HISTORY_COLUMNS)
        .newest_first()
    )


@dataclass(frozen=True)
class RepoClaims:
    """A repo's claims as its page shows them, from one read of all of them."""

    current: list[Claim]  # in id order: the claims judged
    superseded: list[Claim]  # oldest first, each with the claim that superseded it


_REPO_CLAIMS = PreparedQuery(
    lambda repo_id: Claim.objects.filter(repo_id=repo_id).order_by("id"), ID_STAND_IN
)


def repo_claims(repo: ModelRepo, revisions: Iterable[Revision]) -> RepoClaims:
    """The repo's current claims (``Claim.objects.current``) and its earlier versions of
    claims, each with its ``superseded_by`` loaded: one read for both. ``revisions``: the
    repo's commits (``model_revisions``), each claim's commit taken from them."""
    commits = {revision.id: revision for revision in revisions}
    claims = _REPO_CLAIMS.rows(repo.id)
    successors = {claim.supersedes_id: claim for claim in claims if claim.supersedes_id}
    superseded = []
    for claim in claims:
        claim.repo = repo
        if claim.revision_id in commits:
            claim.revision = commits[claim.revision_id]
        if claim.id in successors:
            claim.superseded_by = successors[claim.id]
            superseded.append(claim)
    return RepoClaims(
        current=[c for c in claims if c.id not in successors and not c.withdrawn],
        superseded=sorted(superseded, key=lambda claim: (claim.created_at, claim.id)),
    )


HISTORY_COLUMNS = (
    "created_at",
    "state",
    "severity",
    "reason",
    "actor",
    "run",
    "flag__claim__label",
    "flag__claim__benchmark",
)


def flags_with_state() -> QuerySet[FlagWithState]:
    """Flags annotated with the rule's latest state (``rule_state``), the latest moderator
    decision (``latest_decision``: confirmed, dismissed or None) and the decision in force
    (``decision``).

    A decision applies to the evidence it was made on. When the rule opens or reopens the
    flag after it (a new run, a raised claim), the decision predates the evidence: it is no
    longer in force, the rule's state stands again, and the flag goes back to the queue until
    a moderator decides anew. A rule event that resolves the flag does not do this: a
    confirmation outlives a correction the moderator has not seen, as it always did."""
    events = FlagEvent.objects.filter(flag=OuterRef("pk")).newest_first()
    decisions = events.filter(state__in=DECISION_STATES)
    openings = events.filter(state__in=QUEUE_STATES)
    return Flag.objects.annotate(
        rule_state=Subquery(events.from_rule().values("state")[:1]),
        latest_decision=Subquery(decisions.values("state")[:1]),
        decided_at=Subquery(decisions.values("created_at")[:1]),
        rule_opened_at=Subquery(openings.values("created_at")[:1]),
    ).annotate(
        decision=Case(
            When(rule_opened_at__gt=F("decided_at"), then=Value(None)),
            default=F("latest_decision"),
            output_field=CharField(),
        ),
    )


def open_flags() -> QuerySet[Flag]:
    """Flags that stand in public: the rule says contradicted and no decision in force
    dismissed them, or a decision in force confirmed them."""
    rule_open = Q(rule_state__in=[FlagState.OPENED, FlagState.REOPENED])
    # Spelled without NOT: "decision != dismissed" is NULL, not true, for undecided flags.
    return flags_with_state().filter(
        (rule_open & Q(decision__isnull=True)) | Q(decision=FlagState.CONFIRMED)
    )


def flagged_repo_ids() -> set[int]:
    """Repos with at least one flag that stands."""
    return set(open_flags().values_list("claim__repo_id", flat=True))


def history_data(repo_id: int) -> tuple[list[Score], list[Claim], list[FlagEvent]]:
    scores = list(Score.objects.measured().of_repos([repo_id]).select_related("run__revision"))
    claims = list(Claim.objects.filter(repo_id=repo_id))
    return scores, claims, list(flag_history(repo_id))
