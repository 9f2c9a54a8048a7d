"""Run health before any flag (DISCREPANCY.md): can this measurement contradict a claim?

A score's health figures are measured by the worker on the run's per-sample outputs
(``workers.results.parse_health``) and kept with the score: how many generations there were,
the share that stopped at ``max_gen_toks`` (truncated), the share whose filter found no answer
(unparsed) and, for tasks scored by a strict and a flexible filter, the gap between the two.
The limits are the benchmark's, in the catalogue. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evaluations.catalogue import Benchmark


def health_doubts(benchmark: Benchmark, health: Mapping[str, Any]) -> list[str]:
    """What is wrong with the run for this benchmark, each with its figures; [] when healthy
    or when no figures were measured (runs recorded before the check)."""
    doubts = []
    truncated, unparsed = health.get("truncated"), health.get("unparsed")
    generations = health.get("generations") or 0
    if generations and truncated is not None and truncated > benchmark.max_truncated:
        doubts.append(
            f"{_percent(truncated)} % of {generations} generations stopped at the token limit "
            f"(limit {_percent(benchmark.max_truncated)} %)"
        )
    if generations and unparsed is not None and unparsed > benchmark.max_unparsed:
        doubts.append(
            f"the answer filter found no answer in {_percent(unparsed)} % of {generations} "
            f"generations (limit {_percent(benchmark.max_unparsed)} %)"
        )
    gap = health.get("strict_flexible_gap")
    if gap is not None and abs(gap) > benchmark.max_strict_flexible_gap:
        doubts.append(
            f"the strict and flexible answer filters differ by {_percent(abs(gap))} points "
            f"(limit {_percent(benchmark.max_strict_flexible_gap)})"
        )
    return doubts


def health_summary(health: Mapping[str, Any]) -> str:
    """The figures in words, for the run page: what was checked and what it found."""
    if not health:
        return "not measured (recorded before the check)"
    parts = []
    generations = health.get("generations") or 0
    if generations:
        parts.append(
            f"{generations} generations: {_percent(health.get('truncated') or 0)} % truncated, "
            f"{_percent(health.get('unparsed') or 0)} % unparsed"
        )
    gap = health.get("strict_flexible_gap")
    if gap is not None:
        parts.append(f"strict vs flexible filter {_percent(abs(gap))} points apart")
    return "; ".join(parts) or "no generations to check"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.1f}".removesuffix(".0")
