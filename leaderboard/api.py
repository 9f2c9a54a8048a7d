"""The JSON API, versioned under /api/v1/, with an OpenAPI document at /api/v1/docs.

Endpoints validate with schemas and call the same services and selectors as the pages.
Bad input answers 4xx with a message: 422 for a malformed body, 400 for a rule it breaks.
"""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, NinjaAPI, Schema, Status

from evaluations import selectors, services
from evaluations.models import ClaimSource, ModelRepo, Revision
from evaluations.services import ClaimInput
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH

api = NinjaAPI(title="ClaimCheck API", version="1", urls_namespace="api-v1",
               description="Claimed and measured scores of language models.")


class ClaimIn(Schema):
    benchmark: str = Field(..., max_length=40, description="catalogue key, e.g. mmlu")
    value: float = Field(..., description="the claimed score, in `unit`")
    unit: Literal["percent", "fraction", "normalised"] = "fraction"
    shots: int = Field(..., ge=0, le=100)
    chat_template: bool = False
    chain_of_thought: bool = False
    system_prompt: str = Field("", max_length=5000)
    stderr: float | None = Field(None, ge=0, description="stated standard error, in `unit`")
    source_url: str = Field("", max_length=500)
    supersedes: int | None = Field(None, description="id of the claim this one corrects")


class ClaimsIn(Schema):
    repo_id: str = Field(..., max_length=200)
    commit_sha: str | None = Field(None, description="the commit the claims are about; "
                                   "omit for the model in general (its latest evaluated commit)")
    reported_by: str = Field("", max_length=200)
    third_party: bool = Field(False, description="true when the reporter is not the author; "
                              "then a source_url is required")
    claims: list[ClaimIn] = Field(..., min_length=1, max_length=MAX_CLAIMS_PER_BATCH)


class ClaimOut(Schema):
    id: int
    benchmark: str
    label: str
    value: float | None
    unit: str
    shots: int | None
    source: str
    source_url: str
    reported_by: str
    supersedes: int | None = Field(None, alias="supersedes_id")


class EvidenceOut(Schema):
    claim: ClaimOut
    verdict: str
    severity: str | None
    explanation: str
    measured: float | None
    measured_stderr: float | None
    run_id: int | None
    gap: float | None
    z: float | None
    p_holm: float | None
    q_value: float | None
    tolerance: float | None


class Message(Schema):
    detail: str


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": " ".join(error.messages)}, status=400)


@api.post("/claims", response={201: list[ClaimOut], 400: Message}, tags=["claims"])
def create_claims(request: HttpRequest, payload: ClaimsIn) -> Status:
    """Record claims made together (one family for the Holm correction)."""
    if payload.third_party and not all(claim.source_url for claim in payload.claims):
        raise ValidationError("A third-party claim needs a source link for every score.")
    revision = None
    if payload.commit_sha:
        revision = Revision.objects.filter(repo__hub_id=payload.repo_id,
                                           commit_sha=payload.commit_sha).first()
        if revision is None:
            raise ValidationError(f"{payload.repo_id} has no evaluated commit "
                                  f"{payload.commit_sha}; submit it first or omit commit_sha.")
    claims = services.claims_record(
        repo_id=payload.repo_id, revision=revision,
        source=ClaimSource.THIRD_PARTY if payload.third_party else ClaimSource.API,
        reported_by=payload.reported_by or ("a third party" if payload.third_party else ""),
        claims=[ClaimInput(benchmark=c.benchmark, value=c.value, unit=c.unit, shots=c.shots,
                           chat_template=c.chat_template, chain_of_thought=c.chain_of_thought,
                           system_prompt=c.system_prompt, stated_stderr=c.stderr,
                           source_url=c.source_url, supersedes=c.supersedes,
                           typed_value=f"{c.value:g}", unit_reason="given by the reporter")
                for c in payload.claims],
    )
    return Status(201, claims)


@api.get("/models/{owner}/{name}/claims", response=list[EvidenceOut], tags=["claims"])
def model_claims(request: HttpRequest, owner: str, name: str) -> list[dict]:
    """Every current claim of a model beside the measurement in its setting, with the
    numbers the verdict rests on."""
    repo = get_object_or_404(ModelRepo, hub_id=f"{owner}/{name}")
    rows = []
    for row in selectors.claim_evidence(repo.id):
        j, s = row.judgement, row.score
        rows.append({
            "claim": row.claim, "verdict": row.verdict,
            "severity": j.severity if j else None,
            "explanation": j.explanation if j else row.not_comparable_reason,
            "measured": s.value if s else None, "measured_stderr": s.stderr if s else None,
            "run_id": s.run_id if s else None, "gap": j.gap if j else None,
            "z": j.z if j and abs(j.z) != float("inf") else None,
            "p_holm": j.p_holm if j else None, "q_value": j.q_value if j else None,
            "tolerance": j.tolerance if j else None,
        })
    return rows
