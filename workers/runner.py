"""The evaluation runner: fetch → evaluate → record, each stage visible as the run's state.

The task calls ``evaluate_run``; every change of state goes through
``evaluations.services``. Exceptions of the submitter's kind and of ours both end as a
failed run with a stable error id, a detail and the log's tail: a failed run always says why.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils.module_loading import import_string

from evaluations import routing, services
from evaluations.catalogue import BENCHMARKS, Benchmark, suite_benchmarks
from evaluations.errors import EvaluationError
from evaluations.models import EvaluationRun, RunState
from workers import artifacts, card_files, hub, results, sandbox, scratch
from workers.child import log_tail, run_child
from workers.db_retry import retrying
from workers.heartbeat import beating, stamp

logger = logging.getLogger(__name__)


def evaluate_run(run_id: int, *, worker_name: str, task_id: str) -> str:
    """Run one evaluation if this worker can claim it. Safe to call twice for one run."""
    try:
        routed = route_before_claim(run_id)
    except Exception as error:  # every failure ends the run with its reason
        return _end_failed(run_id, error, log=None)
    if routed:
        return routed
    claimed = retrying(
        lambda: services.run_claim(run_id=run_id, worker_name=worker_name, task_id=task_id),
        f"run {run_id}: claim",
    )
    if not claimed:
        logger.info("run %s was already claimed or ended; nothing to do", run_id)
        return "not-claimed"
    work_dir = Path(settings.WORKER_SCRATCH_DIR) / f"run-{run_id}"
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        with beating(run_id, settings.EVAL_HEARTBEAT_INTERVAL):
            return _stages(run_id, work_dir)
    except Exception as error:  # every failure ends the run with its reason
        return _end_failed(run_id, error, log=work_dir / "evaluation.log")
    finally:
        scratch.remove(work_dir)


def _end_failed(run_id: int, error: Exception, *, log: Path | None) -> str:
    """Fail the run with the error's stable id, its detail and the log's tail; return the id.
    The submitter's errors and ours alike: a failed run always says why."""
    tail = log_tail(log) if log else ""
    if isinstance(error, EvaluationError):
        if error.code == "eval:cancelled":
            return "cancelled"
        code, detail = error.code, error.detail
    elif isinstance(error, SoftTimeLimitExceeded):
        code, detail = "eval:user:time-limit", f"soft limit {settings.EVAL_SOFT_TIME_LIMIT} s"
    else:  # ours: keep the reason on the run, and the trace in the log
        logger.exception("run %s failed unexpectedly", run_id, exc_info=error)
        code, detail = "eval:infra:unexpected", repr(error)
    retrying(
        lambda: services.run_fail(run_id=run_id, code=code, detail=detail, log_tail=tail),
        f"run {run_id}: record the failure",
    )
    return code


def route_before_claim(run_id: int) -> str:
    """Before a queued run is claimed: learn its size if no worker has (an inspection, no
    weights), then hand it to its class's queue if that is another, or refuse it when no
    class is large enough. Returns what happened, or "" when this worker goes on."""
    run = EvaluationRun.objects.select_related("submission__repo").get(id=run_id)
    if run.state != RunState.QUEUED:
        return ""  # the claim then finds it taken
    if run.revision_id is None:
        _pin_revision(run)
    decision = services.run_route(run_id=run_id)
    if decision.refused:
        return "eval:user:too-large-for-workers"
    return f"handed-to-{decision.queue}" if decision.moved else ""


def _pin_revision(run: EvaluationRun) -> None:
    inspection = hub.inspect_repo(
        run.submission.repo.hub_id, run.submission.ref, max_parameters=None
    )
    services.run_pin_revision(run_id=run.id, **_revision_facts(inspection))


def _revision_facts(inspection: hub.RepoInspection) -> dict[str, Any]:
    """What a revision records of an inspection (``services.revision_record``'s fields)."""
    return {
        "commit_sha": inspection.commit_sha,
        "files": [dataclasses.asdict(f) for f in inspection.files],
        "parameter_count": inspection.parameter_count,
        "dtype": inspection.dtype,
        "licence": inspection.licence,
        "model_type": inspection.model_type,
        "card_text": inspection.card_text,
    }


def _stages(run_id: int, work_dir: Path) -> str:
    """Each write to the database is tried again over a broken connection (``retrying``)."""
    run = retrying(
        lambda: EvaluationRun.objects.select_related("submission__repo", "revision").get(id=run_id),
        f"run {run_id}: load",
    )
    submission = run.submission
    # A new attempt of a run whose worker was lost comes pinned to that run's commit.
    ref = run.revision.commit_sha if run.revision else submission.ref

    # 1. fetch: resolve the ref, refuse before downloading weights, then download and verify.
    # The size was checked against the worker classes before the claim (route_before_claim).
    inspection = hub.inspect_repo(submission.repo.hub_id, ref, max_parameters=None)
    original = retrying(
        lambda: services.run_record_inspection(run_id=run_id, **_revision_facts(inspection)),
        f"run {run_id}: record the commit",
    )
    if original is not None:
        return f"duplicate-of-{original.id}"
    _import_card_claims(run_id, inspection)
    model_dir = hub.download_repo(
        inspection, work_dir / "model", retries=settings.WORKER_DOWNLOAD_RETRIES
    )
    started = retrying(
        lambda: services.run_start_evaluating(run_id=run_id, backend=settings.WORKER_BACKEND),
        f"run {run_id}: start evaluating",
    )
    if not started:
        return "cancelled"

    # 2. evaluate: one lm-eval call with every task of the suite, in a child process.
    tasks = submission_tasks(submission.suite, submission.tasks)
    benchmarks = [benchmark for benchmark, _ in tasks]
    spec = evaluation_spec(
        tasks,
        submission.precision,
        submission.chat_template,
        model_dir,
        inspection.commit_sha,
        queue=run.queue,
    )
    outcome = run_child(
        spec,
        work_dir,
        on_progress=lambda done, total: stamp(run_id, done, total),
        limits=sandbox.Limits.for_worker(
            address_space_gb=settings.EVAL_CHILD_ADDRESS_SPACE_GB,
            open_files=settings.EVAL_CHILD_OPEN_FILES,
            hard_time_limit=settings.EVAL_HARD_TIME_LIMIT,
        ),
    )

    # 3. record: scores, artifacts and versions in one transaction.
    raw = json.loads(outcome.results_path.read_text())
    scores = [dataclasses.asdict(s) for s in results.parse_scores(raw, benchmarks)]
    stored = artifacts.store_run_artifacts(run_id, outcome)
    versions = results.parse_versions(raw)
    retrying(
        lambda: services.run_record_results(
            run_id=run_id, scores=scores, versions=versions, artifacts=stored
        ),
        f"run {run_id}: record the results",
    )
    # Recording is an evidence change: flags, read tables and claim-matched runs follow.
    return "finished"


def _import_card_claims(run_id: int, inspection: hub.RepoInspection) -> None:
    """Read the evaluated commit's ``.eval_results`` files and those that open pull requests
    add; the service records their claims and the model card's, once per commit."""
    blobs = {f.path: f.blob_id for f in inspection.files if hub.is_eval_results_path(f.path)}
    files, notes = card_files.read_results_files(inspection.repo_id, inspection.commit_sha, blobs)
    retrying(
        lambda: services.card_claims_import(
            run_id=run_id, card_data=inspection.card_data, results_files=files, notes=notes
        ),
        f"run {run_id}: import the card's claims",
    )


def submission_tasks(suite: str, tasks: list[dict[str, Any]]) -> list[tuple[Benchmark, int]]:
    """The benchmarks to run with their shots: the whole suite in the catalogue's setting, or
    the claim-matched subset the submission names."""
    if not tasks:
        return [(benchmark, benchmark.shots) for benchmark in suite_benchmarks(suite)]
    return [(BENCHMARKS[task["benchmark"]], task["shots"]) for task in tasks]


def evaluation_spec(
    tasks: list[tuple[Benchmark, int]],
    precision: str,
    chat_template: bool,
    model_dir: Path,
    commit_sha: str,
    *,
    queue: str = "",
) -> dict[str, Any]:
    """What the child runs: the same arguments a person would give ``lm_eval``; for vLLM the
    engine settings of the worker class serving ``queue``."""
    uses_smoke = any(benchmark.task.startswith("smoke_") for benchmark, _ in tasks)
    spec: dict[str, Any] = {
        "backend": settings.WORKER_BACKEND,
        "model_dir": str(model_dir),
        "commit_sha": commit_sha,
        "dtype": precision,
        "device": settings.WORKER_DEVICE,
        "tasks": [{"task": benchmark.task, "shots": shots} for benchmark, shots in tasks],
        "include_path": str(local_task_dir()) if uses_smoke else None,
        "batch_size": _batch_size(settings.WORKER_BATCH_SIZE),
        "apply_chat_template": chat_template,
        "seed": 1234,
        "limit": None,
    }
    if settings.WORKER_BACKEND == "vllm":
        spec["vllm_engine"] = vllm_engine(queue)
    return spec


def vllm_engine(queue: str) -> dict[str, Any]:
    """The engine arguments: the worker's ``WORKER_VLLM_*`` settings, overridden by those the
    worker class serving ``queue`` sets (its parallelism and memory; README: "Add a worker
    machine")."""
    engine = dataclasses.asdict(settings.WORKER_VLLM)
    worker_class = routing.class_of_queue(queue)
    if worker_class is not None:
        class_set = worker_class.vllm_settings().items()
        engine.update({name: value for name, value in class_set if value is not None})
    return engine


def local_task_dir() -> Path:
    """The folder of the task YAMLs lm-eval does not ship, written by ``WORKER_LOCAL_TASKS``
    (named in settings, so the worker imports no tooling package)."""
    write_tasks: Callable[[], Path] = import_string(settings.WORKER_LOCAL_TASKS)
    return write_tasks()


def _batch_size(value: str) -> int | str:
    return int(value) if value.isdigit() else value
