"""Hands a run to the workers: its id, by the task's name, once the row is committed.

The domain never imports ``workers``: it sends the task by name, so every arrow points one
way. The database row stays the truth about the run; the message only carries its id.
"""

from __future__ import annotations

from celery import current_app

EVALUATE_TASK = "workers.evaluate_run"


def queue_for_backend(backend: str) -> str:
    return "gpu" if backend == "vllm" else "cpu"


def send_run(run_id: int, queue: str) -> None:
    """Send now. Used on commit, and by the reconciler for runs whose message was lost."""
    current_app.send_task(EVALUATE_TASK, args=[run_id], queue=queue)


def revoke(task_id: str) -> None:
    """Stop a running task (its process is ended)."""
    if task_id:
        current_app.control.revoke(task_id, terminate=True, signal="SIGTERM")
