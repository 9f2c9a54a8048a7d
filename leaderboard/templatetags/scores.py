"""Display helpers: values are stored as fractions and formatted only here."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile, as the rankings' ties use it
NO_SCORE = mark_safe('<span class="muted">–</span>')  # noqa: S308 - a constant


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.7912 → "79.1" (points)."""
    if value is None:
        return "–"
    return f"{100 * float(value):.{int(digits)}f}"


@register.filter
def interval95(stderr: float | None) -> float | None:
    """The half-width of a score's 95 % interval (normal approximation): what "±" means on
    every page, in the score columns as in Compare."""
    return None if stderr is None else Z_95 * float(stderr)


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


@register.filter
def short_sha(sha: str | None) -> str:
    return (sha or "")[:10]


@register.filter
def model_url(hub_id: str) -> str:
    owner, _, name = hub_id.partition("/")
    return reverse("model-detail", kwargs={"owner": owner, "name": name})


@register.filter
def pvalue(p: float | None) -> str:
    """Two significant digits; tiny values as a bound rather than a row of zeros."""
    if p is None:
        return "–"
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.2g}"


@register.filter
def zscore(z: float | None) -> str:
    if z is None:
        return "–"
    if z in (float("inf"), float("-inf")):
        return "∞" if z > 0 else "−∞"
    return f"{z:.1f}"


@register.simple_tag
def score_cell(score: Any) -> SafeString:
    """A measured score in points ± its 95 % interval, raw values in the tooltip; "–"
    when there is none. A tag rather than a partial: the rankings show hundreds per page.
    Built as one string: every part is digits made here but the benchmark key, escaped."""
    if not score:
        return NO_SCORE
    value, stderr = float(score.value), score.stderr
    title = f"raw {fixed(value, 4)}"
    small = ""
    if stderr is not None:
        stderr = float(stderr)
        margin = Z_95 * stderr
        title += (
            f", standard error {fixed(stderr, 4)}; "
            f"95 % interval {percent(value - margin)}–{percent(value + margin)}"
        )
        small = f" <small>± {percent(margin)}</small>"
    return mark_safe(  # noqa: S308 - numbers formatted here, the key escaped
        f'<span class="score" data-benchmark="{escape(score.benchmark)}" '
        f'data-value="{value!r}" data-stderr="{stderr!r}" title="{title}">'
        f"{percent(value)}{small}</span>"
    )


@register.filter
def fixed(value: float, digits: int) -> str:
    """``value|floatformat:digits`` (half up, on the decimal the float prints as) at a tenth
    of its cost: the filter goes through the locale machinery for every number."""
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{rounded if rounded else abs(rounded):f}"
