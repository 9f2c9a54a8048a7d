"""Display helpers: values are stored as fractions and formatted only here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from html import escape
from typing import Any
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe

from leaderboard.templatetags.intervals import (
    interval_bar_points,
    interval_bar_text,
)

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
    return row_reverse("model-detail", owner, name)


MARKERS = ("98765432101", "98765432102")  # stand-ins that fit both int and str converters


def row_reverse(name: str, *args: str | int) -> str:
    """``reverse(name, args=args)`` at a tenth of its cost, for the rows of long tables (a
    rankings page names two addresses per row): the pattern is reversed once per process with
    stand-ins for the arguments, which are then replaced by the arguments, quoted as
    ``reverse`` quotes them. An argument a path segment cannot hold (empty, or with a slash)
    goes through ``reverse`` itself, which refuses it as it always did."""
    texts = [str(arg) for arg in args]
    if len(texts) > len(MARKERS) or any(not text or "/" in text for text in texts):
        return reverse(name, args=args)
    parts = _reversed_parts(name, len(texts), get_script_prefix())
    quoted = [text if _PLAIN.fullmatch(text) else quote(text, safe=_PATH_SAFE) for text in texts]
    return parts[0] + "".join(text + part for text, part in zip(quoted, parts[1:], strict=True))


_PATH_SAFE = "!$&'()*+,;=/~:@"  # what ``reverse`` leaves unquoted in a path
_PLAIN = re.compile(r"[A-Za-z0-9._~-]*")  # nothing to quote: most ids and names


@cache
def _reversed_parts(name: str, count: int, prefix: str) -> list[str]:
    """The address around its arguments: ``["/runs/", "/"]`` for ``run-detail``. Keyed on the
    script prefix, which ``reverse`` puts in front (the site sets no per-request URL conf)."""
    address = reverse(name, args=MARKERS[:count])
    parts = [address]
    for marker in MARKERS[:count]:
        parts[-1:] = parts[-1].split(marker, 1)
    return parts


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
    when there is none. A tag rather than a partial: the rankings show hundreds per page."""
    return mark_safe(score_cell_html(score))  # noqa: S308 - see score_cell_html


def measured_rows(scores: Iterable[Any]) -> SafeString:
    """The rows of a run's scores table, one a score: the benchmark, the score with its
    interval bar, the metric, shots and items. One string, not a loop of nodes: a model page
    shows a row per score of every run (``run_blocks.run_block``)."""
    rows = "\n        ".join(_measured_row(score) for score in scores)  # the template's indent
    return mark_safe(rows)  # noqa: S308 - see _measured_row


def _measured_row(score: Any) -> str:
    """Every text escaped, numbers made here."""
    return (
        f"<tr><td>{escape(score.display_name)}</td><td>{score_cell_html(score, bar=True)}</td>"
        f"<td><code>{escape(score.metric)},{escape(score.filter)}</code></td>"
        f"<td>{score.shots}</td><td>{score.n_samples or '–'}</td></tr>"
    )


def score_cell_html(score: Any, *, bar: bool = False) -> str:
    """``score_cell`` as a plain string, for the rankings' rows to join, with ``bar`` its
    interval bar after it (the interval worked out once for both). Built as one string:
    every part is digits made here but the benchmark key, escaped. A rankings page shows
    hundreds: each number is printed once (``repr`` is the dearest part) and reused."""
    if not score:
        return NO_SCORE
    value, stderr = float(score.value), score.stderr
    printed = repr(value)
    shown = f"{100 * value:.1f}"  # as ``percent``
    key = _escaped(score.benchmark)
    if stderr is None:
        return (
            f'<span class="score" data-benchmark="{key}" data-value="{printed}" '
            f'data-stderr="None" title="raw {_fixed(value, printed, 4)}">{shown}</span>'
        )
    stderr = float(stderr)
    stderr_printed = repr(stderr)
    margin = Z_95 * stderr
    low, high = (value - margin) * 100, (value + margin) * 100
    shown_low, shown_high = f"{low:.1f}", f"{high:.1f}"
    cell = (
        f'<span class="score" data-benchmark="{key}" data-value="{printed}" '
        f'data-stderr="{stderr_printed}" title="raw {_fixed(value, printed, 4)}, '
        f"standard error {_fixed(stderr, stderr_printed, 4)}; 95 % interval "
        f'{shown_low}–{shown_high}">{shown} <small>± {100 * margin:.1f}</small></span>'
    )
    if not bar:
        return cell
    if low < 0 or high > 100:  # the bar is cut at the ends of the scale
        return cell + interval_bar_points(low, high, value * 100)
    return cell + interval_bar_text(shown_low, shown_high, max(high - low, 0.5), shown)


@lru_cache(maxsize=256)
def _escaped(key: str) -> str:
    return escape(key)  # benchmark keys: a few dozen, in every row


_QUANTA = {digits: Decimal(1).scaleb(-digits) for digits in range(10)}


@register.filter
def fixed(value: float, digits: int) -> str:
    """``value|floatformat:digits`` (half up, on the decimal the float prints as) at a tenth
    of its cost: the filter goes through the locale machinery for every number."""
    value = float(value)
    return _fixed(value, repr(value), digits)


def _fixed(value: float, printed: str, digits: int) -> str:
    """``fixed`` of a float that ``printed`` is the ``repr`` of. Python's own formatting
    rounds the float's exact binary value, not that decimal; the two agree unless the
    decimal ends exactly on a half at the cut (0.125 to two digits), where the exact value
    may fall either side of it. Only that case goes through ``Decimal``."""
    fraction = printed.partition(".")[2]
    if "e" in printed or (len(fraction) == digits + 1 and fraction[-1] == "5"):
        quantum = _QUANTA.get(digits) or Decimal(1).scaleb(-digits)
        rounded = Decimal(printed).quantize(quantum, ROUND_HALF_UP)
        return f"{rounded if rounded else abs(rounded):f}"
    shown = f"{value:.{digits}f}"
    if shown[0] == "-" and not shown.strip("-0."):
        return shown[1:]  # no "-0.0": as ``floatformat``
    return shown
