"""Celery tasks: thin, id in, one call out, safe to run twice, no state kept on ``self``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings

from evaluations import services
from workers import endpoint_check, lineage, runner, scratch, watch


@shared_task(name="workers.evaluate_run", bind=True, acks_late=True)
def evaluate_run(self: Task[[int], str], run_id: int) -> str:
    # The row, not the broker, is the truth: a second delivery finds the run claimed.
    return runner.evaluate_run(
        run_id, worker_name=self.request.hostname or "worker", task_id=self.request.id or ""
    )


@shared_task(name="workers.reap_stale_runs")
def reap_stale_runs() -> list[int]:
    return services.runs_reap_stale()


@shared_task(name="workers.requeue_stalled_runs")
def requeue_stalled_runs() -> list[int]:
    return services.runs_requeue_stalled()


@shared_task(name="workers.watch_reuploads")
def watch_reuploads() -> dict[str, int]:
    return watch.watch_reuploads()


@shared_task(name="workers.check_lineage")
def check_lineage() -> dict[str, int]:
    return lineage.check_lineage()


@shared_task(name="workers.check_endpoint", acks_late=True)
def check_endpoint(endpoint_id: int) -> str:
    return endpoint_check.check_endpoint(endpoint_id)


@worker_ready.connect
def sweep_scratch(sender: Any, **kwargs: Any) -> None:
    """A worker that was killed left its runs' folders behind: delete them as it starts."""
    scratch.sweep(Path(settings.WORKER_SCRATCH_DIR), worker_name=sender.hostname)
