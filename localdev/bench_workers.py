"""How fast 1, 2 and 4 worker processes drain a queue: ``make bench-workers``
(``python -m localdev.bench_workers [--runs 50]``).

On a PostgreSQL and a Redis of its own (localdev.faults), each round queues ``--runs`` runs
(one tiny model each, the one-task smoke setting) with no worker up, then starts N worker
processes (concurrency 1 each) and times them from their start until every run is final. It
prints runs per minute and checks that no run was lost or run twice. The figures depend on the
machine's cores: lm-eval's start dominates a tiny model's run.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from localdev import faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop what it started, too
    counts = [int(n) for n in args.workers.split(",")]
    with faults.stack(repos=args.runs * len(counts)) as stack:
        stack.housekeeping()
        say(f"{os.cpu_count()} CPU cores; {args.runs} runs per round")
        for round_number, workers in enumerate(counts):
            repos = stack.repo_ids[round_number * args.runs : (round_number + 1) * args.runs]
            runs = stack.submit(repos)
            started = time.monotonic()
            pool = [stack.worker() for _ in range(workers)]
            faults.eventually(stack.all_final, 3 * 3600, poll=0.5)
            seconds = time.monotonic() - started
            outcome = stack.outcome(runs)
            say(
                f"{workers} worker(s): {args.runs} runs in {seconds:.0f} s, "
                f"{60 * args.runs / seconds:.1f} runs/minute; {outcome.line()}"
            )
            for worker in pool:
                stack.kill(worker)


def say(message: str) -> None:
    print(f"[bench-workers] {message}", flush=True)


if __name__ == "__main__":
    main()
