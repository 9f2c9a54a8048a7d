"""The model page's history charts: the figures ``history.json`` sends to the browser."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from evaluations.models import EvaluationRun
from tests.factories import finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def figures(client: Client) -> dict[str, dict[str, Any]]:
    charts = client.get("/models/demo-org/tiny/history.json").json()["charts"]
    return {chart["benchmark"]: chart["figure"] for chart in charts}


def day(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_single_point_gets_a_week_of_date_ticks_and_the_whole_scale(client: Client) -> None:
    run = finished_run("demo-org/tiny", value=0.5)
    assert run.finished_at is not None
    layout = figures(client)["smoke_arc"]["layout"]
    low, high = (day(end) for end in layout["xaxis"]["range"])
    assert high - low == timedelta(days=7) and low < run.finished_at < high
    assert layout["xaxis"]["type"] == "date" and layout["xaxis"]["dtick"] == 86_400_000
    assert layout["yaxis"]["range"] == [0, 100]  # not a band of ±1 around the point
    assert figures(client)["smoke_gsm8k"]["layout"]["yaxis"]["range"] == [0, 100]  # at 0


def test_points_that_differ_keep_plotlys_own_axes(client: Client) -> None:
    first = finished_run("demo-org/tiny", value=0.5)
    EvaluationRun.objects.filter(id=first.id).update(
        finished_at=timezone.now() - timedelta(days=30)
    )
    finished_run("demo-org/tiny", sha="3" * 40, value=0.6)
    layout = figures(client)["smoke_arc"]["layout"]
    assert "range" not in layout.get("xaxis", {}) and "range" not in layout.get("yaxis", {})
    assert layout["yaxis"]["title"]["text"] == "score (points)"
