"""The model page's history charts: the figures ``history.json`` sends to the browser."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from evaluations.catalogue import BENCHMARKS, SUITES
from evaluations.models import EvaluationRun
from tests.factories import finished_run, suite_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def history(client: Client, columns: str = "2") -> dict[str, Any]:
    response = client.get(f"/models/demo-org/tiny/history.json?columns={columns}")
    assert response.status_code == 200
    chart: dict[str, Any] = response.json()
    return chart


def layout_of(client: Client) -> dict[str, Any]:
    layout: dict[str, Any] = history(client)["figure"]["layout"]
    return layout


def day(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_single_point_gets_a_week_of_date_ticks_and_the_whole_scale(client: Client) -> None:
    run = finished_run("demo-org/tiny", value=0.5)
    assert run.finished_at is not None
    layout = layout_of(client)
    low, high = (day(end) for end in layout["xaxis"]["range"])
    assert high - low == timedelta(days=7) and low < run.finished_at < high
    assert layout["xaxis"]["type"] == "date" and layout["xaxis"]["dtick"] == 86_400_000
    # Smoke ARC at 50 and Smoke GSM8K at 0 share one range around both, not a ±1 band.
    assert layout["yaxis"]["range"] == [0, 57.5]


def test_points_that_differ_keep_plotlys_own_time_axis_and_share_a_range_of_values(
    client: Client,
) -> None:
    first = finished_run("demo-org/tiny", value=0.5)
    EvaluationRun.objects.filter(id=first.id).update(
        finished_at=timezone.now() - timedelta(days=30)
    )
    finished_run("demo-org/tiny", sha="3" * 40, value=0.6)
    layout = layout_of(client)
    assert "range" not in layout.get("xaxis", {})
    # 0 (Smoke GSM8K) to 60 (Smoke ARC), with room for the error bars, on every panel.
    assert layout["yaxis"]["range"] == layout["yaxis2"]["range"] == [0, 69]
    assert layout["yaxis"]["title"]["text"] == "points"


def test_one_point_at_one_value_gets_the_whole_scale(client: Client) -> None:
    finished_run("demo-org/tiny", value=0.0)  # both benchmarks measured 0
    assert layout_of(client)["yaxis"]["range"] == [0, 100]


def test_every_benchmark_is_a_panel_of_one_figure_on_shared_axes(client: Client) -> None:
    """Eight benchmarks are one figure of small multiples, not eight stacked charts: every
    panel's axes match the first, so the panels compare at a glance."""
    suite_run("demo-org/tiny")
    chart = history(client, columns="4")
    keys = [panel["benchmark"] for panel in chart["benchmarks"]]
    assert keys == list(SUITES["classic"])
    layout = chart["figure"]["layout"]
    panel_axes = [panel["yaxis"] for panel in chart["benchmarks"]]
    assert panel_axes[0] == "y" and len(set(panel_axes)) == 8
    for axis in ("x", "y"):
        matched = [layout[f"{axis}axis{n}"].get("matches") for n in ("", *range(2, 9))]
        assert matched.count(None) == 1  # one axis leads, seven match it
        assert {m for m in matched if m} == {axis + str(matched.index(None) + 1)}
    titles = [a["text"] for a in layout["annotations"]]
    assert titles[:8] == [BENCHMARKS[key].display_name for key in SUITES["classic"]]
    assert layout["height"] < 800  # two rows of four, where stacked charts took 8 × 320 px
    names = [trace["name"] for trace in chart["figure"]["data"] if trace.get("showlegend", True)]
    shots = {BENCHMARKS[key].shots for key in SUITES["classic"]}
    assert sorted(names) == sorted(f"measured, {n}-shot" for n in shots)  # each once, not per panel
    bars = chart["figure"]["data"][0]["error_y"]["array"]
    assert bars == [pytest.approx(100 * 1.96 * 0.02, abs=1e-3)]  # a 95 % interval, as the tables' ±


def test_the_number_of_columns_is_checked(client: Client) -> None:
    finished_run("demo-org/tiny")
    response = client.get("/models/demo-org/tiny/history.json?columns=99")
    assert response.status_code == 400 and "columns must be one of" in response.json()["detail"]
