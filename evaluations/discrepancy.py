"""When is a claim contradicted by the measurement? The rule of design/DISCREPANCY.md.

Pure: no Django, no database. The caller passes the comparable claims of one submission (each
already paired with the measurement in the same setting); ``judge`` returns one judgement per
claim. Values are raw fractions in [0, 1]; points appear only in the explanation.

The family for Holm and Benjamini–Hochberg is every comparison of one call, under-claims
included: DISCREPANCY.md names "the comparable claims of that submission" as the family, and
an under-claim is a comparable claim that was tested, it simply can never be flagged.
Leaving under-claims out would make the correction depend on the outcome of the test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from scipy.stats import norm

from evaluations.catalogue import Benchmark

CONTRADICTED = "contradicted"
UNDER_CLAIM = "under-claim"
CONSISTENT = "not contradicted"

# Gaps are differences of floats: 0.82 − 0.79 is 0.030000000000000027, not 0.03. A gap
# exactly at zero or at the tolerance (or at 2× or 4× of it) must land on the documented
# side, so those points are compared with a slack far below any precision a score is
# reported with.
_BOUNDARY_SLACK = 1e-9


@dataclass(frozen=True)
class Comparison:
    """One comparable claim against the measurement in the same setting."""

    key: object  # the caller's id for the claim, returned unchanged
    benchmark: Benchmark
    shots: int
    metric: str
    claimed: float
    claimed_stderr: float | None  # as the author states it; None when not stated
    measured: float
    measured_stderr: float | None  # None when lm-eval reported N/A: taken as 0
    n_items: int | None  # items behind the measurement, for the binomial fallback


@dataclass(frozen=True)
class Judgement:
    key: object
    gap: float  # claimed − measured; float noise below 1e-9 reads as 0
    claim_stderr_used: float
    combined_stderr: float
    z: float
    p_value: float  # one-sided, unadjusted
    p_holm: float
    q_value: float  # Benjamini–Hochberg, for the moderators' queue only
    tolerance: float
    flagged: bool
    verdict: str  # CONTRADICTED | UNDER_CLAIM | CONSISTENT
    severity: str | None  # "minor" | "major" | "severe", only when flagged
    explanation: str


@dataclass(frozen=True)
class _Test:
    """The one-sided z-test of one claim, before the family's correction."""

    gap: float
    claim_stderr: float
    combined_stderr: float
    z: float
    p_value: float


def judge(comparisons: Sequence[Comparison], *, alpha: float = 0.01) -> list[Judgement]:
    """Judge the comparable claims of one submission, as one family, in input order."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    for comparison in comparisons:
        _check(comparison)
    tests = [_z_test(comparison) for comparison in comparisons]
    p_values = [test.p_value for test in tests]
    holm = holm_adjusted(p_values)
    bh = benjamini_hochberg(p_values)
    return [
        _judgement(comparison, test, p_holm, q_value, alpha)
        for comparison, test, p_holm, q_value in zip(comparisons, tests, holm, bh, strict=True)
    ]


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in input order.

    p_holm₍ᵢ₎ = max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎). Rejecting where p_holm ≤ α is the
    step-down test "p₍ᵢ₎·(m − i + 1) ≤ α until the first failure", exactly, floats included,
    because both read the same products; tied p-values get the same adjusted value.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running_max = 0.0
    for rank, index in enumerate(_ascending(p_values)):
        running_max = max(running_max, min(1.0, p_values[index] * (m - rank)))
        adjusted[index] = running_max
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg q-values, in input order: q₍ᵢ₎ = min over j ≥ i of min(1, p₍ⱼ₎·m/j).

    Multiplying p by the factor m/j (never below 1, never above m − j + 1) keeps
    p ≤ q ≤ p_holm true in floating point too, not only on paper.
    """
    m = len(p_values)
    adjusted = [0.0] * m
    running_min = 1.0
    order = _ascending(p_values)
    for rank in range(m - 1, -1, -1):
        index = order[rank]
        running_min = min(running_min, p_values[index] * (m / (rank + 1)))
        adjusted[index] = running_min
    return adjusted


def _ascending(p_values: Sequence[float]) -> list[int]:
    # A stable sort: ties keep input order, so the result never depends on how sort breaks them.
    return sorted(range(len(p_values)), key=lambda index: p_values[index])


def _check(comparison: Comparison) -> None:
    """Refuse values that would make the test meaningless rather than judge them silently."""
    name = f"{comparison.benchmark.display_name} (claim {comparison.key!r})"
    for label, value in (("claimed", comparison.claimed), ("measured", comparison.measured)):
        if not 0.0 <= value <= 1.0:  # also refuses NaN, for which every comparison is False
            raise ValueError(
                f"{name}: the {label} value must be a fraction in [0, 1], got {value!r}."
            )
    for label, stderr in (
        ("claimed", comparison.claimed_stderr),
        ("measured", comparison.measured_stderr),
    ):
        if stderr is not None and not 0.0 <= stderr < math.inf:
            raise ValueError(
                f"{name}: the {label} standard error must be a finite "
                f"non-negative fraction, got {stderr!r}."
            )
    if comparison.n_items is not None and comparison.n_items < 1:
        raise ValueError(
            f"{name}: the number of items must be positive, got {comparison.n_items!r}."
        )
    if not 0.0 < comparison.benchmark.tolerance < math.inf:
        # Severity is the gap measured in tolerances: a zero tolerance has no scale.
        raise ValueError(
            f"{name}: the catalogue tolerance must be positive, "
            f"got {comparison.benchmark.tolerance!r}."
        )


def _z_test(comparison: Comparison) -> _Test:
    gap = _gap(comparison.claimed, comparison.measured)
    claim_stderr = _claim_stderr(comparison)
    combined = math.hypot(comparison.measured_stderr or 0.0, claim_stderr)
    z = gap / combined if combined > 0 else _signed_infinity(gap)
    return _Test(gap, claim_stderr, combined, z, float(norm.sf(z)))


def _gap(claimed: float, measured: float) -> float:
    # A claim typed as "48.7" percent is stored as 0.48700000000000004, not 0.487: without
    # snapping that noise to zero, an exact claim equal to an exact measurement would read as
    # a certain over-claim (z = ∞, p = 0) and change the Holm correction of its whole family.
    gap = claimed - measured
    return 0.0 if abs(gap) <= _BOUNDARY_SLACK else gap


def _claim_stderr(comparison: Comparison) -> float:
    """The author's stated error; else the binomial one for a mean of 0/1 outcomes; else 0."""
    if comparison.claimed_stderr is not None:
        return comparison.claimed_stderr
    if comparison.benchmark.per_item_binary and comparison.n_items:
        claimed = comparison.claimed
        return math.sqrt(claimed * (1.0 - claimed) / comparison.n_items)
    return 0.0


def _signed_infinity(gap: float) -> float:
    # With no error on either side any positive gap is certain, and a zero gap is no evidence.
    if gap > 0:
        return math.inf
    return -math.inf if gap < 0 else 0.0


def _judgement(
    comparison: Comparison, test: _Test, p_holm: float, q_value: float, alpha: float
) -> Judgement:
    tolerance = comparison.benchmark.tolerance
    beyond_tolerance = test.gap > tolerance + _BOUNDARY_SLACK
    flagged = p_holm <= alpha and beyond_tolerance
    if flagged:
        verdict = CONTRADICTED
    else:
        verdict = UNDER_CLAIM if test.gap < 0 else CONSISTENT
    severity = _severity(test.gap, tolerance) if flagged else None
    return Judgement(
        key=comparison.key,
        gap=test.gap,
        claim_stderr_used=test.claim_stderr,
        combined_stderr=test.combined_stderr,
        z=test.z,
        p_value=test.p_value,
        p_holm=p_holm,
        q_value=q_value,
        tolerance=tolerance,
        flagged=flagged,
        verdict=verdict,
        severity=severity,
        explanation=_explain(comparison, test, p_holm, verdict, severity, beyond_tolerance),
    )


def _severity(gap: float, tolerance: float) -> str:
    if gap < 2 * tolerance - _BOUNDARY_SLACK:
        return "minor"
    if gap < 4 * tolerance - _BOUNDARY_SLACK:
        return "major"
    return "severe"


# Explanation: one sentence with the numbers that the page shows next to it.


def _explain(
    comparison: Comparison,
    test: _Test,
    p_holm: float,
    verdict: str,
    severity: str | None,
    beyond_tolerance: bool,
) -> str:
    tolerance = comparison.benchmark.tolerance
    head = f"{_setting_head(comparison)}: "
    if verdict == UNDER_CLAIM:
        return (
            f"{head}the measurement is {_points(-test.gap)} points higher than claimed. "
            "Under-claim, not flagged."
        )
    gap = f"{_points(test.gap)} points lower" if test.gap > 0 else "no gap"
    if severity is not None:
        return (
            f"{head}{gap}, {_z_phrase(test)}, {_ratio(test.gap, tolerance)} times the "
            f"{_tolerance_points(tolerance)}-point tolerance. {severity.capitalize()}."
        )
    if not beyond_tolerance:
        return (
            f"{head}{gap}, z = {_z_number(test.z)}, within the "
            f"{_tolerance_points(tolerance)}-point tolerance. Not contradicted."
        )
    return (
        f"{head}{gap}, z = {_z_number(test.z)}, not significant after Holm correction "
        f"(adjusted p = {_p_number(p_holm)}). Not contradicted."
    )


def _setting_head(comparison: Comparison) -> str:
    if comparison.measured_stderr is None:
        measured = f"{_points(comparison.measured)} with no standard error"
    else:
        measured = f"{_points(comparison.measured)} ± {_points(comparison.measured_stderr)}"
    setting = f"{comparison.benchmark.display_name}, {comparison.shots}-shot, {comparison.metric}"
    return f"Claimed {_points(comparison.claimed)}, measured {measured} ({setting})"


def _z_phrase(test: _Test) -> str:
    if test.combined_stderr == 0:
        return "z = ∞ (claim and measurement both have an error of zero)"
    return f"z = {_z_number(test.z)} (claim's and measurement's errors combined)"


def _z_number(z: float) -> str:
    if math.isinf(z):
        return "∞" if z > 0 else "−∞"
    # About two significant digits: one decimal below 10, whole numbers from there on
    # (deciding on the rounded value, so 9.96 reads "10", like 10.4, not "10.0").
    value = _denoised(z)
    tenths = _rounded(value, Decimal("0.1"))
    return _rounded(value, Decimal("1")) if abs(Decimal(tenths)) >= 10 else tenths


def _p_number(p_value: float) -> str:
    p = _denoised(p_value)
    if p == 0:
        return "0"
    return _rounded(p, Decimal(1).scaleb(p.adjusted() - 1))  # two significant digits


def _points(fraction: float) -> str:
    """A fraction as points with one decimal."""
    return _rounded(_denoised(fraction * 100), Decimal("0.1"))


def _ratio(gap: float, tolerance: float) -> str:
    # Rounded down, so that the shown multiple never crosses into the next severity band
    # (1.98 times reads "1.9", a minor one, not "2.0").
    ratio = _denoised(gap / tolerance).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    return f"{ratio:f}"


def _tolerance_points(tolerance: float) -> str:
    return f"{_denoised(tolerance * 100).normalize():f}"  # "3", "2.5"


def _rounded(value: Decimal, step: Decimal) -> str:
    # Half up, as a reader rounds by hand.
    return f"{value.quantize(step, rounding=ROUND_HALF_UP):f}"


def _denoised(value: float) -> Decimal:
    # Drop float noise before rounding for display (0.899 − 0.791 is 0.10799999999999998;
    # 0.477 − 0.059 over 0.004 is 104.50000000000001), so that the shown digit is the one
    # the decimal inputs imply, whichever unit the claim was typed in.
    return Decimal(f"{value:.12g}")
