"""The public pages: home (rankings + recent runs), submit, run, model, artifacts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from plotly.utils import PlotlyJSONEncoder

from evaluations import open_data, rankings, selectors, services
from evaluations.catalogue import BENCHMARKS, SUITE_DESCRIPTIONS, SUITES
from evaluations.evidence.health import health_doubts, health_summary
from evaluations.evidence.matching import claim_evidence, headline_verdict
from evaluations.evidence.verdicts import Verdict
from evaluations.models import EvaluationRun, ModelRepo, Precision, RunArtifact, RunState
from evaluations.services import authors
from evaluations.services.limits import RateLimited
from evaluations.storage import artifact_path
from leaderboard import charts as charts_module
from leaderboard.errors import too_many_requests
from leaderboard.forms import SubmissionForm, claim_forms
from leaderboard.page_cache import cached_page


@require_GET
@cached_page(live=open_data.active_runs_tag)  # recent runs show their progress
def home(request: HttpRequest) -> HttpResponse:
    suite = request.GET.get("suite") or selectors.default_suite()
    try:
        query = rankings.parse_query(request.GET, suite=suite)
    except ValueError as error:
        return render(
            request,
            "leaderboard/error.html",
            {"title": "These rankings cannot be shown", "message": str(error)},
            status=400,
        )
    page = rankings.rankings(query)
    context = {
        "query": query,
        "page": page,
        "links": rankings.table_links(page),
        "suites": [(key, SUITE_DESCRIPTIONS.get(key, key)) for key in SUITES],
        "suite_label": SUITE_DESCRIPTIONS.get(suite, suite),
        "precisions": Precision.choices,
        "licences": rankings.licence_choices(suite),
        "per_page_choices": (25, 50, 100),
        "recent_runs": selectors.recent_runs(15),
    }
    return render(request, "leaderboard/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    suite = (data or request.GET).get("suite") or "smoke"
    initial = {
        "suite": suite,
        "repo_id": request.GET.get("repo_id", ""),
        "ref": request.GET.get("ref", "main"),
    }
    form = SubmissionForm(data, initial=initial)
    claims = claim_forms(suite if suite in SUITES else "smoke", data)
    if data is not None and form.is_valid() and all(claim.is_valid() for claim in claims):
        try:
            outcome = _submit(request, form.cleaned_data, claims)
        except ValidationError as error:
            form.add_error(None, error)
        except RateLimited as limited:
            return too_many_requests(request, limited)
        else:
            if outcome.reused:
                messages.info(
                    request,
                    "This repo, revision and setting was already submitted: "
                    "here is its run. No new evaluation was queued.",
                )
            return redirect("run-detail", run_id=outcome.run.id)
    context = {
        "form": form,
        "claims": claims,
        "suite": suite,
        "hub_membership": authors.hub_membership_current(request.user),
    }
    return render(request, "leaderboard/submit.html", context, status=400 if data else 200)


def _submit(request: HttpRequest, cleaned: dict, claims: list) -> services.SubmissionOutcome:
    inputs = [claim.to_input() for claim in claims]
    return services.submission_submit(
        user=request.user,
        repo_id=cleaned["repo_id"],
        ref=cleaned["ref"],
        suite=cleaned["suite"],
        precision=cleaned["precision"],
        chat_template=cleaned["chat_template"],
        claims=[claim for claim in inputs if claim is not None],
    )


def _run_or_404(run_id: int) -> EvaluationRun:
    return get_object_or_404(
        EvaluationRun.objects.select_related("submission__repo", "revision", "duplicate_of"),
        id=run_id,
    )


def _run_status(run: EvaluationRun) -> dict[str, object]:
    return {
        "id": run.id,
        "state": run.state,
        "state_label": run.get_state_display(),
        "final": run.is_final,
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "progress_percent": run.progress_percent,
        "queue_position": selectors.queue_position(run),
        "duration_seconds": run.duration_seconds,
        "commit_sha": run.revision.commit_sha if run.revision else None,
        "error_code": run.error_code,
        "error_message": run.error_message,
        "duplicate_of": run.duplicate_of_id,
    }


@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    context = {
        "run": run,
        "status": _run_status(run),
        "scores": [
            {
                "score": score,
                "health": health_summary(score.health),
                "doubts": health_doubts(BENCHMARKS[score.benchmark], score.health)
                if score.benchmark in BENCHMARKS
                else [],
            }
            for score in run.scores.order_by("id")
        ],
        "artifacts": run.artifacts.order_by("kind"),
        "attempts": selectors.run_attempts(run),
        "status_url": reverse("run-status", args=[run.id]),
    }
    return render(request, "leaderboard/run.html", context)


@require_GET
def run_status(request: HttpRequest, run_id: int) -> JsonResponse:
    response = JsonResponse(_run_status(_run_or_404(run_id)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@cached_page
def model_detail(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_object_or_404(ModelRepo, hub_id=f"{owner}/{name}")
    evidence = claim_evidence(repo.id)
    revisions = selectors.model_revisions(repo)
    visibility = list(repo.decisions.newest_first())  # newest in force
    context = {
        "repo": repo,
        "owner": owner,
        "name": name,
        "hub_url": f"{settings.HF_ENDPOINT.rstrip('/')}/{repo.hub_id}",
        "worst_verdict": headline_verdict(evidence),
        "verdict_legend": list(Verdict),
        "latest_run": next(
            (
                run
                for view in revisions
                for run in view.runs
                if run.state == RunState.FINISHED and run.duplicate_of_id is None
            ),
            None,
        ),
        "evidence": evidence,
        "flag_events": selectors.flag_history(repo.id),
        "superseded_claims": repo.claims.filter(superseded_by__isnull=False),
        "visibility": visibility[0] if visibility else None,
        "visibility_history": visibility,
        "revisions": revisions,
        "pending_runs": EvaluationRun.objects.active()
        .filter(submission__repo=repo)
        .select_related("submission"),
    }
    return render(request, "leaderboard/model.html", context)


@require_GET
@cached_page
def model_history(request: HttpRequest, owner: str, name: str) -> JsonResponse:
    """The model page's chart figures (fetched by the page's script)."""
    repo = get_object_or_404(ModelRepo, hub_id=f"{owner}/{name}")
    charts = charts_module.benchmark_figures(*selectors.history_data(repo.id))
    return JsonResponse({"charts": charts}, encoder=PlotlyJSONEncoder)


@require_GET
def artifact_download(request: HttpRequest, run_id: int, kind: str) -> FileResponse:
    artifact = get_object_or_404(RunArtifact, run_id=run_id, kind=kind)
    try:
        path = artifact_path(artifact.path)
        handle = path.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The file of this artifact is missing from storage.") from missing
    content_type = {
        "results": "application/json",
        "samples": "application/gzip",
        "log": "text/plain; charset=utf-8",
    }[artifact.kind]
    response = FileResponse(
        handle, content_type=content_type, as_attachment=kind != "results", filename=path.name
    )
    response["X-Content-SHA256"] = artifact.sha256
    return response
