"""Each score's 95 % interval, drawn as a bar to scale (0–100) under its number on the
rankings and on the model page."""

from __future__ import annotations

import pytest
from django.test import Client

from leaderboard.templatetags.intervals import interval_bar
from tests.factories import model_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def test_the_bar_spans_the_95_percent_interval_and_marks_the_value() -> None:
    bar = interval_bar(0.625, 0.05)  # 62.5 ± 1.96 × 5.0 points
    assert 'style="left:52.7%;width:19.6%"' in bar and 'style="left:62.5%"' in bar
    assert 'title="95 % interval 52.7–72.3 of 0–100"' in bar
    assert 'style="left:0.0%;width:11.8%"' in interval_bar(0.02, 0.05)  # cut at 0
    assert "left:50.0%;width:50.0%" in interval_bar(0.99, 0.25)  # cut at 100
    assert interval_bar(0.5, None) == ""  # no standard error, no interval


def test_the_rankings_and_the_model_page_draw_the_bars(client: Client) -> None:
    model_run("alpha", 0.625)
    rankings = client.get("/?suite=smoke").content.decode().split("Recent runs")[0]
    assert 'style="left:52.7%;width:19.6%"' in rankings  # Smoke ARC's cell
    assert rankings.count('class="interval"') == 2  # ARC and the average; GSM8K has no stderr
    model_page = client.get("/models/demo-org/alpha/").content.decode()
    assert 'style="left:52.7%;width:19.6%"' in model_page
