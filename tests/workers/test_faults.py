"""Fault tests with real processes: a PostgreSQL and a redis-server of the test's own (killed
and restarted without touching the shared ones), real Celery workers and lm-eval on a tiny
model. The short loop runs here; ``make chaos`` runs the long one and prints its counts."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator

import pytest

from localdev import faults

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not shutil.which("redis-server") or not faults._pg_bin("initdb").startswith("/"),
        reason="needs redis-server and PostgreSQL's initdb",
    ),
]
WAIT = 600


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[faults.Stack]:
    with faults.stack(repos=8) as built:
        yield built


@pytest.fixture
def stack(shared_stack: faults.Stack) -> Iterator[faults.Stack]:
    """The module's stack, with the repos no earlier test submitted; its processes end after
    each test."""
    yield shared_stack
    shared_stack.stop_processes()
    if shared_stack.redis.process is None:
        shared_stack.redis.start()


def _fresh(stack: faults.Stack, count: int) -> list[str]:
    submitted = {repo for (repo,) in stack.rows("SELECT hub_id FROM evaluations_modelrepo")}
    return [repo for repo in stack.repo_ids if repo not in submitted][:count]


def _in_stage(stack: faults.Stack, run_id: int, stage: str) -> bool | None:
    """True once ``run_id`` is in ``stage``: fetching, running, or recording (its evaluation
    done: every request answered, or the state itself, whichever is seen first)."""
    [(state, done, total)] = stack.rows(
        "SELECT state, progress_done, progress_total FROM evaluations_evaluationrun WHERE id = %s",
        run_id,
    )
    assert state not in ("finished", "failed"), f"run {run_id} ended ({state}) before the kill"
    if stage == "recording":
        return state == "recording" or (state == "running" and 0 < total == done) or None
    return state == stage or None


def test_a_worker_killed_in_every_stage_loses_no_run_and_runs_none_twice(
    stack: faults.Stack,
) -> None:
    stack.housekeeping()
    runs = stack.submit(_fresh(stack, 3))
    for run_id, stage in zip(runs, ["fetching", "running", "recording"], strict=True):
        worker = stack.worker()
        faults.eventually(lambda r=run_id, s=stage: _in_stage(stack, r, s), WAIT, poll=0.005)
        stack.kill(worker)
    stack.worker()
    stack.worker()  # two drain the attempts the reaper queues: none lost, none run twice
    faults.eventually(stack.all_final, WAIT, poll=0.5)

    outcome = stack.outcome(runs)
    assert (outcome.submissions, outcome.finished_once) == (3, 3), outcome.line()
    assert outcome.lost == outcome.duplicated == 0
    assert outcome.retried >= 2  # a kill while recording may land after the commit


def test_runs_queued_and_running_all_finish_across_a_redis_restart(stack: faults.Stack) -> None:
    stack.housekeeping()
    stack.worker()
    web = stack.web()
    repos = _fresh(stack, 3)
    first = stack.submit(repos[:2])  # one runs, one waits in the queue
    faults.eventually(lambda: stack.states()[first[0]] == "running" or None, WAIT)

    stack.redis.stop()
    # With the broker down the pages answer, and a submission is committed and answered.
    assert faults.http_status(web + "/") == 200
    assert faults.http_status(web + "/accounts/login/") == 200
    [late] = stack.submit(repos[2:])
    assert stack.rows("SELECT enqueued_at FROM evaluations_evaluationrun WHERE id=%s", late) == [
        (None,)
    ]  # its message did not go out: the requeue sends it once the broker is back
    time.sleep(3)
    stack.redis.start()

    faults.eventually(stack.all_final, WAIT, poll=0.5)
    outcome = stack.outcome([*first, late])
    assert (outcome.submissions, outcome.finished_once) == (3, 3), outcome.line()
    assert outcome.duplicated == 0


def test_runs_and_pages_outlast_a_postgresql_restart(stack: faults.Stack) -> None:
    stack.housekeeping()
    stack.worker()
    web = stack.web()
    runs = stack.submit(_fresh(stack, 2))
    assert faults.http_status(web + "/") == 200  # its connection is open when the server goes
    faults.eventually(lambda: _in_stage(stack, runs[0], "recording"), WAIT, poll=0.005)

    stack.postgres.restart()
    statuses = [faults.http_status(f"{web}/runs/{runs[0]}/") for _ in range(3)]
    assert statuses[-1] == 200, statuses  # the site answers again without a restart

    faults.eventually(stack.all_final, WAIT, poll=0.5)
    outcome = stack.outcome(runs)
    assert (outcome.submissions, outcome.finished_once, outcome.retried) == (2, 2, 0), (
        outcome.line()
    )
