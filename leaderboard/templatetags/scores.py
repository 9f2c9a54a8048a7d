"""Display helpers: values are stored as fractions and formatted only here."""

from __future__ import annotations

from django import template
from django.urls import reverse

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.7912 → "79.1" (points)."""
    if value is None:
        return "–"
    return f"{100 * float(value):.{int(digits)}f}"


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
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key)


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
