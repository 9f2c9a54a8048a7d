"""Evaluation runs: the list, one run, and a finished run as an Every Eval Ever record."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.pagination import paginate

# ``ninja.Query(...)`` calls these; under mypy ``ninja.Query`` is only the annotation alias.
from ninja.params import functions as param

from evaluations import every_eval_ever
from evaluations.catalogue import SUITES
from evaluations.models import EvaluationRun, RunState
from evaluations.selectors import open_data
from leaderboard.api.common import MAX_ID, CappedLimitOffset, suite_or_400, text_filter
from leaderboard.api.schemas import Message, RunOut, RunSummaryOut
from leaderboard.page_cache import cached_page

router = Router()


def runs_in_flight() -> str:
    """A running run's progress and duration move with each heartbeat, without a bump."""
    return open_data.active_runs_tag(heartbeats=True)


@router.get("/runs", response={200: list[RunSummaryOut], 400: Message}, tags=["runs"])
@decorate_view(cached_page(live=runs_in_flight))
@paginate(CappedLimitOffset)
def runs(
    request: HttpRequest,
    state: str = param.Query("", description="one of " + ", ".join(RunState.values)),
    repo: str = param.Query("", description="hub id, e.g. demo-org/tiny"),
    suite: str = param.Query("", description="one of " + ", ".join(SUITES)),
) -> Any:
    """Evaluation runs, newest first."""
    if state and state not in RunState.values:
        raise HttpError(
            400, f"There is no run state “{state}”; choose one of {', '.join(RunState.values)}."
        )
    return open_data.runs_list(
        state=state, suite=suite_or_400(suite) if suite else "", hub_id=text_filter(repo, "repo")
    )


@router.get("/runs/{run_id}", response={200: RunOut, 404: Message}, tags=["runs"])
@decorate_view(cached_page(live=runs_in_flight))
def run_detail(
    request: HttpRequest, run_id: int = param.Path(..., ge=1, le=MAX_ID)
) -> EvaluationRun:
    """One run: state, progress, how it ended, versions, scores and artifacts."""
    run = open_data.run_detail(run_id)
    if run is None:
        raise HttpError(404, f"There is no run {run_id}.")
    return run


@router.get(
    "/runs/{run_id}/every-eval-ever",
    response={200: dict[str, Any], 400: Message, 404: Message},
    tags=["runs"],
)
@decorate_view(cached_page)
def run_every_eval_ever(
    request: HttpRequest, run_id: int = param.Path(..., ge=1, le=MAX_ID)
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
