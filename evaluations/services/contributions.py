"""What signed-in people contribute: submissions with the scores they claim, and claims
through the API. Permissions and rate limits are enforced here, whatever page or API the
call came through.

Only an author of a repo (``services.authors``) may make or correct *author* claims. Anyone
signed in may submit a public repo and record a third-party claim with a source link; such
claims carry the name of whoever reported them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Unpack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from evaluations.models import Claim, ClaimSource, Revision, Unit
from evaluations.services.authors import (
    hub_membership_current,
    hub_name,
    is_repo_author,
    membership_owns,
    require_repo_author,
)
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
            if not earlier.correctable_by(user.pk, author=False, moderator=is_moderator(user)):
                raise PermissionDenied(
                    f"Claim #{earlier.id} was reported by someone else; only they can correct it."
                )
        else:
            require_repo_author(user, repo_id)


def correctable_claims(user: User, repo_id: str, claims: Sequence[Claim]) -> set[int]:
    """The ids of ``claims`` this user may correct or withdraw (``_check_corrections``'s
    rule), read from what the hub last said, without asking it again: pages offer the forms
    with it; the services check again, asking the hub, when one is sent."""
    if not user.is_authenticated:
        return set()
    author = membership_owns(hub_membership_current(user), repo_id)
    moderator = is_moderator(user)
    return {
        claim.id
        for claim in claims
        if claim.correctable_by(user.pk, author=author, moderator=moderator)
    }


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


# --- Correcting and withdrawing a claim from its model's page ------------------------------

MAX_NOTE = 500


def _restated(claim: Claim, note: str) -> ClaimInput:
    """The claim's setting, to be restated by a correction or a withdrawal: the benchmark,
    shots, chat template and the rest stay; where it came from is the earlier row's."""
    return ClaimInput(
        benchmark=claim.benchmark,
        value=None,
        unit=claim.unit if claim.unit in Unit.values else Unit.FRACTION,
        shots=claim.shots,
        chat_template=claim.chat_template,
        chain_of_thought=claim.chain_of_thought,
        system_prompt=claim.system_prompt,
        label=claim.label,
        metric=claim.metric,
        filter=claim.filter,
        source_url=claim.source_url,
        source_name=claim.source_name,
        inherited_from=claim.inherited_from,
        supersedes=claim.id,
        note=" ".join(note.split())[:MAX_NOTE],
    )


def _earlier(claim_id: int) -> Claim:
    earlier = Claim.objects.select_related("repo", "revision").filter(id=claim_id).first()
    if earlier is None:
        raise ValidationError(f"There is no claim #{claim_id}.")
    return earlier


def _supersede(user: User, earlier: Claim, restated: ClaimInput) -> Claim:
    account = _require_signed_in(user, "correct or withdraw a claim")
    repo_id = earlier.repo.hub_id
    _check_corrections(account, repo_id, [restated])
    third_party = earlier.source == ClaimSource.THIRD_PARTY
    with transaction.atomic():  # the limit's count and the insert, under one lock
        rate_limit_claims(user=account, repo_id=repo_id, count=1)
        (row,) = claims_record(
            repo_id=repo_id,
            claims=[restated],
            source=ClaimSource.THIRD_PARTY if third_party else ClaimSource.SITE,
            reported_by=hub_name(account),
            revision=earlier.revision,
            reporter=account,
        )
    return row


def claim_correct(
    *,
    user: User,
    claim_id: int,
    value: float,
    unit: str = Unit.PERCENT,
    stderr: float | None = None,
    note: str = "",
) -> Claim:
    """A corrected value for a current claim: a new row in the same setting that supersedes
    it. Only who may correct the claim may (see ``_check_corrections``)."""
    earlier = _earlier(claim_id)
    corrected = replace(
        _restated(earlier, note),
        value=value,
        unit=unit,
        stated_stderr=stderr,
        typed_value=f"{value:g}",
        unit_reason="chosen by who corrected it",
    )
    return _supersede(user, earlier, corrected)


def claim_withdraw(*, user: User, claim_id: int, note: str = "") -> Claim:
    """Take a current claim back: a new row, in the same setting, that supersedes it and
    claims no value. The claim, its flags and this withdrawal all stay on the record."""
    earlier = _earlier(claim_id)
    withdrawal = replace(_restated(earlier, note), withdrawn=True, typed_value="withdrawn")
    return _supersede(user, earlier, withdrawal)
