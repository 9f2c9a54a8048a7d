"""Models: the list, one model with its revisions and runs, and the flags on its claims."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.pagination import paginate

# ``ninja.Query(...)`` calls these; under mypy ``ninja.Query`` is only the annotation alias.
from ninja.params import functions as param

from evaluations import selectors
from evaluations.evidence.matching import flag_review
from evaluations.models import ModelRepo
from evaluations.selectors import open_data
from evaluations.selectors.endpoints import endpoint_rows
from evaluations.selectors.provenance import provenance_rows
from evaluations.services import endpoints
from leaderboard.api.common import (
    ApiTokenAuth,
    CappedLimitOffset,
    SignedInRequest,
    SignedInSession,
    repo_or_404,
    text_filter,
    yes_no,
)
from leaderboard.api.schemas import (
    EndpointIn,
    FlagOut,
    HostedEndpointOut,
    LineageCheckOut,
    Message,
    ModelDetailOut,
    ModelOut,
    ProvenanceEventOut,
    RevisionOut,
)
from leaderboard.page_cache import cached_page

router = Router()


@router.get("/models", response={200: list[ModelOut], 400: Message}, tags=["models"])
@decorate_view(cached_page)
@paginate(CappedLimitOffset)
def models(
    request: HttpRequest,
    q: str = param.Query("", description="part of the hub id"),
    flagged: str = param.Query(
        "", description="true: only models with an open flag; false: only those without"
    ),
) -> Any:
    """Every model on the leaderboard, by hub id, with its latest evaluated commit."""
    return open_data.models_list(query=text_filter(q, "q"), flagged=yes_no(flagged, "flagged"))


def listed_or_404(owner: str, name: str) -> ModelRepo:
    """A repo never found on the hub (no run reached a commit) is on no public list."""
    repo = repo_or_404(owner, name)
    if not repo.is_resolved:
        raise HttpError(404, f"The model “{owner}/{name}” was never found on the hub.")
    return repo


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


@router.get("/models/{owner}/{name}", response={200: ModelDetailOut, 404: Message}, tags=["models"])
@decorate_view(cached_page)
def model_detail(request: HttpRequest, owner: str, name: str) -> dict[str, Any]:
    """One model: its revisions, newest first, each with its runs and their scores."""
    repo = open_data.model_summary(listed_or_404(owner, name))
    revisions = [_revision_row(view) for view in selectors.model_revisions(repo)]
    return {**ModelOut.from_orm(repo).model_dump(), "revisions": revisions}


@router.get(
    "/models/{owner}/{name}/revisions",
    response={200: list[RevisionOut], 404: Message},
    tags=["models"],
)
@decorate_view(cached_page)
def model_revisions(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """The commits of a model the workers inspected, newest first, with what changed."""
    return [_revision_row(view) for view in selectors.model_revisions(listed_or_404(owner, name))]


@router.get(
    "/models/{owner}/{name}/flags", response={200: list[FlagOut], 404: Message}, tags=["flags"]
)
@decorate_view(cached_page)
def model_flags(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """Every flag raised on a claim of the model, with its full history of events."""
    rows = []
    for flag in open_data.repo_flags(listed_or_404(owner, name).id):
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


@router.get(
    "/models/{owner}/{name}/provenance",
    response={200: list[ProvenanceEventOut | LineageCheckOut], 404: Message},
    tags=["models"],
    url_name="model_provenance",
)
@decorate_view(cached_page)
def model_provenance(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """The re-upload watch's events (the model's ref named a new commit after the commit
    evaluated, with the files that changed), then the lineage checks (each evaluated commit's
    weights compared with the base its card names), each row told by its ``kind``."""
    return provenance_rows(listed_or_404(owner, name))


@router.get(
    "/models/{owner}/{name}/endpoints",
    response={200: list[HostedEndpointOut], 404: Message},
    tags=["models"],
    url_name="model_endpoints",
)
@decorate_view(cached_page)
def model_endpoints(request: HttpRequest, owner: str, name: str) -> list[dict[str, Any]]:
    """The hosted endpoints registered for the model and every check of each, with its
    evidence: pre-flight rows, the equality test, the paired score differences. Never a key."""
    return endpoint_rows(listed_or_404(owner, name))


@router.post(
    "/models/{owner}/{name}/endpoints",
    response={201: list[HostedEndpointOut], 400: Message, 401: Message, 403: Message, 404: Message},
    tags=["models"],
    auth=[ApiTokenAuth(), SignedInSession()],
)
def register_endpoint(
    request: SignedInRequest, owner: str, name: str, payload: EndpointIn
) -> Status[list[dict[str, Any]]]:
    """Register a hosted endpoint said to serve the model (an author of the repo or a
    moderator) and queue its first check; answers the model's endpoints, the key never."""
    repo = repo_or_404(owner, name)
    endpoints.endpoint_register(
        user=request.auth,
        repo_id=repo.hub_id,
        base_url=payload.base_url,
        served_model=payload.served_model,
        api_kind=payload.api_kind,
        secret=payload.secret,
    )
    return Status(201, endpoint_rows(repo))
