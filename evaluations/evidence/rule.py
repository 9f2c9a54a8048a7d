"""When is a claim contradicted by the measurement? The rule of design/DISCREPANCY.md (v2).

Pure: no Django, no database. The caller passes the comparable claims of one submission (each
already paired with the measurement in the same setting, see ``evidence.matching``); ``judge``
returns one judgement per claim with its verdict: contradicted (flagged), harness in doubt
(the test would flag but the run's health failed), supported (TOST: within the tolerance
with 95 % confidence), under-claim, or inconclusive. Values are raw fractions in [0, 1];
points appear only in the explanation.

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

from evaluations.catalogue import Benchmark
from evaluations.evidence.verdicts import Verdict

SUPPORT_ALPHA = 0.05  # each of TOST's two one-sided tests


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
    harness_doubt: str = ""  # the run health check's figures when it failed; "" when healthy


@dataclass(frozen=True)
class Judgement:
    key: object
    gap: float  # claimed − measured, exact for the decimals the values were given in
    claim_stderr_used: float
    measured_stderr_used: float  # lm-eval's, or the Agresti–Coull floor where that is 0
    combined_stderr: float
    z: float
    p_value: float  # one-sided, unadjusted
    p_holm: float
    q_value: float  # Benjamini–Hochberg, for the moderators' queue only
    p_support: float  # TOST: the larger of its two one-sided p-values
    tolerance: float
    flagged: bool  # a public flag: the test rejects the claim and the run is healthy
    verdict: Verdict  # CONTRADICTED | HARNESS_IN_DOUBT | SUPPORTED | UNDER_CLAIM | INCONCLUSIVE
    severity: str | None  # "minor" | "major" | "severe" when the test rejects the claim
    explanation: str


@dataclass(frozen=True)
class _Test:
    """The one-sided z-test of one claim, before the family's correction."""

    gap: float
    exact_gap: Decimal  # for the comparisons at 0, the tolerance and its multiples
    claim_stderr: float
    measured_stderr: float
    combined_stderr: float
    z: float
    p_value: float
    p_support: float


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
    exact_gap = _exact(comparison.claimed) - _exact(comparison.measured)
    gap = float(exact_gap)
    claim_stderr = _claim_stderr(comparison)
    measured_stderr = _measured_stderr(comparison)
    combined = math.hypot(measured_stderr, claim_stderr)
    z = gap / combined if combined > 0 else _signed_infinity(exact_gap)
    p_support = _tost_p(exact_gap, _exact(comparison.benchmark.tolerance), combined)
    return _Test(
        gap, exact_gap, claim_stderr, measured_stderr, combined, z, _normal_sf(z), p_support
    )


def _exact(value: float) -> Decimal:
    # A claim typed as "48.7" percent is stored as 0.48700000000000004, and 0.82 − 0.79 is
    # 0.030000000000000027 in floats. Read each value as the decimal it was given in (12
    # significant digits, far beyond any reported score), so that a gap of exactly zero, or
    # of exactly the tolerance or 2× or 4× of it, lands on the documented side.
    return Decimal(f"{value:.12g}")


def _claim_stderr(comparison: Comparison) -> float:
    """The author's stated error; else, for a mean of per-item scores in [0, 1], the
    binomial error (0/1 items) which is also the largest a mean of bounded scores can have
    (Bhatia–Davis); else 0."""
    if comparison.claimed_stderr is not None:
        return comparison.claimed_stderr
    if comparison.benchmark.bounded_mean and comparison.n_items:
        claimed = comparison.claimed
        return math.sqrt(claimed * (1.0 - claimed) / comparison.n_items)
    return 0.0


def _measured_stderr(comparison: Comparison) -> float:
    """lm-eval's error; where that is 0 or N/A over n items, the Agresti–Coull floor:
    0 of 20 right is not a measurement without error."""
    stderr = comparison.measured_stderr or 0.0
    n = comparison.n_items
    if stderr > 0 or not n or not comparison.benchmark.bounded_mean:
        return stderr
    adjusted = (comparison.measured * n + 2) / (n + 4)
    return math.sqrt(adjusted * (1.0 - adjusted) / (n + 4))


def _normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z, through the C library's ``erfc`` (as scipy's
    ``norm.sf`` computes it, without its array machinery, which cost a tenth of a millisecond
    per call: most of the time a model page spent judging its claims)."""
    return 0.5 * math.erfc(x / math.sqrt(2))


def _signed_infinity(gap: Decimal) -> float:
    # With no error on either side any positive gap is certain, and a zero gap is no evidence.
    if gap > 0:
        return math.inf
    return -math.inf if gap < 0 else 0.0


def _tost_p(gap: Decimal, tolerance: Decimal, combined: float) -> float:
    """TOST's p-value: the larger of the one-sided tests of "gap ≥ tolerance" and
    "gap ≤ −tolerance". Below SUPPORT_ALPHA the claim is within the tolerance of the
    measurement with 95 % confidence."""
    if combined == 0:  # no error on either side: the gap itself decides, exactly
        return 0.0 if -tolerance < gap < tolerance else 1.0
    upper = _normal_sf(-float(gap - tolerance) / combined)  # the normal CDF
    lower = _normal_sf(float(gap + tolerance) / combined)
    return max(upper, lower)


def _judgement(
    comparison: Comparison, test: _Test, p_holm: float, q_value: float, alpha: float
) -> Judgement:
    tolerance = comparison.benchmark.tolerance
    beyond_tolerance = test.exact_gap > _exact(tolerance)
    rejected = p_holm <= alpha and beyond_tolerance
    flagged = rejected and not comparison.harness_doubt
    verdict = _verdict(
        test, _exact(tolerance), rejected=rejected, healthy=not comparison.harness_doubt
    )
    severity = _severity(test.exact_gap, _exact(tolerance)) if rejected else None
    return Judgement(
        key=comparison.key,
        gap=test.gap,
        claim_stderr_used=test.claim_stderr,
        measured_stderr_used=test.measured_stderr,
        combined_stderr=test.combined_stderr,
        z=test.z,
        p_value=test.p_value,
        p_holm=p_holm,
        q_value=q_value,
        p_support=test.p_support,
        tolerance=tolerance,
        flagged=flagged,
        verdict=verdict,
        severity=severity,
        explanation=_explain(comparison, test, p_holm, verdict, severity),
    )


def _verdict(test: _Test, tolerance: Decimal, *, rejected: bool, healthy: bool) -> Verdict:
    if rejected:
        return Verdict.CONTRADICTED if healthy else Verdict.HARNESS_IN_DOUBT
    if test.p_support < SUPPORT_ALPHA:
        return Verdict.SUPPORTED
    if test.exact_gap < -tolerance:  # lower than measured by more than the margin
        return Verdict.UNDER_CLAIM
    return Verdict.INCONCLUSIVE


def _severity(gap: Decimal, tolerance: Decimal) -> str:
    # Exact: a gap of exactly 2× the tolerance is major, of exactly 4× severe.
    if gap < 2 * tolerance:
        return "minor"
    if gap < 4 * tolerance:
        return "major"
    return "severe"


# Explanation: one sentence with the numbers that the page shows next to it.


def _explain(
    comparison: Comparison, test: _Test, p_holm: float, verdict: Verdict, severity: str | None
) -> str:
    tolerance = comparison.benchmark.tolerance
    head = f"{_setting_head(comparison)}: "
    if test.gap < 0:
        gap = f"the measurement is {_points(-test.gap)} points higher"
    else:
        gap = f"{_points(test.gap)} points lower" if test.gap > 0 else "no gap"
    tolerance_words = tolerance_phrase(tolerance)
    if severity is not None:
        ratio = f"{_ratio(test.gap, tolerance)} times {tolerance_words}"
        if verdict == Verdict.HARNESS_IN_DOUBT:
            return (
                f"{head}{gap}, {_z_phrase(test)}, {ratio}, but the run's health check failed: "
                f"{comparison.harness_doubt}. Harness in doubt: a moderator decides."
            )
        return f"{head}{gap}, {_z_phrase(test)}, {ratio}. {severity.capitalize()}."
    if verdict == Verdict.SUPPORTED:
        return (
            f"{head}{gap}, within {tolerance_words} with 95 % confidence "
            f"(equivalence test p = {_p_number(test.p_support)}). Supported."
        )
    if verdict == Verdict.UNDER_CLAIM:
        return f"{head}{gap} than claimed. Under-claim, not flagged."
    return f"{head}{gap}, z = {_z_number(test.z)}: {_undecided(comparison, test, p_holm)}."


def _undecided(comparison: Comparison, test: _Test, p_holm: float) -> str:
    """Why neither contradicted nor supported: the items cannot resolve the gap, or the
    tolerance when the gap lies inside it."""
    tolerance = comparison.benchmark.tolerance
    unresolved = _points(max(abs(test.gap), tolerance))
    items = f"{comparison.n_items} items" if comparison.n_items else "the measurement's error"
    if test.exact_gap > _exact(tolerance):
        reason = f"not significant after Holm correction (adjusted p = {_p_number(p_holm)})"
    else:
        reason = f"at most {tolerance_phrase(tolerance)}, but not within it with 95 % confidence"
    return f"{reason}: {items} cannot tell a {unresolved}-point gap. Inconclusive"


def tolerance_phrase(tolerance: float) -> str:
    return f"the {_tolerance_points(tolerance)}-point tolerance"


def _setting_head(comparison: Comparison) -> str:
    if not comparison.measured_stderr:
        # Reported as 0 or N/A: say so, and which error the test used instead.
        stated = "no standard error" if comparison.measured_stderr is None else "an error of 0"
        measured = f"{_points(comparison.measured)} with {stated}"
        floor = _measured_stderr(comparison)
        if floor > 0:
            measured += f" (taken as a standard error of {_points(floor)}, Agresti–Coull)"
    else:
        # "±" on the pages is a 95 % interval: the test's own figure is named, not signed.
        stderr = _points(comparison.measured_stderr)
        measured = f"{_points(comparison.measured)}, standard error {stderr}"
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
