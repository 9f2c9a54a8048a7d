"""A run's page, its live status (polled by the page's script) and its artifacts."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from evaluations import selectors
from evaluations.catalogue import BENCHMARKS
from evaluations.evidence.health import health_doubts, health_summary
from evaluations.models import EvaluationRun, RunArtifact
from evaluations.storage import artifact_path


def _run_or_404(run_id: int) -> EvaluationRun:
    return get_object_or_404(
        EvaluationRun.objects.select_related("submission__repo", "revision", "duplicate_of"),
        id=run_id,
    )


def _run_status(run: EvaluationRun) -> dict[str, object]:
    return {
        "id": run.id,
        "state": run.state,
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
