"""The number an entry states, and the unit it is read in: percent, fraction or normalised."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from evaluations.cards.tables import NOT_CONVERTIBLE_V2
from evaluations.catalogue import BENCHMARKS

_NUMBER = r"[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+)"
_VALUE = re.compile(
    rf"^(?P<number>{_NUMBER})\s*(?P<percent>%)?\s*"
    rf"(?:(?:\+/-|±|\+-)\s*(?P<stderr>{_NUMBER})\s*%?)?\s*(?:\([^()]*\))?$"
)


# --- values and units ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Number:
    value: float
    stderr: float | None
    percent_sign: bool


def parse_value(raw: Any) -> _Number | str:
    """The number an entry states, or why it is not one."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "value is empty"
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return f"value '{raw}' is not a number"
    if isinstance(raw, (int, float)):
        number = float(raw) if abs(raw) < 1e300 else math.inf  # a huge int would overflow
        return (
            _Number(number, None, False)
            if math.isfinite(number)
            else (f"value '{raw}' is not a number")
        )
    match = _VALUE.match(raw.strip())
    if not match:
        return f"value '{raw.strip()}' is not a number"
    stderr = match.group("stderr")
    return _Number(
        _decimal(match.group("number")),
        _decimal(stderr) if stderr else None,
        bool(match.group("percent")),
    )


def _decimal(text: str) -> float:
    return float(text.replace(",", "."))  # one comma, no dot: a decimal comma ("0,912")


@dataclass(frozen=True)
class Converted:
    value: float | None
    stderr: float | None
    unit: str | None
    reason: str
    problem: str | None = None


def convert(kind: str, key: str | None, number: _Number) -> Converted:
    if kind == "open-llm-leaderboard-v1":
        return _percent(number, "Open LLM Leaderboard v1 block: raw accuracy in percent")
    if kind == "open-llm-leaderboard-v2":
        return _normalised(key, number)
    if number.percent_sign:
        return _percent(number, "the value is written with a percent sign")
    where = "hub results file" if kind.startswith("eval-results") else "self-reported value"
    if abs(number.value) > 1:
        return _percent(number, f"{where} above 1: read as a percent")
    return _fraction(number, f"{where} of at most 1: read as a fraction")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 12) + 0.0  # + 0.0 turns -0.0 into 0.0


def _in_range(value: float, top: float, unit: str) -> str | None:
    if value < 0:
        return f"value {value:g} is negative"
    return f"value {value:g} is above {top:g} for a {unit}" if value > top else None


def _percent(number: _Number, reason: str) -> Converted:
    problem = _in_range(number.value, 100, "percent")
    stderr = None if number.stderr is None else _rounded(number.stderr / 100)
    value = None if problem else _rounded(number.value / 100)
    return Converted(value, stderr, "percent", reason, problem)


def _fraction(number: _Number, reason: str) -> Converted:
    problem = _in_range(number.value, 1, "fraction")
    value = None if problem else _rounded(number.value)
    return Converted(value, _rounded(number.stderr), "fraction", reason, problem)


def _normalised(key: str | None, number: _Number) -> Converted:
    reason = "Open LLM Leaderboard v2 block: 0-100 normalised above the random baseline"
    if key in NOT_CONVERTIBLE_V2:
        return Converted(None, None, "normalised", reason, NOT_CONVERTIBLE_V2[key])
    if key is None:
        return Converted(None, None, "normalised", reason, "no random baseline to convert with")
    problem = _in_range(number.value, 100, "normalised score")
    if problem:
        return Converted(None, None, "normalised", reason, problem)
    baseline = BENCHMARKS[key].random_baseline
    value = baseline + number.value / 100 * (1 - baseline)
    stderr = None if number.stderr is None else number.stderr / 100 * (1 - baseline)
    reason += f" (baseline {baseline:g}), converted back to raw"
    return Converted(_rounded(value), _rounded(stderr), "normalised", reason)
