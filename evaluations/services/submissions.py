"""Submissions: what to evaluate, and the run that answers it (a new one, or one that
already does). The run's own life, from queued to finished, is ``runs``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from evaluations import dispatch, routing
from evaluations.catalogue import SUITES
from evaluations.errors import EvaluationError
from evaluations.generation import generation_bump
from evaluations.models import (
    Backend,
    EvaluationRun,
    ModelRepo,
    Precision,
    Revision,
    RunState,
    Submission,
)
from evaluations.services.permissions import Account
from evaluations.validation import COMMIT_SHA_RE, clean_ref, clean_repo_id

logger = logging.getLogger(__name__)


class SubmissionSetting(TypedDict, total=False):
    """What a submitter may choose besides the repo; ``submission_create`` fills the rest."""

    ref: str
    suite: str
    precision: str
    chat_template: bool
    backend: str | None
    tasks: list[dict[str, Any]] | None


@dataclass(frozen=True)
class SubmissionOutcome:
    submission: Submission
    run: EvaluationRun
    reused: bool  # True when an existing run already answers this submission


def same_setting(submission: Submission) -> Q:
    return Q(
        submission__suite=submission.suite,
        submission__tasks=submission.tasks,
        submission__backend=submission.backend,
        submission__precision=submission.precision,
        submission__chat_template=submission.chat_template,
    )


def submission_create(
    *,
    repo_id: str,
    ref: str = "main",
    suite: str = "smoke",
    precision: str = Precision.AUTO,
    chat_template: bool = False,
    backend: str | None = None,
    tasks: list[dict[str, Any]] | None = None,
    submitted_by: Account | None = None,
    deliberate_rerun: bool = False,
) -> SubmissionOutcome:
    """Record a submission and queue its run, or link to a run that already answers it.

    The submission is always kept (nothing is lost). When the same repo and ref with the same
    suite and setting is already queued or running, or the ref is a commit SHA that was
    already evaluated that way, no new run is made: zero worker time is spent. A
    ``deliberate_rerun`` (a moderator's, who records who asked and why) skips that check and
    is never ended as a duplicate: measuring again is its point.
    """
    repo_id = clean_repo_id(repo_id)
    ref = clean_ref(ref)
    backend = backend or settings.WORKER_BACKEND
    if suite not in SUITES:
        raise ValidationError(f"Unknown suite “{suite}”.", code="invalid_suite")
    if precision not in Precision.values:
        raise ValidationError(f"Unknown precision “{precision}”.", code="invalid_precision")
    if backend not in Backend.values:
        raise ValidationError(f"Unknown backend “{backend}”.", code="invalid_backend")
    tasks = _clean_tasks(suite, tasks or [])

    with transaction.atomic():
        repo, _ = ModelRepo.objects.get_or_create(hub_id=repo_id)
        submission = Submission.objects.create(
            repo=repo,
            ref=ref,
            suite=suite,
            backend=backend,
            precision=precision,
            chat_template=chat_template,
            tasks=tasks,
            submitted_by=submitted_by,
        )
        generation_bump()  # a new repo is listed at once
        existing = None if deliberate_rerun else _existing_run_for(submission)
        if existing is not None:
            return SubmissionOutcome(submission, existing, reused=True)
        run = _run_create(submission, deliberate_rerun=deliberate_rerun)
    return SubmissionOutcome(submission, run, reused=False)


def _clean_tasks(suite: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A claim-matched subset of the suite, each benchmark with its shots, in a stable order."""
    cleaned = []
    for task in tasks:
        key, shots = task.get("benchmark"), task.get("shots")
        if key not in SUITES[suite]:
            raise ValidationError(f"“{key}” is not a benchmark of the {suite} suite.")
        if not isinstance(shots, int) or not 0 <= shots <= 100:
            raise ValidationError(f"{key}: shots must be a whole number from 0 to 100.")
        cleaned.append({"benchmark": key, "shots": shots})
    return sorted(cleaned, key=lambda task: (SUITES[suite].index(task["benchmark"]), task["shots"]))


def _existing_run_for(submission: Submission) -> EvaluationRun | None:
    same = EvaluationRun.objects.filter(same_setting(submission), duplicate_of__isnull=True)
    if COMMIT_SHA_RE.match(submission.ref):
        done = same.finished_ok().filter(
            revision__repo=submission.repo, revision__commit_sha=submission.ref
        )
        if run := done.order_by("-finished_at").first():
            return run
    pending = same.active().filter(submission__repo=submission.repo, submission__ref=submission.ref)
    return pending.order_by("created_at").first()


def _run_create(
    submission: Submission, *, deliberate_rerun: bool = False, revision: Revision | None = None
) -> EvaluationRun:
    """A run of the submission, queued for the worker class its model's size needs.

    The size is known when the commit was inspected before (``revision``, or the ref is a
    commit SHA a worker inspected); otherwise the run queues on its backend's smallest class,
    whose worker inspects it first and hands it on (``services.run_route``). A model larger
    than every class is refused here, with the reason, and never queued.
    """
    revision = revision or _inspected_revision(submission)
    try:
        worker_class = routing.class_for_model(
            backend=submission.backend,
            parameter_count=revision.parameter_count if revision else None,
            dtype=revision.dtype if revision else "",
            precision=submission.precision,
        )
    except EvaluationError as refusal:
        run = EvaluationRun.objects.create(
            submission=submission,
            revision=revision,
            queue="",
            state=RunState.FAILED,
            error_code=refusal.code,
            error_detail=refusal.detail,
            finished_at=timezone.now(),
            deliberate_rerun=deliberate_rerun,
        )
        generation_bump()
        return run
    run = EvaluationRun.objects.create(
        submission=submission,
        revision=revision,
        queue=worker_class.queue,
        enqueued_at=timezone.now(),
        deliberate_rerun=deliberate_rerun,
    )
    transaction.on_commit(lambda: run_send(run.id, worker_class.queue))
    generation_bump()
    return run


def _inspected_revision(submission: Submission) -> Revision | None:
    if not COMMIT_SHA_RE.match(submission.ref):
        return None  # a branch or tag may have moved since any inspection
    return Revision.objects.filter(repo=submission.repo, commit_sha=submission.ref).first()


def run_send(run_id: int, queue: str) -> bool:
    """Hand a queued run's message to the broker; never raises. When the broker cannot take
    it, the run stays queued with no send on record (``enqueued_at`` empty) and the requeue
    sends it at its first pass once the broker is back: the row, not the broker, is the truth.
    """
    try:
        dispatch.send_run(run_id, queue)
    except Exception:
        logger.warning("run %s: the broker did not take its message", run_id, exc_info=True)
        EvaluationRun.objects.filter(id=run_id, state=RunState.QUEUED).update(enqueued_at=None)
        return False
    return True
