"""Reads for a flag's discussion and for the moderators' audit log. No writes here.

Internal notes leave this module only for callers that say the reader is a moderator
(``include_internal``); public pages and the API never ask for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from evaluations.models import (
    Comment,
    Flag,
    FlagAction,
    FlagEvent,
    FlagState,
    RepoDecision,
    RunAction,
    RunState,
)

INTERNAL_NOTE = "internal-note"
LOG_LIMIT = 500
AUDIT_ACTIONS: dict[str, str] = {
    **{state.value: state.label for state in FlagState},
    **{action.value: action.label for action in RepoDecision.Action},
    **{action.value: action.label for action in FlagAction.Action},
    **{action.value: action.label for action in RunAction.Action},
    INTERNAL_NOTE: "Internal note",
}
REPO_STATES = {RepoDecision.Action.HIDE: "hidden", RepoDecision.Action.UNHIDE: "shown"}


def flag_comments(flag: Flag, *, include_internal: bool) -> QuerySet[Comment]:
    comments = flag.comments.order_by("created_at", "id")
    return comments if include_internal else comments.filter(internal=False)


def flag_actions(flag: Flag) -> QuerySet[FlagAction]:
    return flag.actions.select_related("run").order_by("created_at", "id")


@dataclass(frozen=True)
class AuditEntry:
    """One moderator action, whatever row recorded it."""

    created_at: datetime
    actor: str
    action: str
    reason: str
    flag_id: int | None = None
    hub_id: str = ""
    state_before: str = ""
    state_after: str = ""
    run_id: int | None = None

    @property
    def action_label(self) -> str:
        return AUDIT_ACTIONS.get(self.action, self.action)


def audit_log(*, action: str = "", actor: str = "") -> list[AuditEntry]:
    """Every moderator action, newest first: decisions on flags and models, locks and
    re-runs, runs cancelled or retried, internal notes."""
    wanted = [_flag_events, _repo_decisions, _flag_actions, _run_actions, _internal_notes]
    entries = [entry for read in wanted for entry in read(action, actor)]
    return sorted(entries, key=lambda entry: entry.created_at, reverse=True)


def _flag_events(action: str, actor: str) -> list[AuditEntry]:
    before = FlagEvent.objects.filter(flag=OuterRef("flag"), id__lt=OuterRef("id"))
    events = (FlagEvent.objects.exclude(actor="").select_related("flag__claim__repo")
              .annotate(previous=Subquery(before.order_by("-id").values("state")[:1])))
    events = events.filter(state=action) if action else events
    events = events.filter(actor=actor) if actor else events
    return [
        AuditEntry(e.created_at, e.actor, e.state, e.reason, flag_id=e.flag_id,
                   hub_id=e.flag.claim.repo.hub_id, run_id=None,
                   state_before=FlagState(e.previous).label if e.previous else "",
                   state_after=e.get_state_display())
        for e in events.order_by("-created_at", "-id")[:LOG_LIMIT]
    ]


def _repo_decisions(action: str, actor: str) -> list[AuditEntry]:
    before = RepoDecision.objects.filter(repo=OuterRef("repo"), id__lt=OuterRef("id"))
    decisions = (RepoDecision.objects.select_related("repo")
                 .annotate(previous=Subquery(before.order_by("-id").values("action")[:1])))
    decisions = decisions.filter(action=action) if action else decisions
    decisions = decisions.filter(actor=actor) if actor else decisions
    return [
        AuditEntry(d.created_at, d.actor, d.action, d.reason, hub_id=d.repo.hub_id,
                   state_before=REPO_STATES[d.previous or RepoDecision.Action.UNHIDE],
                   state_after=REPO_STATES[d.action])
        for d in decisions.order_by("-created_at", "-id")[:LOG_LIMIT]
    ]


def _run_actions(action: str, actor: str) -> list[AuditEntry]:
    actions = RunAction.objects.select_related("run__submission__repo")
    actions = actions.filter(action=action) if action else actions
    actions = actions.filter(actor=actor) if actor else actions
    return [
        AuditEntry(a.created_at, a.actor, a.action, a.reason,
                   hub_id=a.run.submission.repo.hub_id, run_id=a.new_run_id or a.run_id,
                   state_before=f"run #{a.run_id} {RunState(a.state_before).label.lower()}",
                   state_after=(f"run #{a.new_run_id} queued" if a.new_run_id
                                else f"run #{a.run_id} cancelled"))
        for a in actions.order_by("-created_at", "-id")[:LOG_LIMIT]
    ]


def _flag_actions(action: str, actor: str) -> list[AuditEntry]:
    actions = FlagAction.objects.select_related("flag__claim__repo")
    actions = actions.filter(action=action) if action else actions
    actions = actions.filter(actor=actor) if actor else actions
    return [
        AuditEntry(a.created_at, a.actor, a.action, a.reason, flag_id=a.flag_id,
                   hub_id=a.flag.claim.repo.hub_id, state_before=a.state_before,
                   state_after=a.state_after, run_id=a.run_id)
        for a in actions.order_by("-created_at", "-id")[:LOG_LIMIT]
    ]


def _internal_notes(action: str, actor: str) -> list[AuditEntry]:
    if action and action != INTERNAL_NOTE:
        return []
    notes = Comment.objects.filter(internal=True).select_related("flag__claim__repo")
    notes = notes.filter(user_name=actor) if actor else notes
    return [
        AuditEntry(n.created_at, n.user_name, INTERNAL_NOTE, n.body, flag_id=n.flag_id,
                   hub_id=n.flag.claim.repo.hub_id)
        for n in notes.order_by("-created_at", "-id")[:LOG_LIMIT]
    ]
