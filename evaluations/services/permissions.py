"""Who is a moderator, and the reason every moderator action must give.

Kept apart from ``moderation`` so that services it imports (runs) can check moderators too
without an import cycle."""

from __future__ import annotations

from django.contrib.auth import models as auth
from django.core.exceptions import PermissionDenied, ValidationError

MODERATORS_GROUP = "moderators"
MIN_REASON, MAX_REASON = 10, 4000

# A signed-in person's row: the project keeps Django's own user model.
Account = auth.User
# Whoever makes a request (Django's ``request.user``): a signed-in account or a visitor.
User = Account | auth.AnonymousUser


def is_moderator(user: User) -> bool:
    if not user.is_authenticated:
        return False
    return (
        bool(getattr(user, "is_superuser", False))
        or user.groups.filter(name=MODERATORS_GROUP).exists()
    )


def require_moderator(user: User) -> str:
    if not is_moderator(user):
        raise PermissionDenied("Only moderators can do this.")
    return user.get_username()


def clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ValidationError(f"Give the reason in a sentence (at least {MIN_REASON} characters).")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"Keep the reason under {MAX_REASON} characters.")
    return reason
