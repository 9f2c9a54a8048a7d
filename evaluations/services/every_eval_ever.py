"""Scores an Every Eval Ever record states, imported as claims with their source.

A record says who ran the evaluation (``evaluator_relationship``). Only a first-party record,
the model's developer reporting its own results, becomes author claims
(``ClaimSource.EVERY_EVAL_EVER``). Anyone else's record is refused as the author's word; with
``third_party=True`` it is recorded as a third-party claim instead, naming the organisation
that ran it, and then needs a link to where it was published, as every third-party claim does.
A record is imported once: the same evaluation id for the same repo is not recorded twice.
A record that names a commit (``model_info.additional_details.sha``) is about that commit,
which must have been evaluated here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError

from evaluations.every_eval_ever import ReadRecord, RecordError, read_record
from evaluations.models import Claim, ClaimSource, Revision
from evaluations.services.claims import claims_record

SOURCE_PREFIX = "Every Eval Ever: "


@dataclass(frozen=True)
class ImportOutcome:
    repo_id: str
    evaluation_id: str
    source: str
    claims: list[Claim]
    already_imported: bool = False


def claims_import_every_eval_ever(
    *, record: Any, third_party: bool = False, source_url: str = ""
) -> ImportOutcome:
    """Record the scores of a parsed Every Eval Ever record as claims made together.

    Raises ``ValidationError`` with a sentence for a record that cannot be read or may not be
    imported as asked; never anything else for a malformed record."""
    try:
        read = read_record(record)
    except RecordError as error:
        raise ValidationError(str(error), code="invalid_every_eval_ever_record") from error
    source = _source(read, third_party=third_party, source_url=source_url)
    revision = _revision(read)
    source_name = (SOURCE_PREFIX + read.evaluation_id)[:200]
    earlier = Claim.objects.filter(
        repo__hub_id=read.repo_id, source=source, source_name=source_name
    )
    if earlier.exists():
        return ImportOutcome(read.repo_id, read.evaluation_id, source, [], already_imported=True)
    claims = [
        replace(claim, source_name=source_name, source_url=source_url) for claim in read.claims
    ]
    rows = claims_record(
        repo_id=read.repo_id,
        claims=claims,
        source=source,
        reported_by=read.source_organization,
        revision=revision,
    )
    return ImportOutcome(read.repo_id, read.evaluation_id, source, rows)


def _source(read: ReadRecord, *, third_party: bool, source_url: str) -> str:
    if third_party:
        if not source_url:
            raise ValidationError(
                "A third-party claim needs a link to where the record was published (source_url).",
                code="no_source_url",
            )
        return ClaimSource.THIRD_PARTY
    if read.evaluator_relationship != "first_party":
        raise ValidationError(
            f"The record's evaluator_relationship is {read.evaluator_relationship}: it was not "
            f"made by the developer of {read.repo_id}, so its scores are not the author's "
            "claims. Import it as third-party claims, with a link to where it was published.",
            code="not_first_party",
        )
    return ClaimSource.EVERY_EVAL_EVER


def _revision(read: ReadRecord) -> Revision | None:
    """The commit the record names; none named: the model in general. A commit we have not
    inspected is refused, as the claims API refuses it: judging its scores against another
    commit's measurement would be unfair to both."""
    if not read.commit_sha:
        return None
    revision = Revision.objects.filter(
        repo__hub_id=read.repo_id, commit_sha=read.commit_sha
    ).first()
    if revision is None:
        raise ValidationError(
            f"The record is about commit {read.commit_sha} of {read.repo_id}, which has not "
            "been evaluated here; submit that commit first, then import the record.",
            code="unknown_commit",
        )
    return revision
