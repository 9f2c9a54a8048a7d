"""`manage.py bench_site`: the site under load, as `make bench` runs it.

Starts gunicorn with production settings (DEBUG off) on the current database, drives it from
this process with N concurrent clients on 127.0.0.1 for a bounded time per page, and prints
p50/p95/p99 latency and throughput. Run it on PostgreSQL seeded with ``seed_demo``, with
``REDIS_URL`` set as deployed (without it each gunicorn worker keeps its own standings and
sort orders, and works out each of them once more per worker); `make bench` does all that, at
100 and at 10,000 models, and prints the ratio of the p95s.

Six rows: the four pages of the goals as a crowd of visitors opening the same address (the
front page, the first model, the rankings and a model's API: served from the page cache after
the first request), and two that a cache cannot hide: a model page of any model, and any page
of the rankings in any sort order, drawn at random for each request. Each request of those two
also carries a ``bench`` parameter of its own, which the pages ignore: the page cache keys on
the whole URL, so every answer is rendered, at 100 models as at 10,000. Without it, at 100
models, "any rankings" draws from 22 addresses (two pages of eleven sort orders) and "any model
page" from 100, which the workers soon keep (85 % and 47 % of the answers came from the cache),
and at 10,000 from 2,200 and 10,000, which they seldom do (4 % and 1 %): the ratio of the p95s
then set the cache at 100 against rendering at 10,000.

``--think-ms`` gives the clients a pause between requests (an open, browsing load, as locust
users have); without it they send back to back (a closed loop that measures saturation: with
50 clients, latency is then 50 ÷ throughput by Little's law). ``--save`` writes the figures
as JSON; ``--compare`` prints each row's p95 as a ratio to a saved run's. Each row starts
after a few untimed requests (every worker connected and warm), and with a think time the
clients arrive spread over one pause rather than in the same millisecond. The "cached"
column is the share of answers a worker served from its page cache (``X-Cache: hit``): all of
them on the first four rows, none on the last two.

Then the server time of the two rows a cache cannot hide, in this process: the same Django
handler that gunicorn calls, with the page cache emptied before each request, timed as CPU
(``time.process_time``: what a page costs the server, whatever else the machine runs) and as
wall time (its database round trips included). ``--server-samples`` sets how many pages of
each kind; ``--server-only`` skips the load.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations.models import ModelRepo, RankingEntry
from evaluations.selectors.ranking_query import DEFAULT_PER_PAGE, sort_keys
from evaluations.selectors.read_models import ANY_PRECISION

PORT = 8765
SUITE = "classic"  # seed_demo's suite


Paths = Callable[[random.Random], str]  # draws the address of one request


class Command(BaseCommand):
    help = "Load-test the site under gunicorn and print latency percentiles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=10.0, help="per page")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
        parser.add_argument(
            "--think-ms",
            type=float,
            default=0.0,
            help="each client pauses 0.5–1.5 × this between its requests, as "
            "locust users do; 0 (the default) is a closed loop, no pause",
        )
        parser.add_argument("--save", type=Path, help="write the figures to this JSON file")
        parser.add_argument(
            "--compare", type=Path, help="a JSON file from --save: print each p95 as a ratio to it"
        )
        parser.add_argument(
            "--server-samples",
            type=int,
            default=100,
            help="uncached pages of each kind timed in process (0: none)",
        )
        parser.add_argument(
            "--server-only", action="store_true", help="only the in-process server time"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not ModelRepo.objects.exists():
            raise CommandError("the database is empty: run `manage.py seed_demo` first")
        if options["clients"] < 1 or not 0 < options["seconds"] <= 120:
            raise CommandError("--clients ≥ 1 and 0 < --seconds ≤ 120")
        if not 0 <= options["think_ms"] <= 60_000:
            raise CommandError("0 ≤ --think-ms ≤ 60000")
        if not 0 <= options["server_samples"] <= 10_000:
            raise CommandError("0 ≤ --server-samples ≤ 10000")
        earlier = _load(options["compare"]) if options["compare"] else None
        _collect_static()
        figures: dict[str, Any] = {"models": ModelRepo.objects.count(), "pages": {}}
        if not options["server_only"]:
            self._load_test(options, figures, earlier)
        if options["server_samples"]:
            figures["server"] = self._server_time(options["server_samples"])
        if options["save"]:
            options["save"].write_text(json.dumps(figures, indent=2))

    def _load_test(
        self, options: dict[str, Any], figures: dict[str, Any], earlier: dict[str, Any] | None
    ) -> None:
        think = options["think_ms"] / 1000
        server = _start_gunicorn(options["workers"])
        try:
            self.stdout.write(
                f"{figures['models']} models, {options['clients']} clients, "
                f"{options['seconds']:g} s per page, think time "
                f"{options['think_ms']:g} ms"
            )
            self.stdout.write(_header(earlier))
            for name, paths in _pages().items():
                _warm_up(paths, options["workers"])
                latencies, errors, elapsed, hits = _drive(
                    paths, options["clients"], options["seconds"], think
                )
                row = _figures(latencies, errors, elapsed, hits)
                figures["pages"][name] = row
                self.stdout.write(_row(name, row, earlier))
        finally:
            _stop(server)

    def _server_time(self, samples: int) -> dict[str, Any]:
        self.stdout.write(
            f"server time per uncached page, in process, {samples} pages each "
            f"(DEBUG {'on' if settings.DEBUG else 'off'}):"
        )
        self.stdout.write(_server_header())
        pages = _pages()
        rows = {}
        for name in UNCACHED:
            rows[name] = _server_figures(*_time_in_process(pages[name], samples))
            self.stdout.write(_server_row(name, rows[name]))
        return rows


def _pages() -> dict[str, Paths]:
    """The address each request of a row asks for."""
    repos = list(ModelRepo.objects.order_by("id").values_list("hub_id", flat=True))
    first = repos[0]
    pages = max(
        1,
        math.ceil(
            RankingEntry.objects.filter(
                suite=SUITE, precision_scope=ANY_PRECISION, hidden=False
            ).count()
            / DEFAULT_PER_PAGE
        ),
    )
    sorts = sort_keys(SUITE)
    return {
        "rankings page": lambda draw: f"/?suite={SUITE}",
        "model page": lambda draw: f"/models/{first}/",
        "rankings API": lambda draw: f"/api/v1/rankings?suite={SUITE}",
        "model API": lambda draw: f"/api/v1/models/{first}/claims",
        "any model page": lambda draw: _unkept(f"/models/{draw.choice(repos)}/", draw),
        "any rankings": lambda draw: _unkept(
            f"/?suite={SUITE}&sort={draw.choice(sorts)}&page={draw.randint(1, pages)}", draw
        ),
    }


def _unkept(path: str, draw: random.Random) -> str:
    """``path`` with a parameter that no other request carries and the page ignores: an
    address no page cache has kept."""
    joint = "&" if "?" in path else "?"
    return f"{path}{joint}bench={draw.getrandbits(64):016x}"


def _collect_static() -> None:
    """With DEBUG off the pages name their static files by the manifest's hashed names: a
    fresh clone has none until ``collectstatic`` (slow: it compresses every file) has run."""
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)


UNCACHED = ("any model page", "any rankings")  # the rows whose pages a cache cannot hide


def _time_in_process(paths: Paths, samples: int) -> tuple[list[float], list[float], list[int]]:
    """CPU and wall seconds, and queries, of each of ``samples`` requests through Django's
    handler, the page cache emptied before each. What every rankings page shares and keeps
    per generation stays, as in a running site: the standings and sort orders, the recent runs'
    markup, and each query's controls (the same on all its pages: a sort order's first page
    renders them). A few untimed requests first, as in ``_warm_up``."""
    client = Client(HTTP_HOST="127.0.0.1")
    draw = random.Random(1)  # noqa: S311 - addresses, not secrets
    cpu, wall, queries = [], [], []
    for index in range(samples + 5):
        path = paths(draw)
        caches["pages"].clear()
        with CaptureQueriesContext(connection) as captured:
            began, began_cpu = time.perf_counter(), time.process_time()
            status = client.get(path).status_code
            spent, spent_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        if status != 200:
            raise CommandError(f"{path} answered {status}")
        if index >= 5:
            cpu.append(spent_cpu)
            wall.append(spent)
            queries.append(len(captured.captured_queries))
    return cpu, wall, queries


def _server_figures(cpu: list[float], wall: list[float], queries: list[int]) -> dict[str, float]:
    def cut(values: list[float], percentile: int) -> float:
        if len(values) < 2:
            return round(1000 * values[0], 1)
        return round(1000 * statistics.quantiles(values, n=100)[percentile - 1], 1)

    return {
        "cpu_p50_ms": cut(cpu, 50),
        "cpu_p95_ms": cut(cpu, 95),
        "wall_p50_ms": cut(wall, 50),
        "wall_p95_ms": cut(wall, 95),
        "queries": max(queries),
    }


def _server_header() -> str:
    return (
        f"{'page':16} {'CPU p50':>8} {'CPU p95':>8} {'wall p50':>9} {'wall p95':>9} {'queries':>8}"
    )


def _server_row(name: str, row: dict[str, float]) -> str:
    return (
        f"{name:16} {row['cpu_p50_ms']:8.1f} {row['cpu_p95_ms']:8.1f} {row['wall_p50_ms']:9.1f} "
        f"{row['wall_p95_ms']:9.1f} {row['queries']:8d}"
    )


def _start_gunicorn(workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "leaderboard.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        start_new_session=True,
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


def _get(path: str) -> tuple[int, bool]:
    """The answer's status, and whether the page came from the worker's page cache."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("X-Cache") == "hit"
    finally:
        connection.close()


def _warm_up(paths: Paths, workers: int) -> None:
    """A few untimed requests first, so that each gunicorn worker has opened its database
    connection, compiled its templates and (for one address) cached the page: what a server
    that has been up for a minute has done, not what the load measures."""
    draw = random.Random("warm-up")  # noqa: S311 - not a client's seed (Random(-1) is Random(1))
    threads = [
        threading.Thread(target=_get_quietly, args=(paths(draw),)) for _ in range(4 * workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _get_quietly(path: str) -> None:
    try:
        _get(path)
    except OSError:
        pass  # the timed requests count errors; a warm-up one need not


def _drive(
    paths: Paths, clients: int, seconds: float, think: float = 0.0
) -> tuple[list[float], int, float, int]:
    """Bounded in time and count: each client loops until the deadline, then stops. Only
    the requests are timed, never the pauses between them. Also how many answers came from
    a page cache."""
    latencies: list[float] = []
    errors, hits = [0], [0]
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def client(seed: int) -> None:
        draw = random.Random(seed)  # noqa: S311 - addresses and pauses, not secrets
        if think:  # visitors arrive spread over a pause, not all in the same millisecond
            time.sleep(draw.uniform(0, think))
        while time.perf_counter() < deadline:
            path = paths(draw)
            began = time.perf_counter()
            try:
                status, hit = _get(path)
            except OSError:
                status, hit = 0, False
            with lock:
                if status == 200:
                    latencies.append(time.perf_counter() - began)
                    hits[0] += hit
                else:
                    errors[0] += 1
            if think:
                time.sleep(draw.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0], time.perf_counter() - start, hits[0]


def _figures(
    latencies: list[float], errors: int, elapsed: float, hits: int = 0
) -> dict[str, float | None]:
    """p50/p95/p99 in milliseconds (None with fewer than two answers), requests per second,
    and the share of answers served from a page cache, in %."""
    if len(latencies) < 2:
        p50 = p95 = p99 = None
    else:
        cuts = statistics.quantiles(latencies, n=100)
        p50, p95, p99 = (round(1000 * cuts[i], 1) for i in (49, 94, 98))
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "per_second": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "cached_percent": round(100 * hits / len(latencies)) if latencies else None,
    }


def _load(path: Path) -> dict[str, Any]:
    try:
        figures: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read the earlier figures in {path}: {error}") from None
    return figures


def _header(earlier: dict[str, Any] | None) -> str:
    header = (
        f"{'page':16} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7} "
        f"{'cached':>7}"
    )
    return header + (f" {'p95 ÷ p95 at ' + str(earlier['models']):>18}" if earlier else "")


def _row(name: str, row: dict[str, Any], earlier: dict[str, Any] | None = None) -> str:
    cells = [
        f"{row[key]:8.1f}" if row[key] is not None else f"{'–':>8}"
        for key in ("p50_ms", "p95_ms", "p99_ms")
    ]
    cached = f"{row['cached_percent']} %" if row.get("cached_percent") is not None else "–"
    line = f"{name:16} {' '.join(cells)} {row['per_second']:8.1f} {row['errors']:7d} {cached:>7}"
    if earlier is None:
        return line
    before = earlier["pages"].get(name, {}).get("p95_ms")
    ratio = f"{row['p95_ms'] / before:.2f}" if before and row["p95_ms"] is not None else "–"
    return f"{line} {ratio:>18}"
