"""A worker outlasts a PostgreSQL restart: its writes are tried again on a new connection,
and recording, cut off half-way, is finished by the next try. (tests/workers/test_faults.py
restarts a real PostgreSQL under a running worker.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django import db

from evaluations import services
from evaluations.models import EvaluationRun, RunState
from tests.factories import inspected_run
from workers import db_retry, heartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

SCORE = {
    "benchmark_key": "smoke_arc",
    "task": "smoke_arc",
    "metric": "acc",
    "filter": "none",
    "shots": 0,
    "value": 0.5,
    "stderr": 0.05,
    "n_samples": 40,
}


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_retry.time, "sleep", lambda seconds: None)


def _flaky(failures: int, error: Exception) -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def call() -> int:
        calls.append(1)
        if len(calls) <= failures:
            raise error
        return 42

    return calls, call


def test_a_write_over_a_broken_connection_is_tried_again_on_a_new_one() -> None:
    calls, call = _flaky(2, db.OperationalError("server closed the connection unexpectedly"))
    assert db_retry.retrying(call, "test") == 42 and len(calls) == 3


def test_an_error_that_is_not_the_connections_is_not_tried_again() -> None:
    calls, call = _flaky(1, db.IntegrityError("duplicate key"))
    with pytest.raises(db.IntegrityError):
        db_retry.retrying(call, "test")
    assert len(calls) == 1


def test_it_gives_up_after_the_window(settings) -> None:
    settings.EVAL_DB_RETRY_SECONDS = 0
    calls, call = _flaky(10, db.OperationalError("the database system is starting up"))
    with pytest.raises(db.OperationalError):
        db_retry.retrying(call, "test")
    assert len(calls) == 1


def test_a_recording_cut_off_by_a_restart_is_finished_by_the_next_try() -> None:
    run = inspected_run()
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    # The first try moved the run to recording; its transaction died with the connection.
    EvaluationRun.objects.filter(id=run.id).update(state=RunState.RECORDING)
    assert services.run_record_results(run_id=run.id, scores=[SCORE], versions={}, artifacts=[])
    run.refresh_from_db()
    assert run.state == RunState.FINISHED and run.scores.count() == 1
    # A third try, after the commit went through, changes nothing.
    assert not services.run_record_results(run_id=run.id, scores=[SCORE], versions={}, artifacts=[])
    assert run.scores.count() == 1


def test_a_progress_stamp_that_fails_does_not_stop_the_run(monkeypatch) -> None:
    def broken(**kwargs: object) -> bool:
        raise db.OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(services, "run_heartbeat", broken)
    assert heartbeat.stamp(1, done=3, total=10) is True  # the evaluation goes on
