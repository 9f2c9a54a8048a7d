"""Reads for a flag's discussion and for the moderators' audit log. No writes here.

Internal notes leave this module only for callers that say the reader is a moderator
(``include_internal``); public pages and the API never ask for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import CharField, F, Model, OuterRef, QuerySet, Subquery, Value

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
LOG_PAGE_SIZE = 50
# A flag's repo, through its claim or its provenance event (``Flag.repo``).
FLAG_REPO = ("flag__claim__repo", "flag__provenance_event__repo")
AUTOMATIC_ACTOR = "automatic check"  # the actor shown for the rule's changes
AUDIT_ACTIONS: dict[str, str] = {
    **{state.value: state.label for state in FlagState},
    **{action.value: action.label for action in RepoDecision.Action},
    **{action.value: action.label for action in FlagAction.Action},
    **{action.value: action.label for action in RunAction.Action},
    INTERNAL_NOTE: "Internal note",
}
REPO_STATES: dict[str, str] = {
    RepoDecision.Action.HIDE: "hidden",
    RepoDecision.Action.UNHIDE: "shown",
}

AuditRows = QuerySet[Model, tuple[str, int, datetime]]  # (source, id, time)
RowsOfSource = Callable[[str, str], "QuerySet[Any] | None"]  # (action, actor): None if none
EntriesOfSource = Callable[[list[int]], dict[int, "AuditEntry"]]


class PreviousState(TypedDict):
    previous: str | None  # the state (or action) of the row's predecessor, None if first


# The models' QuerySet classes are not generic, so the plugin drops an annotation when their
# rows are read: the readers below cast to these types, which name the annotation.
if TYPE_CHECKING:  # WithAnnotations cannot be subscripted at run time on Python 3.11
    from django_stubs_ext import WithAnnotations

    FlagEventAfter = WithAnnotations[FlagEvent, PreviousState]
    RepoDecisionAfter = WithAnnotations[RepoDecision, PreviousState]


def flag_comments(flag: Flag, *, include_internal: bool) -> QuerySet[Comment]:
    comments = flag.comments.order_by("created_at", "id")
    return comments if include_internal else comments.filter(internal=False)


def flag_actions(flag: Flag) -> QuerySet[FlagAction]:
    return flag.actions.select_related("run").order_by("created_at", "id")


@dataclass(frozen=True)
class ModeratorStep:
    """Something a moderator did on a flag short of deciding it: asked the author, queued a
    re-run, locked or unlocked the discussion."""

    created_at: datetime
    actor: str
    done: str  # "asked the author to respond", "queued a re-run", ...
    reason: str
    run_id: int | None = None


STEP_WORDS: dict[str, str] = {
    FlagState.AUTHOR_ASKED: "asked the author to respond",
    FlagAction.Action.RERUN: "queued a re-run",
    FlagAction.Action.LOCK: "locked the discussion",
    FlagAction.Action.UNLOCK: "unlocked the discussion",
}


def moderator_steps(flag: Flag) -> list[ModeratorStep]:
    """What moderators did on the flag besides confirming or dismissing it, oldest first."""
    asked = flag.events.filter(state=FlagState.AUTHOR_ASKED)
    steps = [ModeratorStep(e.created_at, e.actor, STEP_WORDS[e.state], e.reason) for e in asked]
    steps += [
        ModeratorStep(a.created_at, a.actor, STEP_WORDS[a.action], a.reason, a.run_id)
        for a in flag.actions.all()
    ]
    return sorted(steps, key=lambda step: step.created_at)


@dataclass(frozen=True)
class AuditEntry:
    """One change on the record, whatever row recorded it."""

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


def audit_log(*, action: str = "", actor: str = "") -> QuerySet[Any]:
    """Every change to a flag, a model's visibility or a run by a moderator, newest first, as
    (source, id, time) rows: the rule's flag changes, moderators' decisions on flags and
    models, locks and re-runs, runs cancelled or retried, internal notes. One query for the
    rows of a page (``Paginator`` slices it), then ``audit_entries`` reads that page's rows:
    the cost of a page does not grow with the log."""
    queries = (_rows(source, read(action, actor)) for source, read in _SOURCES.items())
    parts = [part for part in queries if part is not None]
    if not parts:
        return FlagEvent.objects.none().values_list("id")
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-at", "-row_id")


def audit_entries(rows: Iterable[tuple[str, int, datetime]]) -> list[AuditEntry]:
    """The entries of a page of ``audit_log`` rows, in the same order: one query per source
    present on the page."""
    wanted: dict[str, list[int]] = {}
    for source, row_id, _ in rows:
        wanted.setdefault(source, []).append(row_id)
    loaded = {
        (source, row_id): entry
        for source, ids in wanted.items()
        for row_id, entry in _READERS[source](ids).items()
    }
    return [loaded[(source, row_id)] for source, row_id, _ in rows]


def _rows(source: str, queryset: QuerySet[Any] | None) -> AuditRows | None:
    if queryset is None:
        return None
    rows: AuditRows = (
        queryset.order_by()
        .annotate(
            source=Value(source, output_field=CharField()), row_id=F("id"), at=F("created_at")
        )
        .values_list("source", "row_id", "at")
    )
    return rows


def _by_actor(queryset: QuerySet[Any], field: str, actor: str) -> QuerySet[Any] | None:
    """Only a flag's events have the rule as their actor (an empty actor)."""
    if actor == AUTOMATIC_ACTOR:
        return queryset.filter(**{field: ""}) if queryset.model is FlagEvent else None
    return queryset.filter(**{field: actor}) if actor else queryset


@dataclass(frozen=True)
class _ActionRows:
    """The rows of one table of moderators' (or the rule's) actions, filtered for the log:
    which column holds the action, and the actions that table can hold."""

    queryset: Callable[[], QuerySet[Any]]
    field: str
    actions: Iterable[str]

    def __call__(self, action: str, actor: str) -> QuerySet[Any] | None:
        if action and action not in self.actions:
            return None  # this table never holds that action
        rows = self.queryset()
        return _by_actor(rows.filter(**{self.field: action}) if action else rows, "actor", actor)


def _internal_note_rows(action: str, actor: str) -> QuerySet[Any] | None:
    if action and action != INTERNAL_NOTE:
        return None
    return _by_actor(Comment.objects.filter(internal=True), "user_name", actor)


def _flag_events(ids: list[int]) -> dict[int, AuditEntry]:
    before = FlagEvent.objects.filter(flag=OuterRef("flag"), id__lt=OuterRef("id"))
    events = cast(
        "QuerySet[FlagEventAfter]",
        FlagEvent.objects.filter(id__in=ids)
        .select_related(*FLAG_REPO)
        .annotate(previous=Subquery(before.order_by("-id").values("state")[:1])),
    )
    return {
        e.id: AuditEntry(
            e.created_at,
            e.actor or AUTOMATIC_ACTOR,
            e.state,
            e.reason,
            flag_id=e.flag_id,
            hub_id=e.flag.repo.hub_id,
            run_id=None if e.actor else e.run_id,
            state_before=FlagState(e.previous).label if e.previous else "",
            state_after=e.get_state_display(),
        )
        for e in events
    }


def _repo_decisions(ids: list[int]) -> dict[int, AuditEntry]:
    before = RepoDecision.objects.filter(repo=OuterRef("repo"), id__lt=OuterRef("id"))
    decisions = cast(
        "QuerySet[RepoDecisionAfter]",
        RepoDecision.objects.filter(id__in=ids)
        .select_related("repo")
        .annotate(previous=Subquery(before.order_by("-id").values("action")[:1])),
    )
    return {
        d.id: AuditEntry(
            d.created_at,
            d.actor,
            d.action,
            d.reason,
            hub_id=d.repo.hub_id,
            state_before=REPO_STATES[d.previous or RepoDecision.Action.UNHIDE],
            state_after=REPO_STATES[d.action],
        )
        for d in decisions
    }


def _flag_actions(ids: list[int]) -> dict[int, AuditEntry]:
    actions = FlagAction.objects.filter(id__in=ids).select_related(
        "flag__claim__repo", "flag__provenance_event__repo"
    )
    return {
        a.id: AuditEntry(
            a.created_at,
            a.actor,
            a.action,
            a.reason,
            flag_id=a.flag_id,
            hub_id=a.flag.repo.hub_id,
            state_before=a.state_before,
            state_after=a.state_after,
            run_id=a.run_id,
        )
        for a in actions
    }


def _run_actions(ids: list[int]) -> dict[int, AuditEntry]:
    actions = RunAction.objects.filter(id__in=ids).select_related("run__submission__repo")
    return {
        a.id: AuditEntry(
            a.created_at,
            a.actor,
            a.action,
            a.reason,
            hub_id=a.run.submission.repo.hub_id,
            run_id=a.new_run_id or a.run_id,
            state_before=f"run #{a.run_id} {RunState(a.state_before).label.lower()}",
            state_after=(
                f"run #{a.new_run_id} queued" if a.new_run_id else f"run #{a.run_id} cancelled"
            ),
        )
        for a in actions
    }


def _internal_notes(ids: list[int]) -> dict[int, AuditEntry]:
    notes = Comment.objects.filter(id__in=ids).select_related(
        "flag__claim__repo", "flag__provenance_event__repo"
    )
    return {
        n.id: AuditEntry(
            n.created_at,
            n.user_name,
            INTERNAL_NOTE,
            n.body,
            flag_id=n.flag_id,
            hub_id=n.flag.repo.hub_id,
        )
        for n in notes
    }


_SOURCES: dict[str, RowsOfSource] = {
    "flag-event": _ActionRows(FlagEvent.objects.all, "state", FlagState.values),
    "repo-decision": _ActionRows(RepoDecision.objects.all, "action", RepoDecision.Action.values),
    "flag-action": _ActionRows(FlagAction.objects.all, "action", FlagAction.Action.values),
    "run-action": _ActionRows(RunAction.objects.all, "action", RunAction.Action.values),
    "internal-note": _internal_note_rows,
}
_READERS: dict[str, EntriesOfSource] = {
    "flag-event": _flag_events,
    "repo-decision": _repo_decisions,
    "flag-action": _flag_actions,
    "run-action": _run_actions,
    "internal-note": _internal_notes,
}
