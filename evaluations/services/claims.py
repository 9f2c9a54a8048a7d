"""Claims in, flags out.

Claims are recorded once and never edited (a correction supersedes). Whenever a claim arrives
or a run finishes, ``flags_recompute`` lays the current claims next to the measurements in the
same setting (``selectors.claim_evidence``), and every change of a flag's state is appended
as a new event. Claims that only lack a measurement in their setting get a claim-matched run.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from evaluations.catalogue import BENCHMARKS
from evaluations.generation import generation_bump
from evaluations.models import (
    Claim,
    ClaimSource,
    ModelRepo,
    Revision,
    Submission,
    Unit,
)
from evaluations.services.evidence import evidence_changed
from evaluations.services.permissions import Account
from evaluations.validation import clean_repo_id

MAX_CLAIMS_PER_BATCH = 50


@dataclass(frozen=True)
class ClaimInput:
    """One claim as a form, the API or a model card gives it; ``value`` in ``unit``."""

    benchmark: str  # catalogue key, or "" when the benchmark is not in the catalogue
    value: float | None
    unit: str = Unit.FRACTION
    shots: int | None = None
    chat_template: bool | None = False
    chain_of_thought: bool | None = False
    system_prompt: str = ""
    stated_stderr: float | None = None  # in the same unit as the value
    label: str = ""
    metric: str = ""
    filter: str = ""
    typed_value: str = ""
    unit_reason: str = ""
    not_comparable_reason: str = ""
    source_url: str = ""
    source_name: str = ""
    inherited_from: str = ""
    supersedes: int | None = None  # id of the claim this one corrects
    withdrawn: bool = False  # takes back the claim it supersedes, claiming nothing itself
    note: str = ""  # why it corrects or withdraws, as its author says
    # Set when the value was already converted to a raw fraction (a model-card import, which
    # decides the unit itself); ``value`` and ``unit`` then only describe what was written.
    fraction: float | None = None
    stderr_fraction: float | None = None
    # What a hub .eval_results entry adds (Claim's fields of the same names).
    source_org: str = ""
    source_ref: str = ""
    dataset_id: str = ""
    dataset_task_id: str = ""
    dataset_revision: str = ""
    verify_token: str = ""
    result_date: datetime.date | None = None


def to_fraction(value: float, unit: str, benchmark: str) -> float:
    """The raw fraction a value stands for. Normalised values (0–100 above the random
    baseline) convert back only where the catalogue knows the baseline."""
    if unit == Unit.FRACTION:
        return value
    if unit == Unit.PERCENT:
        return value / 100.0
    baseline = BENCHMARKS[benchmark].random_baseline
    return baseline + value / 100.0 * (1.0 - baseline)


TEXT_FIELDS = (
    "benchmark",
    "label",
    "metric",
    "filter",
    "system_prompt",
    "typed_value",
    "unit_reason",
    "not_comparable_reason",
    "source_url",
    "source_name",
    "inherited_from",
    "source_org",
    "source_ref",
    "dataset_id",
    "dataset_task_id",
    "dataset_revision",
    "verify_token",
    "note",
)


def _check_text(claim: ClaimInput) -> None:
    """NUL characters are refused: no database stores them as text, and no claim needs one."""
    for name in TEXT_FIELDS:
        if "\x00" in getattr(claim, name):
            raise ValidationError(
                f"The claim's {name.replace('_', ' ')} contains a NUL character.",
                code="nul_character",
            )


def _check(claim: ClaimInput) -> ClaimInput:
    """Refuse what can never be a claim; fill in the catalogue's defaults."""
    _check_text(claim)
    if claim.benchmark and claim.benchmark not in BENCHMARKS:
        raise ValidationError(f"Unknown benchmark “{claim.benchmark}”.", code="unknown_benchmark")
    label = claim.label or (BENCHMARKS[claim.benchmark].display_name if claim.benchmark else "")
    if not label:
        raise ValidationError("A claim needs a benchmark.", code="no_benchmark")
    if claim.unit not in Unit.values and (claim.unit or claim.fraction is None):
        # Only an import that converted the value itself may leave the unit unknown ("").
        raise ValidationError(f"Unknown unit “{claim.unit}”.", code="invalid_unit")
    if claim.fraction is not None and not 0.0 <= claim.fraction <= 1.0:
        raise ValidationError(f"{label}: {claim.fraction} is not a fraction in [0, 1].")
    if claim.value is not None and claim.fraction is None:
        top = 1.0 if claim.unit == Unit.FRACTION else 100.0
        if not 0.0 <= claim.value <= top:
            raise ValidationError(
                f"{label}: {claim.value} is outside 0–{top:g} for a value in {claim.unit}.",
                code="out_of_range",
            )
        if claim.unit == Unit.NORMALISED and not claim.benchmark:
            raise ValidationError(f"{label}: a normalised value needs a catalogue benchmark.")
    if claim.stated_stderr is not None and claim.stated_stderr < 0:
        raise ValidationError(f"{label}: a standard error cannot be negative.")
    if claim.source_url:
        try:
            URLValidator(schemes=["http", "https"])(claim.source_url)
        except ValidationError as error:
            raise ValidationError(f"{label}: the source link must be an http(s) URL.") from error
    if claim.shots is not None and not 0 <= claim.shots <= 100:
        raise ValidationError(f"{label}: shots must be between 0 and 100.", code="bad_shots")
    benchmark = BENCHMARKS.get(claim.benchmark)
    return replace(
        claim,
        label=label[:300],
        metric=claim.metric or (benchmark.metric if benchmark else ""),
        filter=claim.filter or (benchmark.filter if benchmark else ""),
        typed_value=(claim.typed_value or ("" if claim.value is None else f"{claim.value:g}"))[
            :100
        ],
    )


def _row(claim: ClaimInput, **common: object) -> Claim:
    value, stderr = claim.fraction, claim.stderr_fraction
    if value is None and claim.value is not None:
        value = to_fraction(claim.value, claim.unit, claim.benchmark)
    if stderr is None and claim.stated_stderr is not None:
        # A standard error scales like the value; a baseline shift does not move it.
        scale = 1.0 if claim.unit == Unit.FRACTION else 0.01
        if claim.unit == Unit.NORMALISED:
            scale *= 1.0 - BENCHMARKS[claim.benchmark].random_baseline
        stderr = claim.stated_stderr * scale
    return Claim(
        benchmark=claim.benchmark,
        label=claim.label,
        metric=claim.metric,
        filter=claim.filter,
        shots=claim.shots,
        chat_template=claim.chat_template,
        chain_of_thought=claim.chain_of_thought,
        system_prompt=claim.system_prompt,
        value=value,
        typed_value=claim.typed_value,
        unit=claim.unit,
        unit_reason=claim.unit_reason[:300],
        stated_stderr=stderr,
        not_comparable_reason=claim.not_comparable_reason[:300],
        source_url=claim.source_url[:500],
        source_name=claim.source_name[:200],
        inherited_from=claim.inherited_from[:200],
        source_org=claim.source_org[:200],
        source_ref=claim.source_ref[:100],
        dataset_id=claim.dataset_id[:200],
        dataset_task_id=claim.dataset_task_id[:200],
        dataset_revision=claim.dataset_revision[:64],
        verify_token=claim.verify_token[:4000],
        result_date=claim.result_date,
        supersedes_id=claim.supersedes,
        withdrawn=claim.withdrawn,
        note=claim.note[:500],
        **common,
    )


def claims_record(
    *,
    repo_id: str,
    claims: Iterable[ClaimInput],
    source: str,
    reported_by: str = "",
    submission: Submission | None = None,
    revision: Revision | None = None,
    reporter: Account | None = None,
) -> list[Claim]:
    """Record claims made together (one family for the Holm correction), then recompute the
    repo's flags and queue claim-matched runs for claims no measurement matches yet."""
    repo_id = clean_repo_id(repo_id)
    checked = [_check(claim) for claim in claims]
    if not checked:
        return []
    if len(checked) > MAX_CLAIMS_PER_BATCH:
        raise ValidationError(f"At most {MAX_CLAIMS_PER_BATCH} claims at once.")
    if source not in ClaimSource.values:
        raise ValidationError(f"Unknown claim source “{source}”.")
    try:
        with transaction.atomic():
            repo, _ = ModelRepo.objects.get_or_create(hub_id=repo_id)
            _check_supersedes(repo, checked)
            batch = uuid.uuid4()
            rows = Claim.objects.bulk_create(
                _row(
                    claim,
                    repo=repo,
                    revision=revision,
                    submission=submission,
                    batch=batch,
                    source=source,
                    reported_by=reported_by[:200],
                    reporter=reporter,
                )
                for claim in checked
            )
            generation_bump()  # a model page lists its claims
    except IntegrityError as error:
        # Another correction of the same claim committed between our check and our insert:
        # the one-to-one ``supersedes`` lets only one through; this one is refused cleanly.
        raise ValidationError(
            "Someone corrected one of these claims at the same time; reload the current claims "
            "and correct the latest version.",
            code="superseded_concurrently",
        ) from error
    evidence_changed(repo_id=repo.id)
    return rows


def _check_supersedes(repo: ModelRepo, claims: list[ClaimInput]) -> None:
    ids = [claim.supersedes for claim in claims if claim.supersedes]
    if any(claim.withdrawn and not claim.supersedes for claim in claims):
        raise ValidationError("A withdrawal names the claim it takes back.", code="bad_supersedes")
    if not ids:
        return
    twice = sorted({claim_id for claim_id in ids if ids.count(claim_id) > 1})
    if twice:
        raise ValidationError(
            f"Claim #{twice[0]} is corrected twice in this batch: send one correction of it.",
            code="bad_supersedes",
        )
    current = set(repo.claims.current().filter(id__in=ids).values_list("id", flat=True))
    for claim_id in ids:
        if claim_id not in current:
            raise ValidationError(
                f"Claim #{claim_id} is not a current claim of {repo.hub_id}: only the latest "
                "version of a claim can be corrected.",
                code="bad_supersedes",
            )


def claims_import_card(
    *,
    repo_id: str,
    revision: Revision,
    claims: Iterable[ClaimInput],
    source: str,
    reported_by: str = "",
) -> list[Claim]:
    """Claims read from the model card of an evaluated commit, once per commit, source and
    reporter."""
    if Claim.objects.filter(revision=revision, source=source, reported_by=reported_by).exists():
        return []
    return claims_record(
        repo_id=repo_id, claims=claims, source=source, reported_by=reported_by, revision=revision
    )
