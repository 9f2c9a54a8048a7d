"""Rate limits an operator sets in settings: submissions per user and per organisation per
week, claims per user per day. Counted from the rows themselves, so every web process and
every restart agrees. Moderators and names on ``RATE_LIMIT_ALLOW_LIST`` are not limited."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Min, QuerySet
from django.utils import timezone

from evaluations.models import Claim, Submission
from evaluations.services.authors import hub_name, repo_owner
from evaluations.services.moderation import is_moderator

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


def _is_allowed_listed(user: AbstractBaseUser, *names: str) -> bool:
    allow = {name.lower() for name in settings.RATE_LIMIT_ALLOW_LIST}
    candidates = {user.get_username().lower(), hub_name(user).lower(), *names}
    return is_moderator(user) or bool(allow & {name.lower() for name in candidates})


def _enforce(limit: Limit, rows: QuerySet, stamp: str, adding: int = 1) -> None:
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


def rate_limit_submission(*, user: AbstractBaseUser, repo_id: str) -> None:
    """Refuse a submission past the per-user or the per-organisation weekly limit."""
    owner = repo_owner(repo_id)
    if _is_allowed_listed(user, owner):
        return
    _enforce(Limit("Submissions per account", settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK,
                   WEEK), Submission.objects.filter(submitted_by=user), "submitted_at")
    _enforce(Limit(f"Submissions of {owner}'s repos",
                   settings.RATE_LIMIT_SUBMISSIONS_PER_ORG_WEEK, WEEK),
             Submission.objects.filter(repo__hub_id__istartswith=f"{owner}/",
                                       submitted_by__isnull=False), "submitted_at")


def rate_limit_claims(*, user: AbstractBaseUser, count: int) -> None:
    """Refuse claims past the per-user daily limit."""
    if _is_allowed_listed(user):
        return
    _enforce(Limit("Claims per account", settings.RATE_LIMIT_CLAIMS_PER_DAY, DAY),
             Claim.objects.filter(reporter=user), "created_at", adding=count)


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"
