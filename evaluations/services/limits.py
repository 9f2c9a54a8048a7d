"""Rate limits an operator sets in settings: submissions per user and per organisation per
week, claims per user per day. Counted from the rows themselves, so every web process and
every restart agrees; the count and the insert that follows it run in one transaction under
a lock on the account (and the organisation), so parallel requests cannot both slip under a
limit.

Moderators are not limited, nor anyone ``RATE_LIMIT_ALLOW_LIST`` names: a bare name there is
a hub account or organisation, matched only against what the Hugging Face sign-in verified
(never against a local user name anyone can register); ``user:<name>`` names a local account.
An allow-listed organisation lifts the limits of its own authors on its own repos, not of
outsiders who submit them. The per-organisation limit counts only its authors' submissions,
so outsiders (bounded by their per-user limit) cannot use up an organisation's quota."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Model, QuerySet
from django.utils import timezone

from evaluations.models import Claim, HubMembership, Submission
from evaluations.services.authors import (
    hub_membership_in_force,
    membership_owns,
    repo_authors,
    repo_owner,
)
from evaluations.services.moderation import is_moderator
from evaluations.services.permissions import Account

LOCAL_USER_PREFIX = "user:"
WEEK, DAY = timedelta(days=7), timedelta(days=1)


class RateLimited(Exception):
    """Over a limit: ``retry_after`` seconds until the oldest counted action leaves the
    window."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, retry_after)


@dataclass(frozen=True)
class Limit:
    what: str
    allowed: int
    window: timedelta


def _is_allowed_listed(user: Account, repo_id: str, membership: HubMembership | None) -> bool:
    if is_moderator(user):
        return True
    allow = {name.strip().lower() for name in settings.RATE_LIMIT_ALLOW_LIST}
    if f"{LOCAL_USER_PREFIX}{user.get_username().lower()}" in allow:
        return True
    if membership is None:
        return False  # an e-mail account: no hub identity was verified
    if membership.hub_username.lower() in allow:
        return True
    return repo_owner(repo_id) in allow and membership_owns(membership, repo_id)


def _lock(*keys: str) -> None:
    """Serialise the count-then-insert of everyone sharing a key until the transaction ends.

    A PostgreSQL advisory lock (taken in a fixed order, so two keys cannot deadlock); SQLite
    lets only one transaction write at a time and the demo serves from one process, so it
    needs none."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("rate limits are checked inside the transaction that inserts")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(keys):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"limits:{key}"])


def _enforce(limit: Limit, rows: QuerySet[Model], stamp: str, adding: int = 1) -> None:
    if limit.allowed <= 0:
        return
    since = timezone.now() - limit.window
    recent = rows.filter(**{f"{stamp}__gte": since})
    used = recent.count()
    if used + adding <= limit.allowed:
        return
    oldest: datetime = recent.aggregate(oldest=Min(stamp))["oldest"] or timezone.now()
    retry_after = math.ceil((oldest + limit.window - timezone.now()).total_seconds())
    window = "week" if limit.window == WEEK else "day"
    raise RateLimited(
        f"{limit.what}: at most {limit.allowed} a {window} ({used} used). "
        f"Try again in {_in_words(retry_after)}.",
        retry_after,
    )


def rate_limit_submission(*, user: Account, repo_id: str) -> None:
    """Refuse a submission past the per-user or the per-organisation weekly limit. Call it
    inside the transaction that creates the submission."""
    owner = repo_owner(repo_id)
    membership = hub_membership_in_force(user)
    if _is_allowed_listed(user, repo_id, membership):
        return
    author = membership_owns(membership, repo_id)
    _lock(f"user:{user.pk}", *([f"org:{owner}"] if author else []))
    _enforce(
        Limit("Submissions per account", settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK, WEEK),
        Submission.objects.filter(submitted_by=user),
        "submitted_at",
    )
    if not author:
        return  # an outsider is bounded by the per-user limit alone
    author_ids = {author.pk for author in repo_authors(repo_id)} | {user.pk}
    _enforce(
        Limit(
            f"Submissions of {owner}'s repos by its authors",
            settings.RATE_LIMIT_SUBMISSIONS_PER_ORG_WEEK,
            WEEK,
        ),
        Submission.objects.filter(
            repo__hub_id__istartswith=f"{owner}/", submitted_by__in=author_ids
        ),
        "submitted_at",
    )


def rate_limit_claims(*, user: Account, repo_id: str, count: int) -> None:
    """Refuse claims past the per-user daily limit. Call it inside the transaction that
    records them."""
    if _is_allowed_listed(user, repo_id, hub_membership_in_force(user)):
        return
    _lock(f"user:{user.pk}")
    _enforce(
        Limit("Claims per account", settings.RATE_LIMIT_CLAIMS_PER_DAY, DAY),
        Claim.objects.filter(reporter=user),
        "created_at",
        adding=count,
    )


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"
