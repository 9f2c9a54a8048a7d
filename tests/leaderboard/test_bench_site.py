"""`manage.py bench_site`'s figures: percentiles, the saved JSON and the ratio to an earlier run
(the load itself runs under `make bench`, never in the suite)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from leaderboard.management.commands import bench_site
from tests.factories import model_run

pytestmark = pytest.mark.django_db


def test_it_reports_percentiles_in_milliseconds_and_the_rate() -> None:
    latencies = [i / 1000 for i in range(1, 101)]  # 1 ms to 100 ms
    row = bench_site._figures(latencies, errors=2, elapsed=4.0)
    assert row["p50_ms"] == pytest.approx(50.5, abs=0.1)
    assert row["p95_ms"] == pytest.approx(95.95, abs=0.1)
    assert row["per_second"] == 25.0
    assert row["errors"] == 2


def test_it_reports_the_share_of_answers_a_page_cache_served() -> None:
    row = bench_site._figures([0.002] * 80, errors=0, elapsed=2.0, hits=60)
    assert row["cached_percent"] == 75
    assert bench_site._row("any rankings", row).endswith("75 %")
    assert "cached" in bench_site._header(None)


def test_a_row_without_answers_shows_dashes_not_an_error() -> None:
    row = bench_site._figures([], errors=7, elapsed=1.0)
    assert row["p95_ms"] is None
    assert "–" in bench_site._row("model API", row)


def test_it_prints_the_p95_as_a_ratio_to_an_earlier_run() -> None:
    earlier = {"models": 100, "pages": {"model API": {"p95_ms": 20.0}}}
    row = bench_site._figures([0.01] * 50 + [0.03] * 50, errors=0, elapsed=1.0)
    line = bench_site._row("model API", row, earlier)
    assert line.split()[-1] == f"{row['p95_ms'] / 20.0:.2f}"
    assert "p95 at 100" in bench_site._header(earlier)


def test_it_refuses_an_empty_database_and_an_unreadable_comparison(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("bench_site")
    broken = tmp_path / "figures.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="cannot read"):
        bench_site._load(broken)
    broken.write_text(json.dumps({"models": 1, "pages": {}}))
    assert bench_site._load(broken)["models"] == 1


def test_it_times_uncached_pages_in_process_and_prints_their_medians() -> None:
    cpu = [i / 1000 for i in range(1, 101)]  # 1 ms to 100 ms
    row = bench_site._server_figures(cpu, [2 * value for value in cpu], [7] * 99 + [9])
    assert row["cpu_p50_ms"] == pytest.approx(50.5, abs=0.1)
    assert row["wall_p50_ms"] == pytest.approx(101.0, abs=0.2)
    assert row["queries"] == 9  # the most any page took
    assert bench_site._server_row("any model page", row).split()[3] == "50.5"


def test_it_serves_the_uncached_pages_through_the_handler() -> None:
    model_run("alpha", 0.6)
    cpu, wall, queries = bench_site._time_in_process(lambda draw: "/models/demo-org/alpha/", 3)
    assert len(cpu) == len(wall) == len(queries) == 3
    assert min(queries) > 1  # rendered each time, not one read of the page cache


def test_the_rows_a_cache_cannot_hide_ask_for_pages_no_worker_has_kept() -> None:
    """At 100 models "any rankings" has 22 addresses: without a parameter of each request's
    own, the workers soon served most of them from the page cache."""
    for name in ("alpha", "beta", "gamma"):
        model_run(name, 0.6)
    client = Client(HTTP_HOST="127.0.0.1")
    draw = random.Random(3)
    for row in bench_site.UNCACHED:
        paths = bench_site._pages()[row]
        addresses = [paths(draw) for _ in range(200)]
        assert len(set(addresses)) == 200
        first, second = client.get(addresses[0]), client.get(addresses[1])
        assert first.status_code == second.status_code == 200
        assert first["X-Cache"] == second["X-Cache"] == "miss"
        assert client.get(addresses[0])["X-Cache"] == "hit"  # the same address is kept
    assert bench_site._pages()["rankings page"](draw) == bench_site._pages()["rankings page"](draw)
