"""A queued run finds its worker class: the worker that takes a run whose size nobody knew
inspects it first (no weights), pins it to the commit it saw, and hands it to the queue of
the class its size needs, or refuses it there when no class is large enough.

The run stays ``queued`` throughout: nothing has started. Each move is a conditional UPDATE
on the state (and the queue it left), so a second delivery of the message, or another
worker, finds the run moved and does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from evaluations import routing
from evaluations.errors import EvaluationError
from evaluations.generation import generation_bump
from evaluations.models import EvaluationRun, RunState
from evaluations.services.revisions import revision_record
from evaluations.services.runs import run_fail
from evaluations.services.submissions import run_send


@dataclass(frozen=True)
class RouteDecision:
    """``queue``: where the run waits now (empty when refused); ``moved``: handed on."""

    queue: str
    moved: bool = False
    refused: bool = False


def run_pin_revision(
    *,
    run_id: int,
    commit_sha: str,
    files: list[Mapping[str, Any]],
    parameter_count: int | None,
    dtype: str | None,
    licence: str | None,
    model_type: str | None,
    card_text: str = "",
) -> bool:
    """Pin a queued run to the commit its ref resolved to when a worker inspected it
    before claiming it. From then on the run's size is known and the commit fixed."""
    with transaction.atomic():
        repo_id = EvaluationRun.objects.values_list("submission__repo_id", flat=True).get(id=run_id)
        revision = revision_record(
            repo_id=repo_id,
            commit_sha=commit_sha,
            files=files,
            parameter_count=parameter_count,
            dtype=dtype,
            licence=licence,
            model_type=model_type,
            card_text=card_text,
        )
        pinned = EvaluationRun.objects.filter(
            id=run_id, state=RunState.QUEUED, revision__isnull=True
        ).update(revision=revision)
        if pinned:
            generation_bump()  # the run now names its commit
    return pinned == 1


def run_route(*, run_id: int) -> RouteDecision:
    """Where a queued run belongs by its revision's size (``evaluations.routing``): it stays,
    is handed to another class's queue (sent once this commits), or is refused."""
    run = EvaluationRun.objects.select_related("submission", "revision").get(id=run_id)
    if run.state != RunState.QUEUED:
        return RouteDecision(queue=run.queue)
    try:
        worker_class = routing.class_for_model(
            backend=run.submission.backend,
            parameter_count=run.revision.parameter_count if run.revision else None,
            dtype=run.revision.dtype if run.revision else "",
            precision=run.submission.precision,
        )
    except EvaluationError as refusal:
        run_fail(run_id=run_id, code=refusal.code, detail=refusal.detail)
        return RouteDecision(queue="", refused=True)
    if worker_class.queue == run.queue:
        return RouteDecision(queue=run.queue)
    with transaction.atomic():
        moved = EvaluationRun.objects.filter(
            id=run_id, state=RunState.QUEUED, queue=run.queue
        ).update(queue=worker_class.queue, enqueued_at=timezone.now())
        if moved:
            queue = worker_class.queue
            transaction.on_commit(lambda: run_send(run_id, queue))
            generation_bump()  # the run page names its queue and place in it
    return RouteDecision(queue=worker_class.queue, moved=moved == 1)
