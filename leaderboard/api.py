"""The JSON API, versioned under /api/v1/, with an OpenAPI document at /api/v1/docs.

Endpoints validate with schemas and call the same services and selectors as the pages.
Bad input answers 4xx with a message: 422 for a malformed body, 400 for a rule it breaks,
404 for a model or run that is not there. The reads (models, revisions, runs, scores,
claims, flags, rankings and their CSV downloads) are served from the page cache, with ETags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, NinjaAPI, Path, Query, Schema, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer, django_auth

from evaluations import every_eval_ever, selectors, services
from evaluations.catalogue import BENCHMARKS, SUITES, suite_benchmarks
from evaluations.evidence.matching import ClaimEvidence, claim_evidence, flag_review
from evaluations.models import EvaluationRun, ModelRepo, RunState
from evaluations.selectors import open_data
from evaluations.selectors import rankings as ranking_rows
from evaluations.selectors.ranking_query import RankingQuery
from evaluations.services import ClaimInput, tokens
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH
from evaluations.services.limits import RateLimited
from leaderboard import csv_views, ranking_params
from leaderboard.api_schemas import (
    ClaimOut,
    FlagOut,
    ModelDetailOut,
    ModelOut,
    RankingFiltersIn,
    RankingsOut,
    RevisionOut,
    RunOut,
    RunSummaryOut,
    document_invalid_input,
)
from leaderboard.page_cache import cached_page

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_ID = 2**63 - 1  # ids are bigints: a larger number is a 422, never a database error


class ClaimCheckAPI(NinjaAPI):
    """NinjaAPI whose document also declares the 422 it answers for refused input."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_invalid_input(schema)


api = ClaimCheckAPI(
    title="ClaimCheck API",
    version="1",
    urls_namespace="api-v1",
    description="Claimed and measured scores of language models.",
)


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
    commit_sha: str | None = Field(
        None,
        description="the commit the claims are about; "
        "omit for the model in general (its latest evaluated commit)",
    )
    third_party: bool = Field(
        False, description="true when the reporter is not the author; then a source_url is required"
    )
    claims: list[ClaimIn] = Field(..., min_length=1, max_length=MAX_CLAIMS_PER_BATCH)


class EvidenceOut(Schema):
    claim: ClaimOut
    verdict: str = Field(
        ...,
        description="supported | under-claim | inconclusive | pending | not comparable | "
        "harness in doubt | contradicted: the public verdict, a moderator's decision in force "
        "counted",
    )
    rule_verdict: str = Field(..., description="the automatic check's verdict, before any decision")
    severity: str | None = Field(
        ..., description="the automatic check's, when it rejects the claim"
    )
    explanation: str = Field(..., description="why, in one sentence with the numbers")
    measured: float | None
    measured_stderr: float | None
    run_id: int | None
    gap: float | None
    z: float | None
    p_holm: float | None
    q_value: float | None
    tolerance: float | None
    flagged: bool = Field(
        ...,
        description="whether the claim's flag stands, as the rankings "
        "count it: a moderator's decision in force outranks the verdict",
    )
    flag_url: str | None = Field(None, description="the flag's public page, if flagged once")
    decision: str | None = Field(None, description="confirmed | dismissed | author-asked")
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    decision_predates_evidence: bool = Field(
        False,
        description="the automatic check opened the flag again after the decision, "
        "so the decision is no longer in force",
    )


class Message(Schema):
    detail: str


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": " ".join(error.messages)}, status=400)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    detail = str(error) or "You may not do this."
    return api.create_response(request, {"detail": detail}, status=403)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": error.message}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer cc_…``: a token made on the account page."""

    openapi_description = "An API token from your account page (/account/)."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return tokens.api_token_authenticate(token)


def _repo_or_404(owner: str, name: str) -> ModelRepo:
    repo = open_data.repo_by_hub_id(f"{owner}/{name}")
    if repo is None:
        raise HttpError(404, f"There is no model “{owner}/{name}” on the leaderboard.")
    return repo


def _text_filter(value: str, name: str) -> str:
    # A NUL never gets here: the middleware answers 400 for it before any view.
    if len(value) > 200:
        raise HttpError(400, f"The filter “{name}” must be text of at most 200 characters.")
    return value.strip()


def _yes_no(value: str, name: str) -> bool | None:
    """A boolean filter: true/false (also 1/0, yes/no); empty means no filter."""
    answers = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if value and value.lower() not in answers:
        raise HttpError(400, f"The filter “{name}” takes true or false.")
    return answers[value.lower()] if value else None


def _suite(suite: str | None) -> str:
    suite = suite or selectors.default_suite()
    if suite not in SUITES:
        raise HttpError(400, f"There is no suite “{suite}”; choose one of {', '.join(SUITES)}.")
    return suite


class CappedLimitOffset(LimitOffsetPagination):
    """Limit/offset with bounds, so no page asks the database for more than it can count."""

    class Input(Schema):
        limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0, le=10**9)


@api.post(
    "/claims",
    response={201: list[ClaimOut], 400: Message, 401: Message, 403: Message, 429: Message},
    tags=["claims"],
    auth=[ApiTokenAuth(), django_auth],
)
def create_claims(request: HttpRequest, payload: ClaimsIn) -> Status:
    """Record claims made together (one family for the Holm correction).

    Author claims need an account the hub says owns the repo or belongs to its organisation;
    anyone signed in may send third-party claims, each with a source link."""
    claims = services.claims_submit(
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


@api.get(
    "/models/{owner}/{name}/claims",
    response={200: list[EvidenceOut], 404: Message},
    tags=["claims"],
)
@decorate_view(cached_page)
def model_claims(request: HttpRequest, owner: str, name: str) -> list[dict]:
    """Every current claim of a model beside the measurement in its setting, with the
    numbers the verdict rests on."""
    repo = _repo_or_404(owner, name)
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


# --- Open data: schemas -----------------------------------------------------------------


CSV_RESPONSE = {
    "responses": {
        200: {"description": "a CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}}
    }
}


# --- Open data: endpoints ---------------------------------------------------------------


@api.get("/models", response={200: list[ModelOut], 400: Message}, tags=["models"])
@decorate_view(cached_page)
@paginate(CappedLimitOffset)
def models(
    request: HttpRequest,
    q: str = Query("", description="part of the hub id"),
    flagged: str = Query(
        "", description="true: only models with an open flag; false: only those without"
    ),
) -> Any:
    """Every model on the leaderboard, by hub id, with its latest evaluated commit."""
    return open_data.models_list(query=_text_filter(q, "q"), flagged=_yes_no(flagged, "flagged"))


def _revision_row(view: selectors.RevisionView) -> dict[str, Any]:
    revision = view.revision
    fields = (
        "commit_sha",
        "parameter_count",
        "dtype",
        "licence",
        "model_type",
        "inspected_at",
        "files",
    )
    return {
        **{field: getattr(revision, field) for field in fields},
        "changes": view.changes,
        "runs": view.runs,
    }


@api.get("/models/{owner}/{name}", response={200: ModelDetailOut, 404: Message}, tags=["models"])
@decorate_view(cached_page)
def model_detail(request: HttpRequest, owner: str, name: str) -> dict[str, Any]:
    """One model: its revisions, newest first, each with its runs and their scores."""
    repo = open_data.model_summary(_repo_or_404(owner, name))
    revisions = [_revision_row(view) for view in selectors.model_revisions(repo)]
    return {**ModelOut.from_orm(repo).model_dump(), "revisions": revisions}


@api.get(
    "/models/{owner}/{name}/revisions",
    response={200: list[RevisionOut], 404: Message},
    tags=["models"],
)
@decorate_view(cached_page)
def model_revisions(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """The commits of a model the workers inspected, newest first, with what changed."""
    return [_revision_row(view) for view in selectors.model_revisions(_repo_or_404(owner, name))]


@api.get(
    "/models/{owner}/{name}/flags", response={200: list[FlagOut], 404: Message}, tags=["flags"]
)
@decorate_view(cached_page)
def model_flags(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """Every flag raised on a claim of the model, with its full history of events."""
    rows = []
    for flag in open_data.repo_flags(_repo_or_404(owner, name).id):
        events = list(flag.events.all())
        last = events[-1] if events else None
        review = flag_review(flag.id, events)
        rows.append(
            {
                "id": flag.id,
                "claim": flag.claim,
                "created_at": flag.created_at,
                "state": last.state if last else "",
                "is_open": bool(last and last.is_open),
                "flagged": review.stands,
                "decision": review.decision.state if review.decision else None,
                "decision_predates_evidence": review.stale,
                "events": events,
            }
        )
    return rows


@api.get(
    "/models/{owner}/{name}/evidence.csv",
    response={200: None, 404: Message},
    tags=["claims"],
    openapi_extra=CSV_RESPONSE,
)
@decorate_view(cached_page)
def model_evidence_csv(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    """Every current claim beside its measurement and verdict, as CSV."""
    return csv_views.evidence_csv(_repo_or_404(owner, name))


def runs_in_flight() -> str:
    """A running run's progress and duration move with each heartbeat, without a bump."""
    return open_data.active_runs_tag(heartbeats=True)


@api.get("/runs", response={200: list[RunSummaryOut], 400: Message}, tags=["runs"])
@decorate_view(cached_page(live=runs_in_flight))
@paginate(CappedLimitOffset)
def runs(
    request: HttpRequest,
    state: str = Query("", description="one of " + ", ".join(RunState.values)),
    repo: str = Query("", description="hub id, e.g. demo-org/tiny"),
    suite: str = Query("", description="one of " + ", ".join(SUITES)),
) -> Any:
    """Evaluation runs, newest first."""
    if state and state not in RunState.values:
        raise HttpError(
            400, f"There is no run state “{state}”; choose one of {', '.join(RunState.values)}."
        )
    return open_data.runs_list(
        state=state, suite=_suite(suite) if suite else "", hub_id=_text_filter(repo, "repo")
    )


@api.get("/runs/{run_id}", response={200: RunOut, 404: Message}, tags=["runs"])
@decorate_view(cached_page(live=runs_in_flight))
def run_detail(request: HttpRequest, run_id: int = Path(..., ge=1, le=MAX_ID)) -> EvaluationRun:
    """One run: state, progress, how it ended, versions, scores and artifacts."""
    run = open_data.run_detail(run_id)
    if run is None:
        raise HttpError(404, f"There is no run {run_id}.")
    return run


@api.get(
    "/runs/{run_id}/every-eval-ever",
    response={200: dict[str, Any], 400: Message, 404: Message},
    tags=["runs"],
)
@decorate_view(cached_page)
def run_every_eval_ever(
    request: HttpRequest, run_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """A finished run as an Every Eval Ever record (schema 0.3.0): a third party's
    measurement, each score with its standard error, 95 % interval and number of items, and
    the per-sample outputs named by their sha256."""
    run = open_data.run_detail(run_id)
    if run is None:
        raise HttpError(404, f"There is no run {run_id}.")
    try:
        return every_eval_ever.run_record(run, base_url=request.build_absolute_uri("/")[:-1])
    except every_eval_ever.RecordError as error:
        raise HttpError(400, str(error)) from None


def _ranking_query(filters: RankingFiltersIn) -> RankingQuery:
    """The page's own parser, so the API and CSV take what the page takes and refuse it
    with the same sentence (page and per_page are the page's; the API pages by offset)."""
    params = filters.model_dump()
    suite = params["suite"] or selectors.default_suite()
    try:
        return ranking_params.parse_query(params, suite=suite)
    except ValueError as error:
        raise HttpError(400, str(error)) from None


def _ranking_row(row: ranking_rows.RankedRow, benchmarks: list[str]) -> dict[str, Any]:
    scores = [
        {
            "benchmark": key,
            "value": row.scores[key].value if key in row.scores else None,
            "stderr": row.scores[key].stderr if key in row.scores else None,
        }
        for key in benchmarks
    ]
    return {
        "rank": row.rank,
        "tied": row.tied,
        "hub_id": row.repo.hub_id,
        "run_id": row.run.id,
        "commit_sha": row.run.revision.commit_sha if row.run.revision else None,
        "precision": row.run.submission.precision,
        "parameter_count": row.parameter_count,
        "average": row.average,
        "average_stderr": row.average_stderr,
        "raw_average": row.raw_average,
        "flagged": row.flagged,
        "severity": row.severity,
        "verdict": row.verdict,
        "not_comparable": row.not_comparable,
        "scores": scores,
    }


class RankingsPageOut(RankingsOut):
    total: int = Field(..., description="ranked rows after the filters, on all pages")
    limit: int
    offset: int


@api.get("/rankings", response={200: RankingsPageOut, 400: Message}, tags=["rankings"])
@decorate_view(cached_page)
def rankings(
    request: HttpRequest,
    filters: Query[RankingFiltersIn],
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    offset: int = Query(0, ge=0, le=10**9),
) -> dict[str, Any]:
    """Each model's latest finished run of a suite, ranked by its normalised average of
    measured scores, filtered and sorted as on the rankings page, one page at a time.
    Claimed scores are never ranked."""
    query = _ranking_query(filters)
    keys = [benchmark.key for benchmark in suite_benchmarks(query.suite)]
    rows, total = ranking_rows.ranked_slice(query, offset=offset, limit=limit)
    return {
        "suite": query.suite,
        "min_params": query.min_params,
        "max_params": query.max_params,
        "precision": query.precision,
        "licence": query.licence,
        "hide_flagged": query.hide_flagged,
        "hide_not_comparable": query.hide_not_comparable,
        "sort": query.sort,
        "order": query.order,
        "total": total,
        "limit": limit,
        "offset": offset,
        "benchmarks": [BENCHMARKS[key] for key in keys],
        "rows": [_ranking_row(row, keys) for row in rows],
    }


@api.get(
    "/rankings.csv",
    response={200: None, 400: Message},
    tags=["rankings"],
    openapi_extra=CSV_RESPONSE,
)
@decorate_view(cached_page)
def rankings_csv(request: HttpRequest, filters: Query[RankingFiltersIn]) -> HttpResponse:
    """The rankings as CSV, every row the filters keep in the asked order: rank, average ±
    stderr, raw average, flag and verdict, raw value and stderr per benchmark."""
    return csv_views.rankings_csv(_ranking_query(filters))
