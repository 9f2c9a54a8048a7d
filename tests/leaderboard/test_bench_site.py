"""`manage.py bench_site`'s figures: percentiles, the saved JSON and the ratio to an earlier run
(the load itself runs under `make bench`, never in the suite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leaderboard.management.commands import bench_site

pytestmark = pytest.mark.django_db


def test_it_reports_percentiles_in_milliseconds_and_the_rate() -> None:
    latencies = [i / 1000 for i in range(1, 101)]  # 1 ms to 100 ms
    row = bench_site._figures(latencies, errors=2, elapsed=4.0)
    assert row["p50_ms"] == pytest.approx(50.5, abs=0.1)
    assert row["p95_ms"] == pytest.approx(95.95, abs=0.1)
    assert row["per_second"] == 25.0
    assert row["errors"] == 2


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
