"""Prometheus metrics of the evaluation machinery, computed at scrape time.

A custom collector (prometheus_client's) reads the database, the truth about runs, and the
broker's queue lengths each time ``/metrics`` is scraped: every web process answers alike, and
nothing is counted in memory that a restart would lose. Only the evaluation-time histogram,
which reads every score (0.7 s over 160,000 on PostgreSQL), is kept per process until the
site's generation moves, as it does when a run finishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from evaluations import dispatch, routing
from evaluations.generation import site_generation
from evaluations.selectors import operations

CONTENT_TYPE = CONTENT_TYPE_LATEST


class EvaluationCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        runs = GaugeMetricFamily(
            "claimcheck_runs", "Evaluation runs by state, from the database.", labels=["state"]
        )
        for state, count in operations.runs_by_state().items():
            runs.add_metric([state], count)
        yield runs
        yield from self._queues(now)
        heartbeats = GaugeMetricFamily(
            "claimcheck_worker_heartbeat_age_seconds",
            "Seconds since each worker with a run in flight last stamped a heartbeat.",
            labels=["worker"],
        )
        for worker, age in operations.worker_heartbeats(now).items():
            heartbeats.add_metric([worker], age)
        yield heartbeats
        yield self._evaluation_seconds()

    def _queues(self, now: datetime) -> Iterator[Metric]:
        waits = {wait.queue: wait for wait in operations.queue_waits(now)}
        queues = [c.queue for c in routing.worker_classes()] + [settings.HOUSEKEEPING_QUEUE]
        queues += sorted(set(waits) - set(queues))  # a queue no class names any more
        queued = GaugeMetricFamily(
            "claimcheck_queued_runs", "Runs queued per queue, from the database.", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "claimcheck_oldest_queued_run_age_seconds",
            "Seconds the oldest queued run of each queue has waited (0: none waits).",
            labels=["queue"],
        )
        for queue in queues:
            wait = waits.get(queue)
            queued.add_metric([queue], wait.queued if wait else 0)
            oldest.add_metric([queue], wait.oldest_age_seconds if wait else 0)
        yield queued
        yield oldest
        problem = dispatch.broker_problem()
        up = GaugeMetricFamily("claimcheck_broker_up", "1 when the broker answers, else 0.")
        up.add_metric([], 0 if problem else 1)
        yield up
        depth = GaugeMetricFamily(
            "claimcheck_queue_depth",
            "Messages waiting in the broker per queue (absent while the broker is down).",
            labels=["queue"],
        )
        if not problem:
            for queue, count in dispatch.queue_depths(queues).items():
                depth.add_metric([queue], count)
        yield depth

    def _evaluation_seconds(self) -> Metric:
        histogram = HistogramMetricFamily(
            "claimcheck_evaluation_seconds",
            "Start-to-finish seconds of the finished runs that measured each benchmark (a run"
            " evaluates all its benchmarks in one call: each counts the whole run).",
            labels=["benchmark"],
        )
        for times in _evaluation_times():
            buckets = [(str(float(bound)), count) for bound, count in times.buckets]
            histogram.add_metric(
                [times.benchmark], buckets + [("+Inf", times.count)], times.total_seconds
            )
        return histogram


def _evaluation_times() -> list[operations.EvaluationTimes]:
    key = f"metrics:evaluation-times:{site_generation().value}"
    times: list[operations.EvaluationTimes] | None = caches["pages"].get(key)
    if times is None:
        times = operations.evaluation_times()
        caches["pages"].set(key, times, timeout=3600)
    return times


def render() -> bytes:
    """The metrics in Prometheus' text format, freshly collected."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EvaluationCollector())
    return generate_latest(registry)
