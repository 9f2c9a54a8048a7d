"""API tokens for the claims API: made, listed, revoked. Only a digest is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from evaluations.models import ApiToken
from evaluations.services.permissions import Account, User

TOKEN_PREFIX = "cc_"  # noqa: S105 - a public prefix, recognisable in logs and scanners
MAX_ACTIVE_TOKENS = 10


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plain token is returned once and never stored."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to make an API token.")
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError("Give the token a name, e.g. the machine that will use it.")
    with transaction.atomic():
        active = ApiToken.objects.select_for_update().active().filter(user=user)
        if active.count() >= MAX_ACTIVE_TOKENS:
            raise ValidationError(
                f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one to make another."
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken.objects.create(
            user=user, name=name, prefix=token[:10], digest=_digest(token)
        )
    return row, token


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens. The row stays, stamped with the time."""
    row = ApiToken.objects.filter(id=token_id).first()
    if row is None or row.user_id != user.pk:
        raise PermissionDenied("This is not one of your tokens.")
    ApiToken.objects.active().filter(id=row.id).update(revoked_at=timezone.now())
    row.refresh_from_db()
    return row


def api_token_authenticate(token: str) -> Account | None:
    """The active user a bearer token belongs to, or None. Stamps the token's last use."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = ApiToken.objects.active().select_related("user").filter(digest=_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    ApiToken.objects.filter(id=row.id).update(last_used_at=timezone.now())
    return row.user
