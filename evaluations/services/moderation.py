"""What moderators do: decide on flags and hide models, always with a reason, on the record.

Permissions are enforced here, not only in templates: a caller who is not a moderator gets
PermissionDenied whatever page or API it came through. Every action is a new row (a
FlagEvent or a RepoDecision) with the actor, the time and the reason; nothing is edited.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from evaluations.models import (
    AUTOMATIC_STATES,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
    RepoDecision,
)
from evaluations.services.generation import generation_bump
from evaluations.services.read_models import ranking_entries_refresh

MODERATORS_GROUP = "moderators"
FLAG_ACTIONS = {
    "confirm": FlagState.CONFIRMED,
    "dismiss": FlagState.DISMISSED,
    "ask-author": FlagState.AUTHOR_ASKED,
}
MIN_REASON, MAX_REASON = 10, 4000

User = AbstractBaseUser | AnonymousUser


def is_moderator(user: User) -> bool:
    if not user.is_authenticated:
        return False
    return bool(getattr(user, "is_superuser", False)) or user.groups.filter(
        name=MODERATORS_GROUP
    ).exists()


def _require_moderator(user: User) -> str:
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")
    return user.get_username()


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ValidationError(f"Give the reason in a sentence (at least {MIN_REASON} characters).")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Keep the reason under {MAX_REASON} characters.")
    return reason


def flag_moderate(*, flag_id: int, user: User, action: str, reason: str) -> FlagEvent:
    """Confirm or dismiss a flag, or ask its author to respond."""
    actor = _require_moderator(user)
    if action not in FLAG_ACTIONS:
        raise ValidationError(f"Unknown action “{action}”.")
    reason = _clean_reason(reason)
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(id=flag_id)
        rule = flag.events.filter(state__in=AUTOMATIC_STATES).order_by("-created_at", "-id")
        last = rule.first()
        event = FlagEvent.objects.create(
            flag=flag, state=FLAG_ACTIONS[action], reason=reason, actor=actor,
            severity=last.severity if last else "", run=last.run if last else None,
            evidence=last.evidence if last else {},
        )
        ranking_entries_refresh(repo_id=flag.claim.repo_id)  # a decision moves the badge
        generation_bump()
        return event


def repo_set_hidden(*, repo_id: int, user: User, hidden: bool, reason: str) -> RepoDecision:
    """Hide a model from the rankings (or show it again). Its pages stay public."""
    actor = _require_moderator(user)
    reason = _clean_reason(reason)
    with transaction.atomic():
        repo = ModelRepo.objects.select_for_update().get(id=repo_id)
        action = RepoDecision.Action.HIDE if hidden else RepoDecision.Action.UNHIDE
        latest = repo.decisions.order_by("-created_at", "-id").first()
        current = latest.action if latest else RepoDecision.Action.UNHIDE
        if current == action:
            raise ValidationError("The model is already hidden." if hidden
                                  else "The model is not hidden.")
        decision = RepoDecision.objects.create(repo=repo, action=action, reason=reason,
                                               actor=actor)
        ranking_entries_refresh(repo_id=repo.id)
        generation_bump()
        return decision
