"""Tick models on the rankings to compare them; Compare draws each benchmark's difference
with its 95 % interval."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from evaluations.selectors import comparison
from tests.factories import model_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def test_each_ranked_row_has_a_tick_for_the_compare_form(client: Client) -> None:
    model_run("alpha", 0.7)
    model_run("bravo", 0.5)
    page = client.get("/?suite=smoke").content.decode().split("Recent runs")[0]
    assert '<form method="get" action="/compare/" id="compare-form"' in page
    assert '<input type="hidden" name="suite" value="smoke">' in page
    ticks = re.findall(
        r'<input type="checkbox" form="compare-form" name="model" value="([^"]+)"', page
    )
    assert ticks == ["demo-org/alpha", "demo-org/bravo"]


def test_compare_draws_the_differences_with_their_intervals(client: Client) -> None:
    model_run("alpha", 0.7)
    model_run("bravo", 0.5)
    url = "/compare/?suite=smoke&model=demo-org/alpha&model=demo-org/bravo"
    page = client.get(url).content.decode()
    found = re.search(r'<script id="scatter-figure" type="application/json">(.*?)</script>', page)
    assert found, "the differences chart rides along with the table"
    (trace,) = json.loads(found.group(1))["data"]
    assert trace["name"] == "demo-org/alpha − demo-org/bravo"
    table = comparison.compare(["demo-org/alpha", "demo-org/bravo"], "smoke")
    arc = next(row for row in table.rows if row.benchmark.key == "smoke_arc").differences[0]
    assert trace["y"][0] == "Smoke ARC" and trace["x"][0] == pytest.approx(20.0)
    assert trace["error_x"]["array"][0] == pytest.approx(round(100 * arc.margin, 2))
    assert "Differences with their 95 % intervals" in page


def test_compare_with_one_model_has_no_chart(client: Client) -> None:
    model_run("alpha", 0.7)
    response = client.get("/compare/?suite=smoke&model=demo-org/alpha")
    assert 'id="scatter-figure"' not in response.content.decode()
