"""Reads for moderators: the queue of flags to decide and the models they hid."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from evaluations.models import QUEUE_STATES, Flag, FlagEvent, FlagState, ModelRepo, RepoDecision
from evaluations.selectors.flags import flags_with_state


def hidden_repo_ids() -> QuerySet[ModelRepo]:
    """Repos a moderator hid from the rankings (their latest decision is "hide")."""
    latest = RepoDecision.objects.filter(repo=OuterRef("pk")).newest_first()
    return (
        ModelRepo.objects.annotate(last_action=Subquery(latest.values("action")[:1]))
        .filter(last_action=RepoDecision.Action.HIDE)
        .values("id")
    )


QUEUE_SORTS = {"severity", "age", "q"}
SEVERITY_ORDER = {"severe": 0, "major": 1, "minor": 2, "": 3}


def moderation_queue(sort: str = "severity") -> list[Flag]:
    """Flags the rule holds open with no decision in force, each with its latest rule
    event (``rule_event``), whether the author was asked (``author_asked``) and whether the
    rule reopened it after a decision (``reopened_after_decision``, see
    ``flags_with_state``)."""
    flags = list(
        flags_with_state()
        .filter(rule_state__in=QUEUE_STATES, decision__isnull=True)
        .select_related("claim__repo")
        .prefetch_related(
            Prefetch("events", queryset=FlagEvent.objects.order_by("created_at", "id"))
        )
    )
    for flag in flags:
        events = list(flag.events.all())
        flag.rule_event = [e for e in events if not e.is_moderation][-1]
        flag.author_asked = any(e.state == FlagState.AUTHOR_ASKED for e in events)
        flag.reopened_after_decision = flag.latest_decision is not None
    keys = {
        "severity": lambda f: (SEVERITY_ORDER.get(f.rule_event.severity, 3), f.created_at),
        "age": lambda f: f.created_at,
        "q": lambda f: f.rule_event.evidence.get("q", 1.0),
    }
    return sorted(flags, key=keys[sort if sort in QUEUE_SORTS else "severity"])
