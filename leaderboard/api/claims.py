"""Claims: recording them (signed in), and each model's claims beside the evidence."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Status
from ninja.decorators import decorate_view

from evaluations.evidence.matching import ClaimEvidence, claim_evidence
from evaluations.models import Claim
from evaluations.services import contributions
from evaluations.services.claims import ClaimInput
from leaderboard.api.common import (
    CSV_RESPONSE,
    ApiTokenAuth,
    SignedInRequest,
    SignedInSession,
    repo_or_404,
)
from leaderboard.api.schemas import ClaimOut, ClaimsIn, EvidenceOut, Message
from leaderboard.page_cache import cached_page
from leaderboard.views import csv_downloads

router = Router()


@router.post(
    "/claims",
    response={201: list[ClaimOut], 400: Message, 401: Message, 403: Message, 429: Message},
    tags=["claims"],
    auth=[ApiTokenAuth(), SignedInSession()],
)
def create_claims(request: SignedInRequest, payload: ClaimsIn) -> Status[list[Claim]]:
    """Record claims made together (one family for the Holm correction).

    Author claims need an account the hub says owns the repo or belongs to its organisation;
    anyone signed in may send third-party claims, each with a source link."""
    claims = contributions.claims_submit(
        user=request.auth,
        repo_id=payload.repo_id,
        commit_sha=payload.commit_sha,
        third_party=payload.third_party,
        claims=[
            ClaimInput(
                benchmark=c.benchmark,
                value=c.value,
                unit=c.unit,
                shots=c.shots,
                chat_template=c.chat_template,
                chain_of_thought=c.chain_of_thought,
                system_prompt=c.system_prompt,
                stated_stderr=c.stderr,
                source_url=c.source_url,
                supersedes=c.supersedes,
                typed_value=f"{c.value:g}",
                unit_reason="given by the reporter",
            )
            for c in payload.claims
        ],
    )
    return Status(201, claims)


@router.get(
    "/models/{owner}/{name}/claims",
    response={200: list[EvidenceOut], 404: Message},
    tags=["claims"],
)
@decorate_view(cached_page)
def model_claims(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """Every current claim of a model beside the measurement in its setting, with the
    numbers the verdict rests on."""
    repo = repo_or_404(owner, name)
    return [_evidence_row(request, row) for row in claim_evidence(repo.id)]


def _evidence_row(request: HttpRequest, row: ClaimEvidence) -> dict[str, Any]:
    j, s, review = row.judgement, row.score, row.review
    decision = review.decision if review else None
    return {
        "claim": row.claim,
        "verdict": str(row.verdict),
        "rule_verdict": str(row.rule_verdict),
        "severity": j.severity if j else None,
        "explanation": row.sentence,
        "measured": s.value if s else None,
        "measured_stderr": s.stderr if s else None,
        "run_id": s.run_id if s else None,
        "gap": j.gap if j else None,
        "z": j.z if j and abs(j.z) != float("inf") else None,
        "p_holm": j.p_holm if j else None,
        "q_value": j.q_value if j else None,
        "tolerance": j.tolerance if j else None,
        "flagged": row.flagged,
        "flag_url": request.build_absolute_uri(reverse("flag-detail", args=[review.flag_id]))
        if review
        else None,
        "decision": decision.state if decision else None,
        "decided_by": decision.actor if decision else None,
        "decided_at": decision.created_at if decision else None,
        "decision_reason": decision.reason if decision else None,
        "decision_predates_evidence": bool(review and review.stale),
    }


@router.get(
    "/models/{owner}/{name}/evidence.csv",
    response={200: None, 404: Message},
    tags=["claims"],
    openapi_extra=CSV_RESPONSE,
)
@decorate_view(cached_page)
def model_evidence_csv(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    """Every current claim beside its measurement and verdict, as CSV."""
    return csv_downloads.evidence_csv(repo_or_404(owner, name))
