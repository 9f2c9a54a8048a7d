"""`manage.py bench_site`: the site under load, as `make bench` runs it.

Starts gunicorn with production settings (DEBUG off) on the current database, drives it from
this process with N concurrent clients on 127.0.0.1 for a bounded time per page, and prints
p50/p95/p99 latency and throughput for the rankings page, a model page, the rankings API and
a model's API. Run it on PostgreSQL seeded with ``seed_demo``; `make bench` does both, at
100 and at 10,000 models, and prints the ratio of the p95s. ``--think-ms`` gives the clients a
pause between requests (an open, browsing load); without it they send back to back.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.models import ModelRepo

PORT = 8765


class Command(BaseCommand):
    help = "Load-test the site under gunicorn and print latency percentiles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=10.0, help="per page")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
        parser.add_argument("--think-ms", type=float, default=0.0,
                            help="each client pauses 0.5–1.5 × this between its requests, as "
                                 "locust users do; 0 (the default) is a closed loop, no pause")

    def handle(self, *args: Any, **options: Any) -> None:
        repo = ModelRepo.objects.order_by("id").first()
        if repo is None:
            raise CommandError("the database is empty: run `manage.py seed_demo` first")
        if options["clients"] < 1 or not 0 < options["seconds"] <= 120:
            raise CommandError("--clients ≥ 1 and 0 < --seconds ≤ 120")
        if not 0 <= options["think_ms"] <= 60_000:
            raise CommandError("0 ≤ --think-ms ≤ 60000")
        think = options["think_ms"] / 1000
        pages = {
            "rankings page": "/?suite=classic",
            "model page": f"/models/{repo.hub_id}/",
            "rankings API": "/api/v1/rankings?suite=classic",
            "model API": f"/api/v1/models/{repo.hub_id}/claims",
        }
        server = _start_gunicorn(options["workers"])
        try:
            self.stdout.write(f"{ModelRepo.objects.count()} models, {options['clients']} "
                              f"clients, {options['seconds']:g} s per page, think time "
                              f"{options['think_ms']:g} ms")
            self.stdout.write(f"{'page':16} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
                              f"{'req/s':>8} {'errors':>7}")
            for name, path in pages.items():
                latencies, errors, elapsed = _drive(path, options["clients"], options["seconds"],
                                                    think)
                self.stdout.write(_row(name, latencies, errors, elapsed))
        finally:
            _stop(server)


def _start_gunicorn(workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "leaderboard.wsgi", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=Path(settings.BASE_DIR), env=env, start_new_session=True,
    )
    for _ in range(100):
        try:
            _get("/static/leaderboard/site.css")
            return process
        except OSError:
            time.sleep(0.2)
    _stop(process)
    raise CommandError("gunicorn did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers: a worker busy past the timeout must not outlive it."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _get(path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _drive(path: str, clients: int, seconds: float,
           think: float = 0.0) -> tuple[list[float], int, float]:
    """Bounded in time and count: each client loops until the deadline, then stops. Only
    the requests are timed, never the pauses between them."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def client() -> None:
        pause = random.Random()  # noqa: S311 - pauses, not secrets
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                ok = _get(path) == 200
            except OSError:
                ok = False
            with lock:
                if ok:
                    latencies.append(time.perf_counter() - began)
                else:
                    errors[0] += 1
            if think:
                time.sleep(pause.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0], time.perf_counter() - start


def _row(name: str, latencies: list[float], errors: int, elapsed: float) -> str:
    if len(latencies) < 2:
        return f"{name:16} {'–':>8} {'–':>8} {'–':>8} {0:8.1f} {errors:7d}"
    cuts = statistics.quantiles(latencies, n=100)
    p50, p95, p99 = (1000 * cuts[i] for i in (49, 94, 98))
    return (f"{name:16} {p50:8.1f} {p95:8.1f} {p99:8.1f} {len(latencies) / elapsed:8.1f} "
            f"{errors:7d}")
