"""Reads for moderators: the queue of flags to decide and the models they hid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from evaluations.models import QUEUE_STATES, FlagEvent, FlagState, ModelRepo, RepoDecision
from evaluations.selectors.flags import flags_with_state

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

    from evaluations.selectors.flags import FlagWithState


def hidden_repo_ids() -> QuerySet[ModelRepo, dict[str, Any]]:
    """Repos a moderator hid from the rankings (their latest decision is "hide")."""
    latest = RepoDecision.objects.filter(repo=OuterRef("pk")).newest_first()
    return (
        ModelRepo.objects.annotate(last_action=Subquery(latest.values("action")[:1]))
        .filter(last_action=RepoDecision.Action.HIDE)
        .values("id")
    )


QUEUE_SORTS = {"severity", "age", "q"}
SEVERITY_ORDER = {"severe": 0, "major": 1, "minor": 2, "": 3}


@dataclass(frozen=True)
class QueueItem:
    """A flag in the queue with its latest rule event, whether the author was asked and
    whether the rule reopened it after a decision (see ``flags_with_state``)."""

    flag: FlagWithState
    rule_event: FlagEvent
    author_asked: bool
    reopened_after_decision: bool

    @classmethod
    def of(cls, flag: FlagWithState) -> QueueItem:
        events = list(flag.events.all())
        return cls(
            flag,
            rule_event=[e for e in events if not e.is_moderation][-1],
            author_asked=any(e.state == FlagState.AUTHOR_ASKED for e in events),
            reopened_after_decision=flag.latest_decision is not None,
        )


_SORT_KEYS: dict[str, Callable[[QueueItem], SupportsRichComparison]] = {
    "severity": lambda i: (SEVERITY_ORDER.get(i.rule_event.severity, 3), i.flag.created_at),
    "age": lambda i: i.flag.created_at,
    "q": lambda i: i.rule_event.evidence.get("q", 1.0),
}


def moderation_queue(sort: str = "severity") -> list[QueueItem]:
    """Flags the rule holds open with no decision in force, sorted by ``sort``."""
    flags = (
        flags_with_state()
        # django-stubs 5.2.9 checks a lookup on an annotation (``__in``, ``__isnull``)
        # against the annotation's own type (typeddjango/django-stubs#3098, #3313).
        .filter(rule_state__in=QUEUE_STATES, decision__isnull=True)  # type: ignore[misc]
        .select_related("claim__repo", "provenance_event__repo", "endpoint_check__endpoint__repo")
        .prefetch_related(
            Prefetch("events", queryset=FlagEvent.objects.order_by("created_at", "id"))
        )
    )
    items = [QueueItem.of(flag) for flag in flags]
    return sorted(items, key=_SORT_KEYS[sort if sort in QUEUE_SORTS else "severity"])
