"""The long kill loop: ``make chaos`` (``python -m localdev.chaos [--kills N]``).

On a PostgreSQL and a Redis of its own (localdev.faults), it submits one tiny model per kill,
then N times starts an evaluation worker and kills its whole process group with SIGKILL while
a run is fetching, evaluating or recording (in turn). One last worker then drains the queue;
the reaper ends each killed run as ``worker-lost`` and queues its next attempt. It prints how
many submissions were lost, duplicated and recovered, and the time to recover. Then it
restarts Redis with runs queued and running, and prints the time from the restart to the
next finished run.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from localdev import faults

STAGES = ["fetching", "running", "recording"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=12)
    kills = parser.parse_args().kills
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop what it started, too
    with faults.stack(repos=kills + 3) as stack:
        stack.housekeeping()
        runs = stack.submit(stack.repo_ids[:kills])
        for number in range(kills):
            stage = STAGES[number % len(STAGES)]
            worker = stack.worker()
            run_id, state = faults.eventually(lambda s=stage: _in_stage(stack, s), 600, 0.005)
            stack.kill(worker)
            seen = state if state == stage else f"{state}, its evaluation done"
            say(f"kill {number + 1}: SIGKILL to a worker's process group, run #{run_id} {seen}")
        last_kill = time.monotonic()
        stack.worker()
        faults.eventually(stack.all_final, 3600, poll=0.5)
        outcome = stack.outcome(runs)
        recovered = outcome.finished_once
        say(outcome.line())
        say(
            f"lost {outcome.lost}, duplicated {outcome.duplicated}, retried {outcome.retried}, "
            f"recovered {recovered} of {kills}; every run final "
            f"{time.monotonic() - last_kill:.0f} s after the last kill"
        )
        redis_restart(stack)


def redis_restart(stack: faults.Stack) -> None:
    runs = stack.submit(stack.repo_ids[-3:])
    faults.eventually(lambda: stack.states()[runs[0]] == "running" or None, 600)
    stack.redis.restart()
    restarted = time.monotonic()
    say("Redis restarted with one run evaluating and two queued")
    finished = len(_finished(stack, runs))
    faults.eventually(lambda: len(_finished(stack, runs)) > finished or None, 600, poll=0.1)
    say(f"next run finished {time.monotonic() - restarted:.1f} s after the Redis restart")
    faults.eventually(stack.all_final, 600, poll=0.5)
    say(f"after the Redis restart: {stack.outcome(runs).line()}")


def _in_stage(stack: faults.Stack, stage: str) -> tuple[int, str] | None:
    """A run in ``stage``; "recording" also takes a run whose evaluation is done."""
    rows = stack.rows(
        "SELECT id, state FROM evaluations_evaluationrun WHERE state = %s OR (%s = 'recording' "
        "AND state = 'running' AND progress_total > 0 AND progress_done = progress_total) "
        "LIMIT 1",
        stage,
        stage,
    )
    return (rows[0][0], rows[0][1]) if rows else None


def _finished(stack: faults.Stack, runs: list[int]) -> list[int]:
    rows = stack.rows(
        "SELECT id FROM evaluations_evaluationrun WHERE state = 'finished' AND id = ANY(%s)", runs
    )
    return [run_id for (run_id,) in rows]


def say(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


if __name__ == "__main__":
    main()
