"""A run's page, its live status (polled by the page's script) and its artifacts, and what
moderators do to a run from its page: cancel it, or retry it as a new run. Both answer as
every moderator action does (``moderator_actions``)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from evaluations import selectors
from evaluations.catalogue import BENCHMARKS
from evaluations.evidence.health import health_doubts, health_summary
from evaluations.models import EvaluationRun, RunArtifact
from evaluations.services import runs as run_services
from evaluations.storage import artifact_path
from leaderboard.forms import ReasonForm
from leaderboard.views.moderator_actions import moderator_action


def _run_or_404(run_id: int) -> EvaluationRun:
    return get_object_or_404(
        EvaluationRun.objects.select_related("submission__repo", "revision", "duplicate_of"),
        id=run_id,
    )


def _run_status(run: EvaluationRun) -> dict[str, object]:
    return {
        "id": run.id,
        "state": run.state,
        "shown_state": run.shown_state,  # the badge's class, as the page renders it
        "state_label": run.state_label,
        "refused": run.is_refused,
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
    return _run_page(request, _run_or_404(run_id))


def _run_page(request: HttpRequest, run: EvaluationRun, *, status: int = 200) -> HttpResponse:
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
    return render(request, "leaderboard/run.html", context, status=status)


@require_POST
@login_required
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    form = ReasonForm(request.POST)

    def act() -> str:
        cancelled = run_services.run_cancel(
            run_id=run.id, user=request.user, reason=form.cleaned_data["reason"]
        )
        if not cancelled:
            run.refresh_from_db()
            raise ValidationError(
                f"Run #{run.id} is {run.state_label.lower()}: only a queued, fetching or "
                "evaluating run can be cancelled."
            )
        return f"Run #{run.id} cancelled: recorded."

    return _run_action(request, run, form, act)


@require_POST
@login_required
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_or_404(run_id)
    form = ReasonForm(request.POST)

    def act() -> str:
        new = run_services.run_retry(
            run_id=run.id, user=request.user, reason=form.cleaned_data["reason"]
        )
        return f"Run #{run.id} retried as run #{new.id}: recorded."

    return _run_action(request, run, form, act)


def _run_action(
    request: HttpRequest, run: EvaluationRun, form: ReasonForm, act: Callable[[], str]
) -> HttpResponse:
    return moderator_action(
        request,
        form,
        act,
        page=lambda status: _run_page(request, run, status=status),
        done_url=reverse("run-detail", args=[run.id]),
    )


@require_GET
def run_status(request: HttpRequest, run_id: int) -> JsonResponse:
    response = JsonResponse(_run_status(_run_or_404(run_id)))
    response["Cache-Control"] = "no-store"
    return response


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
