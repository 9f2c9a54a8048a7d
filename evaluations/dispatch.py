"""Hands a run to the workers: its id, by the task's name, once the row is committed; and
reads what an operator asks of the broker (is it up, how much waits, which workers answer).

The domain never imports ``workers``: it sends the task by name, so every arrow points one
way. The database row stays the truth about the run; the message only carries its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from celery import current_app
from kombu.exceptions import ChannelError

EVALUATE_TASK = "workers.evaluate_run"


def send_run(run_id: int, queue: str) -> None:
    """Send now. Used on commit, and by the reconciler for runs whose message was lost."""
    current_app.send_task(EVALUATE_TASK, args=[run_id], queue=queue)


def revoke(task_id: str) -> None:
    """Stop a running task (its process is ended)."""
    if task_id:
        current_app.control.revoke(task_id, terminate=True, signal="SIGTERM")


# --- What the broker says (the operator's view) -----------------------------------------


def broker_problem(timeout: int = 2) -> str:
    """Why the broker cannot be reached, or "" when it can. One connection, no retries
    beyond one: the load balancer's health check asks this."""
    try:
        with current_app.connection_for_write() as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
    except Exception as error:  # kombu's and the transport's errors alike
        return f"{type(error).__name__}: {error}"[:300]
    return ""


def queue_depths(queues: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each queue. On Redis the length of the queue's lists (one per
    priority step, LLEN); on the filesystem transport the message files named for it. A queue
    the broker has never seen holds none."""
    depths: dict[str, int] = {}
    with current_app.connection_for_read() as connection:
        channel: Any = connection.default_channel  # a kombu virtual channel (Redis, files)
        for queue in queues:
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:
                depths[queue] = 0
    return depths


@dataclass(frozen=True)
class WorkersSeen:
    """The workers that answered, each with the tasks it is running; ``problem`` says
    why none could be asked (the broker is down, or it has no remote control)."""

    answered: dict[str, list[Any]] = field(default_factory=dict)
    problem: str = ""


def workers_seen(timeout: float = 1.0) -> WorkersSeen:
    """Ask every worker over the broker, waiting ``timeout`` seconds for answers. Ask
    ``broker_problem`` first: with the broker down the client would retry for long."""
    try:
        # Every live worker answers "active" (an idle one with no task): one broadcast is a
        # ping and the list of what runs.
        active = current_app.control.inspect(timeout=timeout).active() or {}
    except Exception as error:  # e.g. a transport without broadcast (the filesystem one)
        return WorkersSeen(problem=f"workers cannot be asked: {type(error).__name__}: {error}")
    return WorkersSeen(answered={name: list(tasks or []) for name, tasks in sorted(active.items())})
