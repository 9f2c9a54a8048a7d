"""Every change of state in the domain goes through these functions.

Views, admin actions and Celery tasks call them; they never write rows themselves. An
evaluation run is a state machine (queued → fetching → running → recording → finished, or
failed / cancelled); each move is a conditional UPDATE, so two workers can never run the
same job and a move that is not allowed from the current state changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from evaluations import dispatch
from evaluations.errors import MESSAGES
from evaluations.generation import generation_bump
from evaluations.models import (
    ACTIVE_STATES,
    FINAL_STATES,
    EvaluationRun,
    Revision,
    RunAction,
    RunArtifact,
    RunState,
    Score,
)
from evaluations.selectors import run_attempts
from evaluations.services.evidence import evidence_changed
from evaluations.services.permissions import User, clean_reason, require_moderator
from evaluations.services.revisions import revision_record
from evaluations.services.submissions import _run_create, run_send, same_setting

logger = logging.getLogger(__name__)

# The actor a retry names when the reaper queued it; no user name has parentheses.
AUTOMATIC_ACTOR = "(automatic)"

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    RunState.QUEUED: frozenset({RunState.FETCHING, RunState.FAILED, RunState.CANCELLED}),
    RunState.FETCHING: frozenset(
        {RunState.RUNNING, RunState.FINISHED, RunState.FAILED, RunState.CANCELLED}
    ),
    RunState.RUNNING: frozenset({RunState.RECORDING, RunState.FAILED, RunState.CANCELLED}),
    RunState.RECORDING: frozenset({RunState.FINISHED, RunState.FAILED}),
    RunState.FINISHED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.CANCELLED: frozenset(),
}


class InvalidTransition(Exception):
    """A state change the state machine does not allow (a bug in the caller)."""


def _transition(run_id: int, *, source: Iterable[str], target: str, **fields: Any) -> bool:
    """Move a run from one of ``source`` to ``target`` if it is still there.

    Returns False when the run has meanwhile moved elsewhere (another worker, a cancel),
    and raises InvalidTransition when no state in ``source`` may move to ``target``.
    """
    source = list(source)
    for state in source:
        if target not in ALLOWED_TRANSITIONS[state]:
            raise InvalidTransition(f"{state} → {target} is not allowed")
    if target in FINAL_STATES:
        fields.setdefault("finished_at", timezone.now())
    updated = EvaluationRun.objects.filter(id=run_id, state__in=source).update(
        state=target, **fields
    )
    if updated:
        generation_bump()  # pages show a run's state
    return updated == 1


def run_retry(*, run_id: int, user: User, reason: str) -> EvaluationRun:
    """A moderator retries a failed or cancelled run. It is never re-used: a retry is a new
    run of the submission, and the retry is on the record (``RunAction``)."""
    actor = require_moderator(user)
    reason = clean_reason(reason)
    with transaction.atomic():  # the lock makes a form sent twice retry once
        old = EvaluationRun.objects.select_for_update(of=("self",)).get(id=run_id)
        if old.state not in (RunState.FAILED, RunState.CANCELLED):
            raise ValidationError(
                "Only a failed or cancelled run can be retried.", code="not_final"
            )
        earlier = old.actions.filter(action=RunAction.Action.RETRY).first()
        if earlier is not None:
            raise ValidationError(
                f"Run #{old.id} was already retried as run #{earlier.new_run_id}; "
                "retry that run if it fails too.",
                code="retried",
            )
        return _run_again(old, actor=actor, reason=reason)


def _run_again(
    old: EvaluationRun, *, actor: str, reason: str, revision: Revision | None = None
) -> EvaluationRun:
    """A new run of ``old``'s submission, linked to it by a retry on the record. With a
    ``revision`` the new run evaluates that commit, even if the ref has moved since (and
    is queued for the worker class its size needs)."""
    with transaction.atomic():
        new = _run_create(old.submission, deliberate_rerun=old.deliberate_rerun, revision=revision)
        RunAction.objects.create(
            run=old,
            action=RunAction.Action.RETRY,
            reason=reason,
            actor=actor,
            state_before=old.state,
            new_run=new,
        )
    return new


# --- The worker's side ------------------------------------------------------------------


def run_claim(*, run_id: int, worker_name: str, task_id: str) -> bool:
    """Take a queued run for this worker. Only one caller ever gets True for a run."""
    now = timezone.now()
    return _transition(
        run_id,
        source=[RunState.QUEUED],
        target=RunState.FETCHING,
        worker_name=worker_name[:200],
        celery_task_id=task_id[:64],
        started_at=now,
        heartbeat_at=now,
    )


def run_record_inspection(
    *,
    run_id: int,
    commit_sha: str,
    files: list[Mapping[str, Any]],
    parameter_count: int | None,
    dtype: str | None,
    licence: str | None,
    model_type: str | None,
    card_text: str = "",
) -> EvaluationRun | None:
    """Pin the run to the commit the ref resolved to, with what its inspection read (the
    model card's text is kept, capped, for the model page).

    Returns the run that already evaluated (or is evaluating) this commit with the same
    setting, in which case this run ends as its duplicate and nothing is downloaded.
    """
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().select_related("submission").get(id=run_id)
        revision = revision_record(
            repo_id=run.submission.repo_id,
            commit_sha=commit_sha,
            files=files,
            parameter_count=parameter_count,
            dtype=dtype,
            licence=licence,
            model_type=model_type,
            card_text=card_text,
        )
        EvaluationRun.objects.filter(id=run_id).update(
            revision=revision, heartbeat_at=timezone.now()
        )
        generation_bump()  # the run now names its commit
        original = (
            EvaluationRun.objects.filter(
                same_setting(run.submission), revision=revision, duplicate_of__isnull=True
            )
            .filter(Q(state=RunState.FINISHED) | Q(state__in=ACTIVE_STATES))
            .exclude(id=run_id)
            .order_by("created_at")
            .first()
        )
        if original is None or run.deliberate_rerun:
            return None
        _transition(
            run_id, source=[RunState.FETCHING], target=RunState.FINISHED, duplicate_of=original
        )
        return original


def run_start_evaluating(*, run_id: int, backend: str) -> bool:
    return _transition(
        run_id,
        source=[RunState.FETCHING],
        target=RunState.RUNNING,
        backend_used=backend,
        heartbeat_at=timezone.now(),
    )


def run_heartbeat(*, run_id: int, done: int | None = None, total: int | None = None) -> bool:
    """Stamp the heartbeat (and progress). False when the run is no longer active, e.g.
    cancelled: the worker then stops."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if done is not None and total is not None:
        fields.update(progress_done=max(0, done), progress_total=max(0, total))
    updated = EvaluationRun.objects.in_flight().filter(id=run_id).update(**fields)
    return updated == 1


def run_record_results(
    *,
    run_id: int,
    scores: Iterable[Mapping[str, Any]],
    versions: Mapping[str, Any],
    artifacts: Iterable[Mapping[str, Any]],
) -> bool:
    """Write the run's scores, artifacts and versions and finish it, all in one transaction.
    Safe to call again when the database went away mid-way: a run left recording is finished
    by the second call, a finished one is left as it is."""
    recording = EvaluationRun.objects.filter(id=run_id, state=RunState.RECORDING)
    moved = _transition(run_id, source=[RunState.RUNNING], target=RunState.RECORDING)
    if not moved and not recording.exists():
        return False
    with transaction.atomic():
        Score.objects.bulk_create(
            Score(
                run_id=run_id,
                benchmark=s["benchmark_key"],
                task=s["task"],
                metric=s["metric"],
                filter=s["filter"],
                shots=s["shots"],
                value=float(s["value"]),
                stderr=None if s.get("stderr") is None else float(s["stderr"]),
                n_samples=s.get("n_samples"),
                health=dict(s.get("health") or {}),
            )
            for s in scores
        )
        RunArtifact.objects.bulk_create(
            RunArtifact(
                run_id=run_id,
                kind=a["kind"],
                path=a["path"],
                sha256=a["sha256"],
                size_bytes=a["size_bytes"],
            )
            for a in artifacts
        )
        EvaluationRun.objects.filter(id=run_id).update(versions=dict(versions))
        finished = _transition(
            run_id,
            source=[RunState.RECORDING],
            target=RunState.FINISHED,
            heartbeat_at=timezone.now(),
        )
        if not finished:  # the reaper took it meanwhile: undo it all
            transaction.set_rollback(True)
            return False
        # The repo's claims are judged against the new numbers in the same transaction:
        # nobody sees this run finished without the flags it raises, and the rankings move
        # in the same commit.
        repo_id = EvaluationRun.objects.values_list("submission__repo_id", flat=True).get(id=run_id)
        evidence_changed(repo_id=repo_id)
    return True


def run_fail(*, run_id: int, code: str, detail: str = "", log_tail: str = "") -> bool:
    if code not in MESSAGES:
        detail = f"{code}: {detail}".strip(": ")
        code = "eval:infra:unexpected"
    return _transition(
        run_id,
        source=[s for s in RunState.values if s not in FINAL_STATES],
        target=RunState.FAILED,
        error_code=code,
        error_detail=detail[:5000],
        log_tail=log_tail[-20000:],
    )


def run_cancel(*, run_id: int, user: User, reason: str) -> bool:
    """A moderator cancels a run that has not reached recording, on the record
    (``RunAction``). A running worker sees it at its next heartbeat and stops."""
    actor = require_moderator(user)
    reason = clean_reason(reason)
    cancellable = [RunState.QUEUED, RunState.FETCHING, RunState.RUNNING]
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(id=run_id)
        if run.state not in cancellable:
            return False
        _transition(
            run_id, source=cancellable, target=RunState.CANCELLED, error_code="eval:cancelled"
        )
        RunAction.objects.create(
            run=run,
            action=RunAction.Action.CANCEL,
            reason=reason,
            actor=actor,
            state_before=run.state,
        )
    return True


# --- Housekeeping (Celery beat) ---------------------------------------------------------


def runs_reap_stale(*, now: Any = None) -> list[int]:
    """Fail active runs whose worker stopped sending heartbeats and attempt each again;
    return their ids."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.EVAL_HEARTBEAT_TIMEOUT)
    stale = EvaluationRun.objects.in_flight().filter(heartbeat_at__lt=cutoff)
    reaped = []
    for run in stale.only("id", "celery_task_id", "worker_name", "started_at"):
        if _reap(run, cutoff, now):
            reaped.append(run.id)
            try:
                dispatch.revoke(run.celery_task_id)
            except Exception:  # a broker without remote control (the demo's) cannot revoke
                logger.info("could not revoke task %s", run.celery_task_id)
    return reaped


def _reap(run: EvaluationRun, cutoff: Any, now: Any) -> bool:
    """End a silent run. One past the soft time limit was the submitter's to finish in time
    (the hard limit kills a worker that way): it is not attempted again."""
    limit = timedelta(seconds=settings.EVAL_SOFT_TIME_LIMIT)
    if run.started_at and now - run.started_at >= limit:
        detail = f"still running at the limit of {settings.EVAL_SOFT_TIME_LIMIT} s"
        return run_fail(run_id=run.id, code="eval:user:time-limit", detail=detail)
    worker = run.worker_name or "the worker"
    detail = f"no heartbeat from {worker} since before {cutoff:%H:%M:%S} UTC"
    if not run_fail(run_id=run.id, code="eval:infra:worker-lost", detail=detail):
        return False  # ended meanwhile (finished, cancelled, or another reaper took it)
    _attempt_again(run.id, detail)
    return True


def _attempt_again(run_id: int, detail: str) -> EvaluationRun | None:
    """Queue a new attempt of a run whose worker was lost: the same commit and setting, as a
    new run linked by a retry on the record, up to ``EVAL_MAX_ATTEMPTS`` attempts."""
    old = EvaluationRun.objects.select_related("submission", "revision").get(id=run_id)
    attempts = len(run_attempts(old))
    if old.error_code != "eval:infra:worker-lost" or attempts >= settings.EVAL_MAX_ATTEMPTS:
        return None
    reason = (
        f"Attempt {attempts + 1} of at most {settings.EVAL_MAX_ATTEMPTS}, queued "
        f"automatically: the worker of run #{old.id} was lost ({detail})."
    )
    return _run_again(old, actor=AUTOMATIC_ACTOR, reason=reason, revision=old.revision)


def runs_requeue_stalled(*, now: Any = None) -> list[int]:
    """Send the message of queued runs again, oldest first: those whose send failed (the
    broker was down) at once, those still queued long after their send after
    ``EVAL_REQUEUE_AFTER``. Returns the ids sent; stops at the first send that fails.

    A process that died between commit and enqueue loses the message; the row is the
    truth, and a second delivery of a message that did arrive finds the run claimed.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.EVAL_REQUEUE_AFTER)
    stalled = list(
        EvaluationRun.objects.filter(state=RunState.QUEUED)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff))
        .order_by("created_at", "id")
        .values_list("id", "queue")
    )
    sent = []
    for run_id, queue in stalled:
        if not run_send(run_id, queue):
            break  # the broker is down again: the next pass goes on from this run
        EvaluationRun.objects.filter(id=run_id, state=RunState.QUEUED).update(enqueued_at=now)
        sent.append(run_id)
    return sent
