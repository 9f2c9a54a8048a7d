"""What signed-in people contribute: submissions with the scores they claim, and claims
through the API. Permissions and rate limits are enforced here, whatever page or API the
call came through.

Only an author of a repo (``services.authors``) may make or correct *author* claims. Anyone
signed in may submit a public repo and record a third-party claim with a source link; such
claims carry the name of whoever reported them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from evaluations.models import Claim, ClaimSource, Revision
from evaluations.services.authors import hub_name, is_repo_author, require_repo_author
from evaluations.services.claims import ClaimInput, claims_record
from evaluations.services.limits import rate_limit_claims, rate_limit_submission
from evaluations.services.moderation import is_moderator
from evaluations.services.permissions import Account, User
from evaluations.services.submissions import (
    SubmissionOutcome,
    SubmissionSetting,
    submission_create,
)
from evaluations.validation import clean_commit_sha, clean_repo_id


def _require_signed_in(user: User, doing: str) -> Account:
    if not user.is_authenticated:
        raise PermissionDenied(f"Sign in to {doing}.")
    return user


def _require_source_links(claims: Sequence[ClaimInput], repo_id: str) -> None:
    missing = [claim.label or claim.benchmark for claim in claims if not claim.source_url]
    if missing:
        raise ValidationError(
            f"You are not an author of {repo_id}, so these scores are recorded as third-party "
            f"claims, and each needs a link to where it was published (missing for "
            f"{', '.join(missing)})."
        )


def _check_corrections(user: Account, repo_id: str, claims: Sequence[ClaimInput]) -> None:
    """An author claim is corrected only by an author; a third-party claim only by the
    account that reported it (or a moderator)."""
    ids = [claim.supersedes for claim in claims if claim.supersedes]
    for earlier in Claim.objects.filter(id__in=ids, repo__hub_id=repo_id):
        if earlier.source == ClaimSource.THIRD_PARTY:
            if earlier.reporter_id != user.pk and not is_moderator(user):
                raise PermissionDenied(
                    f"Claim #{earlier.id} was reported by someone else; only they can correct it."
                )
        else:
            require_repo_author(user, repo_id)


def submission_submit(
    *,
    user: User,
    claims: Sequence[ClaimInput],
    repo_id: str,
    **submission: Unpack[SubmissionSetting],
) -> SubmissionOutcome:
    """A signed-in user's submission and the scores entered with it, all or nothing.

    The scores are author claims when the hub says the user is an author of the repo, and
    third-party claims (each with a source link) otherwise."""
    account = _require_signed_in(user, "submit a model")
    repo_id = clean_repo_id(repo_id)
    author = is_repo_author(account, repo_id)
    if claims and not author:
        _require_source_links(claims, repo_id)
    with transaction.atomic():  # the limits' counts and the inserts, under one lock
        rate_limit_submission(user=account, repo_id=repo_id)
        if claims:
            rate_limit_claims(user=account, repo_id=repo_id, count=len(claims))
        outcome = submission_create(repo_id=repo_id, submitted_by=account, **submission)
        claims_record(
            repo_id=repo_id,
            claims=claims,
            source=ClaimSource.SUBMISSION if author else ClaimSource.THIRD_PARTY,
            reported_by=hub_name(account),
            submission=outcome.submission,
            reporter=account,
        )
    return outcome


def claims_submit(
    *,
    user: User,
    repo_id: str,
    claims: Sequence[ClaimInput],
    third_party: bool = False,
    commit_sha: str | None = None,
) -> list[Claim]:
    """Claims sent through the API: author claims need an author, third-party ones a link."""
    account = _require_signed_in(user, "record claims")
    repo_id = clean_repo_id(repo_id)
    if third_party:
        _require_source_links(claims, repo_id)
    else:
        require_repo_author(account, repo_id)
    _check_corrections(account, repo_id, claims)
    revision = None
    if commit_sha:
        commit_sha = clean_commit_sha(commit_sha)
        revision = Revision.objects.filter(repo__hub_id=repo_id, commit_sha=commit_sha).first()
        if revision is None:
            raise ValidationError(
                f"{repo_id} has no evaluated commit {commit_sha}; submit it "
                "first or omit commit_sha."
            )
    with transaction.atomic():  # the limit's count and the insert, under one lock
        rate_limit_claims(user=account, repo_id=repo_id, count=len(claims))
        return claims_record(
            repo_id=repo_id,
            claims=claims,
            revision=revision,
            reporter=account,
            source=ClaimSource.THIRD_PARTY if third_party else ClaimSource.API,
            reported_by=hub_name(account),
        )
