"""Run health before any flag (DISCREPANCY.md): each check with a true and a false case."""

from __future__ import annotations

import dataclasses

import pytest

from evaluations.catalogue import BENCHMARKS
from evaluations.evidence.health import health_doubts

GSM8K = BENCHMARKS["gsm8k"]
HEALTHY = {"generations": 200, "truncated": 0.01, "unparsed": 0.02, "strict_flexible_gap": 0.03}


def test_a_healthy_run_raises_no_doubt() -> None:
    assert health_doubts(GSM8K, HEALTHY) == []


def test_a_run_recorded_before_the_check_raises_no_doubt() -> None:
    assert health_doubts(GSM8K, {}) == []


@pytest.mark.parametrize(
    ("figures", "doubt"),
    [
        ({"truncated": 0.31}, "31 % of 200 generations stopped at the token limit (limit 5 %)"),
        (
            {"unparsed": 0.125},
            "the answer filter found no answer in 12.5 % of 200 generations (limit 5 %)",
        ),
        (
            {"strict_flexible_gap": -0.24},
            "the strict and flexible answer filters differ by 24 points (limit 10)",
        ),
    ],
)
def test_each_check_above_its_limit_says_so_with_its_figures(figures: dict, doubt: str) -> None:
    assert health_doubts(GSM8K, {**HEALTHY, **figures}) == [doubt]


@pytest.mark.parametrize(
    "figures", [{"truncated": 0.05}, {"unparsed": 0.05}, {"strict_flexible_gap": 0.10}]
)
def test_a_figure_exactly_at_its_limit_passes(figures: dict) -> None:
    assert health_doubts(GSM8K, {**HEALTHY, **figures}) == []


def test_the_limits_are_the_benchmarks_in_the_catalogue() -> None:
    lenient = dataclasses.replace(GSM8K, max_truncated=0.5)

    assert health_doubts(lenient, {**HEALTHY, "truncated": 0.31}) == []
    assert health_doubts(GSM8K, {**HEALTHY, "truncated": 0.31}) != []


def test_a_loglikelihood_task_has_no_generations_to_check() -> None:
    assert health_doubts(BENCHMARKS["mmlu"], {"generations": 0, "strict_flexible_gap": None}) == []
