"""What an operator reads about the evaluation machinery, from the database (the truth about
runs; the broker's own figures come from ``evaluations.dispatch``): runs by state, what waits
in each queue, the workers' heartbeats, and how long evaluations take per benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, FloatField, Func, Max, Min, Q, Sum

from evaluations.models import EvaluationRun, RunState, Score

# Upper bounds, in seconds, of the evaluation-time histogram's buckets (then +Inf).
EVALUATION_SECONDS_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800)


@dataclass(frozen=True)
class QueueWait:
    queue: str
    queued: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class InFlight:
    run: EvaluationRun
    heartbeat_age_seconds: float | None


@dataclass(frozen=True)
class EvaluationTimes:
    """Cumulative counts per bucket bound (as Prometheus wants them), their sum and count."""

    benchmark: str
    buckets: tuple[tuple[float, int], ...]
    total_seconds: float
    count: int


def runs_by_state() -> dict[str, int]:
    rows = EvaluationRun.objects.order_by().values("state").annotate(n=Count("id"))
    counts = {row["state"]: row["n"] for row in rows}
    return {state: counts.get(state, 0) for state in RunState.values}


def queue_waits(now: datetime) -> list[QueueWait]:
    """Runs the database holds queued, per queue, and how long the oldest has waited."""
    rows = (
        EvaluationRun.objects.filter(state=RunState.QUEUED)
        .order_by()
        .values("queue")
        .annotate(queued=Count("id"), oldest=Min("created_at"))
        .order_by("queue")
    )
    return [
        QueueWait(row["queue"], row["queued"], (now - row["oldest"]).total_seconds())
        for row in rows
    ]


def runs_in_flight(now: datetime) -> list[InFlight]:
    """Runs a worker is on, oldest heartbeat first, with how old that heartbeat is."""
    runs = (
        EvaluationRun.objects.in_flight()
        .select_related("submission__repo")
        .order_by(F("heartbeat_at").asc(nulls_first=True), "id")
    )
    return [
        InFlight(run, (now - run.heartbeat_at).total_seconds() if run.heartbeat_at else None)
        for run in runs
    ]


def worker_heartbeats(now: datetime) -> dict[str, float]:
    """Each worker with a run in flight: seconds since its latest heartbeat."""
    rows = (
        EvaluationRun.objects.in_flight()
        .exclude(heartbeat_at=None)
        .order_by()
        .values("worker_name")
        .annotate(latest=Max("heartbeat_at"))
    )
    return {row["worker_name"]: (now - row["latest"]).total_seconds() for row in rows}


class SecondsBetween(Func):
    """Seconds from one timestamp to another, by the database's own date arithmetic: Django's
    portable duration runs a Python function per row on SQLite (13 s over 160,000 scores)."""

    output_field = FloatField()
    arity = 2
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # julianday's float: rounded to the millisecond, so one hour reads as 3600, not 3600.0001
        template = "ROUND((julianday(%(expressions)s)) * 86400.0, 3)"
        joiner = ") - julianday("
        return self.as_sql(compiler, connection, template=template, arg_joiner=joiner, **extra)


def evaluation_times(
    buckets: Sequence[float] = EVALUATION_SECONDS_BUCKETS,
) -> list[EvaluationTimes]:
    """Per benchmark, the durations (start to finish) of the finished runs that measured it.
    A run evaluates all its benchmarks in one call, so each of them counts the whole run.
    Counted by the database in one grouped query, however many runs there are."""
    bucket_counts = {
        f"le_{index}": Count("id", filter=Q(seconds__lte=bound))
        for index, bound in enumerate(buckets)
    }
    rows = (
        Score.objects.filter(run__state=RunState.FINISHED, run__duplicate_of=None)
        .exclude(run__started_at=None)
        .alias(seconds=SecondsBetween("run__finished_at", "run__started_at"))
        .order_by()
        .values("benchmark")
        .annotate(count=Count("id"), total=Sum("seconds"), **bucket_counts)
        .order_by("benchmark")
    )
    return [
        EvaluationTimes(
            benchmark=row["benchmark"],
            buckets=tuple((bound, row[f"le_{i}"]) for i, bound in enumerate(buckets)),
            total_seconds=float(row["total"] or 0.0),
            count=row["count"],
        )
        for row in rows
    ]
