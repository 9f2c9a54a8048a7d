"""Rows about people's accounts: what the hub says they are, and their API tokens.

Sign-in itself is django-allauth's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class HubMembership(models.Model):
    """What the hub said, at one moment, about a signed-in user: the hub account's name and
    its organisations. Append-only: the latest answer is in force until it grows stale and
    is asked again (``AUTHOR_RECHECK_AFTER``)."""

    class Source(models.TextChoices):
        SIGN_IN = "sign-in", "the hub's sign-in (userinfo)"
        RECHECK = "re-check", "asked again from the hub (userinfo)"
        EXPIRED = "expired", "the hub no longer accepts the stored token"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hub_memberships"
    )
    hub_username = models.CharField(max_length=100)
    orgs = models.JSONField(default=list, help_text="names of the hub organisations")
    source = models.CharField(max_length=10, choices=Source.choices)
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["user", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.hub_username} ({', '.join(self.orgs) or 'no organisations'})"


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        """Tokens not revoked."""
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A bearer token for the claims API. Only a SHA-256 digest is kept: the token itself is
    shown once, when it is made. Revoking stamps ``revoked_at``; the row stays."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="the first characters, to recognise it")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
