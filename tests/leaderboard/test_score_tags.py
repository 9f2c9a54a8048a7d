"""The display helpers the rankings table renders hundreds of times per page."""

from __future__ import annotations

import random

import pytest
from django.template.defaultfilters import floatformat

from evaluations.models import Score
from leaderboard.templatetags.scores import fixed, score_cell


@pytest.mark.parametrize(
    "value", [0.12345, 0.00005, 0.99995, 0.5, 1.0, 0.0, 1e-9, 12.34565, -0.00001, 0.7912]
)
@pytest.mark.parametrize("digits", [1, 4])
def test_it_rounds_as_floatformat_does(value: float, digits: int) -> None:
    assert fixed(value, digits) == floatformat(value, digits)


def test_a_score_cell_shows_points_and_raw_values() -> None:
    cell = score_cell(Score(benchmark="arc<x>", value=0.79125, stderr=0.01))
    assert 'data-benchmark="arc&lt;x&gt;"' in cell and 'data-value="0.79125"' in cell
    assert 'title="raw 0.7913, standard error 0.0100; 95 % interval 77.2–81.1"' in cell
    assert cell.endswith(">79.1 <small>± 2.0</small></span>")  # ± is the 95 % interval
    assert "standard error" not in score_cell(Score(benchmark="arc", value=0.5, stderr=None))
    assert score_cell(None) == '<span class="muted">–</span>'


def test_it_rounds_as_floatformat_does_on_many_scores() -> None:
    draw = random.Random(3)
    values = [draw.random() for _ in range(3000)] + [draw.gauss(0, 0.02) for _ in range(1000)]
    values += [round(draw.random(), places) for places in (2, 3, 4, 5) for _ in range(500)]
    for value in values:
        for digits in (1, 2, 4):
            assert fixed(value, digits) == floatformat(value, digits), (value, digits)
