"""How the runner ends a run when a stage raises: always with a reason a person can act on."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from evaluations import dispatch
from evaluations.errors import EvaluationError
from evaluations.models import RunState
from tests.factories import queued_run
from workers import hub, runner

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


def _failing_hub(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def inspect_repo(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(hub, "inspect_repo", inspect_repo)


@pytest.mark.parametrize("error, code", [
    (SoftTimeLimitExceeded(), "eval:user:time-limit"),
    (EvaluationError("eval:user:gated", "x is gated"), "eval:user:gated"),
    (RuntimeError("a bug"), "eval:infra:unexpected"),
])
def test_it_fails_the_run_with_a_stable_code(monkeypatch: pytest.MonkeyPatch, error, code) -> None:
    _failing_hub(monkeypatch, error)
    run = queued_run()
    assert runner.evaluate_run(run.id, worker_name="w", task_id="t") == code
    run.refresh_from_db()
    assert run.state == RunState.FAILED and run.error_code == code and run.error_message


def test_a_second_delivery_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_hub(monkeypatch, EvaluationError("eval:user:gated", "x"))
    run = queued_run()
    runner.evaluate_run(run.id, worker_name="w", task_id="t")
    _failing_hub(monkeypatch, AssertionError("must not be called again"))
    assert runner.evaluate_run(run.id, worker_name="w", task_id="t2") == "not-claimed"
