"""A score's 95 % interval as a small bar under its number: the range the measurement
allows, drawn to scale on 0–100, with the value marked. Plain CSS (two positioned spans):
the rankings draw one per cell, up to a thousand a page, which a chart library would not
afford. The numbers are made here; nothing from the database reaches the markup as text."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from evaluations.selectors.standings import Z_95

register = template.Library()


def interval_bar(value: float, stderr: float | None, *, top: float = 1.0) -> SafeString:
    """The bar for ``value`` ± 1.96 ``stderr`` on 0–``top`` (1 for fractions, 100 for the
    normalised average); "" without a standard error."""
    return mark_safe(interval_bar_html(value, stderr, top=top))  # noqa: S308 - numbers only


def interval_bar_html(value: float, stderr: float | None, *, top: float = 1.0) -> str:
    """``interval_bar`` as a plain string, for the rankings' rows to join."""
    if stderr is None or top <= 0:
        return ""
    margin = Z_95 * stderr
    return interval_bar_points(
        (value - margin) / top * 100, (value + margin) / top * 100, value / top * 100
    )


def interval_bar_points(low: float, high: float, point: float) -> str:
    """The bar for an interval already on 0–100 (cut at both ends here): for a cell that
    has worked out the interval for its own text."""
    low, high, point = max(0.0, low), min(100.0, high), min(100.0, max(0.0, point))
    return interval_bar_text(f"{low:.1f}", f"{high:.1f}", max(high - low, 0.5), f"{point:.1f}")


def interval_bar_text(low: str, high: str, width: float, point: str) -> str:
    """The bar's markup from its ends and value as the cell prints them (0–100, one decimal,
    already cut to the scale): a score cell that has printed them reuses its text."""
    title = f"95 % interval {low}–{high} of 0–100"
    return (
        f'<span class="interval" title="{title}" aria-label="{title}">'
        f'<span class="interval-range" style="left:{low}%;width:{width:.1f}%">'
        f'</span><span class="interval-point" style="left:{point}%"></span></span>'
    )


@register.simple_tag(name="interval_bar")
def interval_bar_tag(score: Any) -> SafeString:
    """``{% interval_bar score %}`` for a measured score (raw fraction and stderr)."""
    if not score:
        return mark_safe("")  # noqa: S308 - a constant
    stderr = None if score.stderr is None else float(score.stderr)
    return interval_bar(float(score.value), stderr)
