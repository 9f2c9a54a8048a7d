"""The discrepancy rule of design/DISCREPANCY.md: when a claim is contradicted, and why."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluations.catalogue import BENCHMARKS, Benchmark
from evaluations.evidence.rule import (
    SUPPORT_ALPHA,
    Comparison,
    Judgement,
    benjamini_hochberg,
    holm_adjusted,
    judge,
)
from evaluations.evidence.verdicts import Verdict  # noqa: E402

CONTRADICTED, SUPPORTED, INCONCLUSIVE = (
    Verdict.CONTRADICTED,
    Verdict.SUPPORTED,
    Verdict.INCONCLUSIVE,
)
UNDER_CLAIM, HARNESS_IN_DOUBT = Verdict.UNDER_CLAIM, Verdict.HARNESS_IN_DOUBT
MMLU = BENCHMARKS["mmlu"]
TRUTHFULQA = BENCHMARKS["truthfulqa_mc2"]
ALPHA = 0.01


def a_claim(**overrides: object) -> Comparison:
    """An MMLU 5-shot claim; by default exact on both sides, so any gap is significant."""
    fields: dict[str, object] = {
        "key": "mmlu",
        "benchmark": MMLU,
        "shots": 5,
        "metric": "acc",
        "claimed": 0.80,
        "claimed_stderr": 0.0,
        "measured": 0.70,
        "measured_stderr": 0.0,
        "n_items": None,
    }
    fields.update(overrides)
    return Comparison(**fields)  # type: ignore[arg-type]


def judge_one(comparison: Comparison) -> Judgement:
    [judgement] = judge([comparison])
    return judgement


# The worked example and the wording.


def test_it_flags_the_design_documents_example_as_major() -> None:
    judgement = judge_one(
        a_claim(
            claimed=0.899, claimed_stderr=None, measured=0.791, measured_stderr=0.003, n_items=14042
        )
    )

    assert judgement.flagged
    assert judgement.verdict == CONTRADICTED
    assert judgement.severity == "major"
    assert math.isclose(judgement.gap, 0.108)
    assert math.isclose(judgement.claim_stderr_used, math.sqrt(0.899 * 0.101 / 14042))
    for part in (
        "Claimed 89.9",
        "measured 79.1, standard error 0.3",
        "(MMLU, 5-shot, acc)",
        "10.8 points lower",
        "(claim's and measurement's errors combined)",
        "3.6 times the 3-point tolerance",
        "Major.",
    ):
        assert part in judgement.explanation
    assert judgement.explanation.endswith("Major.")


def test_it_supports_a_small_gap_within_the_tolerance_with_95_percent_confidence() -> None:
    judgement = judge_one(a_claim(claimed=0.802, measured=0.791, measured_stderr=0.011))

    assert judgement.verdict == SUPPORTED
    assert judgement.severity is None
    assert judgement.p_support < SUPPORT_ALPHA
    assert judgement.explanation == (
        "Claimed 80.2, measured 79.1, standard error 1.1 (MMLU, 5-shot, acc): 1.1 points lower, "
        "within the 3-point tolerance with 95 % confidence (equivalence test p = 0.042). Supported."
    )


def test_a_small_gap_measured_on_too_few_items_is_inconclusive() -> None:
    judgement = judge_one(a_claim(claimed=0.802, measured=0.791, measured_stderr=0.05))

    assert judgement.verdict == INCONCLUSIVE
    assert judgement.explanation.endswith(
        "at most the 3-point tolerance, but not within it with 95 % confidence: the "
        "measurement's error cannot tell a 3.0-point gap. Inconclusive."
    )


def test_the_issues_example_is_inconclusive_not_good_news() -> None:
    # 41 claimed against 20 ± 6.4 measured on 40 items (DISCREPANCY.md, "Verdicts").
    judgement = judge_one(
        a_claim(claimed=0.41, claimed_stderr=None, measured=0.20, measured_stderr=0.064, n_items=40)
    )

    assert judgement.verdict == INCONCLUSIVE
    assert not judgement.flagged
    assert "40 items cannot tell a 21.0-point gap. Inconclusive." in judgement.explanation


def test_it_says_a_large_but_noisy_gap_is_not_significant_after_holm() -> None:
    judgement = judge_one(a_claim(claimed=0.75, measured=0.60, measured_stderr=0.10))

    assert not judgement.flagged
    assert judgement.explanation.endswith(
        "15.0 points lower, z = 1.5: not significant after Holm correction "
        "(adjusted p = 0.067): the measurement's error cannot tell a 15.0-point gap. "
        "Inconclusive."
    )


def test_it_shows_an_under_claim_without_flagging_it() -> None:
    judgement = judge_one(a_claim(claimed=0.70, measured=0.791, measured_stderr=0.003))

    assert judgement.verdict == UNDER_CLAIM
    assert not judgement.flagged
    assert judgement.explanation == (
        "Claimed 70.0, measured 79.1, standard error 0.3 (MMLU, 5-shot, acc): the measurement is "
        "9.1 points higher than claimed. Under-claim, not flagged."
    )


def test_it_explains_a_gap_with_no_error_on_either_side() -> None:
    judgement = judge_one(a_claim(claimed=0.85, measured=0.79, measured_stderr=None))

    assert judgement.z == math.inf
    assert judgement.p_value == 0.0
    assert judgement.flagged
    assert judgement.explanation == (
        "Claimed 85.0, measured 79.0 with no standard error (MMLU, 5-shot, acc): 6.0 points "
        "lower, z = ∞ (claim and measurement both have an error of zero), 2.0 times the "
        "3-point tolerance. Major."
    )


def test_it_rounds_points_half_up_as_a_reader_would() -> None:
    judgement = judge_one(a_claim(claimed=0.8005, measured=0.70, measured_stderr=0.0105))

    assert judgement.explanation.startswith("Claimed 80.1, measured 70.0, standard error 1.1 ")
    assert "10.1 points lower, z = 9.6 " in judgement.explanation


def test_it_reads_zero_for_an_exact_claim_equal_to_an_exact_measurement() -> None:
    judgement = judge_one(a_claim(claimed=0.79, measured=0.79))

    assert judgement.z == 0.0
    assert judgement.p_value == 0.5
    assert judgement.verdict == SUPPORTED  # no error on either side, no gap


# Tolerance and severity boundaries.


@pytest.mark.parametrize(("claimed", "measured"), [(0.82, 0.79), (0.33, 0.30), (0.73, 0.70)])
def test_it_does_not_flag_a_gap_exactly_at_the_tolerance(claimed: float, measured: float) -> None:
    judgement = judge_one(a_claim(claimed=claimed, measured=measured))

    assert not judgement.flagged
    # Exactly at the margin is not within it: with no error either side, nothing else decides.
    assert judgement.verdict == INCONCLUSIVE
    assert "at most the 3-point tolerance" in judgement.explanation


@pytest.mark.parametrize(
    ("gap", "severity", "shown"),
    [
        (0.0301, "minor", "1.0 times"),
        (0.0599, "minor", "1.9 times"),
        (0.0600, "major", "2.0 times"),
        (0.0601, "major", "2.0 times"),
        (0.1199, "major", "3.9 times"),
        (0.1200, "severe", "4.0 times"),
        (0.1201, "severe", "4.0 times"),
    ],
)
def test_it_grades_severity_by_multiples_of_the_tolerance(
    gap: float, severity: str, shown: str
) -> None:
    for measured in (0.30, 0.47, 0.70, 0.79):
        claimed = round(measured + gap, 4)  # as typed: a decimal, not a float sum
        judgement = judge_one(a_claim(claimed=claimed, measured=measured))

        assert judgement.flagged, (claimed, measured)
        assert judgement.severity == severity, (claimed, measured)
        assert f"{shown} the 3-point tolerance. {severity.capitalize()}." in judgement.explanation


def test_it_uses_the_tolerance_of_the_benchmark_in_the_catalogue() -> None:
    lenient = dataclasses.replace(MMLU, tolerance=0.05)
    claim = a_claim(claimed=0.84, measured=0.80)

    assert judge_one(claim).flagged
    judgement = judge_one(dataclasses.replace(claim, benchmark=lenient))
    assert not judgement.flagged
    assert judgement.tolerance == 0.05
    assert "within the 5-point tolerance" in judgement.explanation
    severe = judge_one(dataclasses.replace(claim, benchmark=lenient, claimed=1.0))
    assert severe.severity == "severe"
    assert "4.0 times the 5-point tolerance. Severe." in severe.explanation


def test_it_writes_a_fractional_tolerance_with_its_decimal() -> None:
    judgement = judge_one(
        a_claim(benchmark=dataclasses.replace(MMLU, tolerance=0.025), claimed=0.80, measured=0.79)
    )

    assert "within the 2.5-point tolerance" in judgement.explanation


# The family: Holm for the verdict, Benjamini–Hochberg for the queue.


def test_holm_withholds_a_flag_that_the_unadjusted_test_would_raise() -> None:
    # z = 2.5, p = 0.0062: below α alone, above α/2 in a family of two.
    noisy = a_claim(
        benchmark=TRUTHFULQA,
        shots=0,
        claimed=0.75,
        claimed_stderr=0.0,
        measured=0.70,
        measured_stderr=0.02,
        n_items=817,
    )

    alone = judge_one(noisy)
    assert alone.p_value < ALPHA
    assert alone.flagged
    assert alone.severity == "minor"

    family = judge([noisy, dataclasses.replace(noisy, key="twin")])
    for judgement in family:
        assert judgement.p_value < ALPHA < judgement.p_holm
        assert not judgement.flagged
        assert "not significant after Holm correction (adjusted p = 0.012)" in judgement.explanation


def test_an_under_claim_counts_in_the_family_size() -> None:
    noisy = a_claim(claimed=0.75, measured=0.70, measured_stderr=0.02)
    under = a_claim(key="under", claimed=0.60, measured=0.70)

    judgements = judge([noisy, under])
    assert judgements[0].p_holm == pytest.approx(2 * judgements[0].p_value)
    assert not judgements[0].flagged


def test_it_returns_judgements_in_input_order_with_the_callers_keys() -> None:
    keys = [("claim", 3), "b", 17]
    claims = [
        a_claim(key=keys[0], claimed=0.99),
        a_claim(key=keys[1], claimed=0.71),
        a_claim(key=keys[2], claimed=0.50),
    ]

    judgements = judge(claims)
    assert [judgement.key for judgement in judgements] == keys
    assert [judgement.verdict for judgement in judgements] == [
        CONTRADICTED,
        SUPPORTED,
        UNDER_CLAIM,
    ]


def test_it_judges_nothing_when_given_nothing() -> None:
    assert judge([]) == []


def test_holm_and_benjamini_hochberg_on_a_textbook_family() -> None:
    p_values = [0.01, 0.04, 0.03, 0.005]

    assert holm_adjusted(p_values) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p_values) == pytest.approx([0.02, 0.04, 0.04, 0.02])


# The claim's standard error.


def test_it_uses_the_stated_claim_stderr_as_given() -> None:
    judgement = judge_one(a_claim(claimed_stderr=0.004, n_items=14042))

    assert judgement.claim_stderr_used == 0.004


def test_it_falls_back_to_the_binomial_stderr_for_per_item_zero_one_metrics() -> None:
    judgement = judge_one(
        a_claim(claimed=0.8, claimed_stderr=None, measured_stderr=0.003, n_items=1000)
    )

    assert judgement.claim_stderr_used == pytest.approx(math.sqrt(0.8 * 0.2 / 1000))
    assert judgement.combined_stderr == pytest.approx(math.sqrt(0.003**2 + 0.16 / 1000))


def test_a_bounded_metric_that_is_not_zero_one_gets_the_largest_error_its_mean_can_have() -> None:
    # Bhatia–Davis: a mean c of per-item scores in [0, 1] has variance at most c(1 − c).
    assert not TRUTHFULQA.per_item_binary and TRUTHFULQA.bounded_mean
    judgement = judge_one(a_claim(benchmark=TRUTHFULQA, claimed_stderr=None, n_items=817))

    assert judgement.claim_stderr_used == pytest.approx(math.sqrt(0.8 * 0.2 / 817))


def test_an_unbounded_metric_takes_zero_claim_stderr() -> None:
    unbounded = dataclasses.replace(MMLU, bounded_mean=False)
    judgement = judge_one(a_claim(benchmark=unbounded, claimed_stderr=None, n_items=817))

    assert judgement.claim_stderr_used == 0.0


# A measured error of 0: the Agresti–Coull floor.


def test_zero_of_twenty_right_is_not_a_measurement_without_error() -> None:
    judgement = judge_one(a_claim(claimed=0.10, measured=0.0, measured_stderr=0.0, n_items=20))

    adjusted = 2 / 24
    assert judgement.measured_stderr_used == pytest.approx(
        math.sqrt(adjusted * (1 - adjusted) / 24)
    )
    assert math.isfinite(judgement.z)
    assert (
        "with an error of 0 (taken as a standard error of 5.6, Agresti–Coull)"
        in judgement.explanation
    )


def test_a_stated_measured_error_is_used_as_given() -> None:
    judgement = judge_one(a_claim(measured_stderr=0.004, n_items=20))

    assert judgement.measured_stderr_used == 0.004


# Run health: the test would flag, the harness is in doubt.


def test_a_failed_health_check_holds_the_flag_back_with_its_figures() -> None:
    doubt = "31.0 % of 50 generations stopped at the token limit (limit 5 %)"
    judgement = judge_one(a_claim(claimed=0.99, harness_doubt=doubt))

    assert judgement.verdict == HARNESS_IN_DOUBT
    assert not judgement.flagged
    assert judgement.severity == "severe"
    assert judgement.explanation.endswith(
        f"but the run's health check failed: {doubt}. Harness in doubt: a moderator decides."
    )


def test_a_failed_health_check_changes_nothing_the_test_would_not_flag() -> None:
    doubt = "the answer filter found no answer in 40 % of 50 generations (limit 5 %)"
    judgement = judge_one(a_claim(claimed=0.71, measured=0.70, harness_doubt=doubt))

    assert judgement.verdict == SUPPORTED


def test_it_takes_zero_claim_stderr_when_the_number_of_items_is_unknown() -> None:
    assert judge_one(a_claim(claimed_stderr=None, n_items=None)).claim_stderr_used == 0.0


# Guards.


@pytest.mark.parametrize(
    "overrides",
    [
        {"claimed": 89.9},
        {"claimed": -0.01},
        {"claimed": math.nan},
        {"measured": 1.0001},
        {"measured": math.nan},
        {"claimed_stderr": -0.001},
        {"measured_stderr": -0.001},
        {"claimed_stderr": math.nan},
        {"measured_stderr": math.inf},
        {"n_items": 0},
        {"benchmark": dataclasses.replace(MMLU, tolerance=0.0)},
    ],
)
def test_it_refuses_values_that_are_not_fractions(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="MMLU"):
        judge([a_claim(), a_claim(key="bad", **overrides)])


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.01, math.nan])
def test_it_refuses_an_alpha_outside_zero_to_one(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        judge([a_claim()], alpha=alpha)


# Properties.

tenths_of_a_point = st.integers(0, 1000)  # 0.0 to 100.0 points, as a form accepts them
fractions = tenths_of_a_point.map(lambda tenths: tenths / 1000)
stderrs = st.one_of(st.none(), st.integers(0, 50).map(lambda tenths: tenths / 1000))
benchmarks = st.sampled_from(list(BENCHMARKS.values()))


@st.composite
def comparisons(draw: st.DrawFn, key: object = "claim") -> Comparison:
    benchmark: Benchmark = draw(benchmarks)
    return Comparison(
        key=key,
        benchmark=benchmark,
        shots=benchmark.shots,
        metric=benchmark.metric,
        claimed=draw(fractions),
        claimed_stderr=draw(stderrs),
        measured=draw(fractions),
        measured_stderr=draw(stderrs),
        n_items=draw(st.one_of(st.none(), st.integers(1, 20000))),
    )


families = st.integers(0, 6).flatmap(
    lambda size: st.tuples(*[comparisons(key=index) for index in range(size)]).map(list)
)


def same_judgement(left: Judgement, right: Judgement) -> bool:
    numbers = (
        "gap",
        "claim_stderr_used",
        "measured_stderr_used",
        "p_support",
        "combined_stderr",
        "z",
        "p_value",
        "p_holm",
        "q_value",
        "tolerance",
    )
    exact = ("key", "flagged", "verdict", "severity", "explanation")
    return all(
        math.isclose(getattr(left, name), getattr(right, name), rel_tol=1e-9, abs_tol=1e-12)
        for name in numbers
    ) and all(getattr(left, name) == getattr(right, name) for name in exact)


def percent_text(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"  # "82.3"


def fraction_text(tenths: int) -> str:
    return f"{tenths / 1000:.3f}"  # "0.823"


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(comparisons(), tenths_of_a_point, st.one_of(st.none(), st.integers(0, 50))),
        min_size=1,
        max_size=5,
    )
)
def test_it_judges_a_claim_typed_in_percent_as_the_same_claim_typed_as_a_fraction(
    typed: list[tuple[Comparison, int, int | None]],
) -> None:
    # What a form does with each unit: "82.3" in percent is stored as 82.3 / 100.
    as_percent = [
        dataclasses.replace(
            comparison,
            key=index,
            claimed=float(percent_text(claimed)) / 100,
            claimed_stderr=None if stderr is None else float(percent_text(stderr)) / 100,
        )
        for index, (comparison, claimed, stderr) in enumerate(typed)
    ]
    as_fraction = [
        dataclasses.replace(
            comparison,
            key=index,
            claimed=float(fraction_text(claimed)),
            claimed_stderr=None if stderr is None else float(fraction_text(stderr)),
        )
        for index, (comparison, claimed, stderr) in enumerate(typed)
    ]

    for left, right in zip(judge(as_percent), judge(as_fraction), strict=True):
        assert same_judgement(left, right), (left, right)


@settings(deadline=None)
@given(comparisons(), families)
def test_a_claim_equal_to_the_measurement_is_never_flagged(
    claim: Comparison, others: list[Comparison]
) -> None:
    exact = dataclasses.replace(claim, key="exact", claimed=claim.measured)

    judgement = judge([exact, *others])[0]
    assert not judgement.flagged
    assert judgement.verdict in (SUPPORTED, INCONCLUSIVE)


@settings(deadline=None)
@given(comparisons(), families, fractions)
def test_raising_a_claim_never_removes_a_flag(
    claim: Comparison, others: list[Comparison], higher: float
) -> None:
    claim = dataclasses.replace(claim, key="raised")
    raised = dataclasses.replace(claim, claimed=max(claim.claimed, higher))

    assert not judge_one(claim).flagged or judge_one(raised).flagged
    before = judge([claim, *others])
    after = judge([raised, *others])
    for was, now in zip(before, after, strict=True):
        assert not was.flagged or now.flagged, (was, now)


@settings(deadline=None)
@given(families)
def test_holm_never_flags_what_the_unadjusted_test_would_not(family: list[Comparison]) -> None:
    # Alone, a claim is its own family: Holm reduces to the unadjusted one-sided test.
    unadjusted = {comparison.key for comparison in family if judge_one(comparison).flagged}
    flagged = {judgement.key for judgement in judge(family) if judgement.flagged}

    assert flagged <= unadjusted


@settings(deadline=None)
@given(families)
def test_under_claims_are_never_flagged(family: list[Comparison]) -> None:
    for judgement in judge(family):
        if judgement.gap < 0:
            assert not judgement.flagged
            assert judgement.verdict in (UNDER_CLAIM, SUPPORTED, INCONCLUSIVE)
            assert judgement.severity is None
        if judgement.verdict == UNDER_CLAIM:
            assert judgement.gap < -judgement.tolerance


@settings(deadline=None)
@given(families)
def test_adjusted_p_values_never_fall_below_the_unadjusted_one(family: list[Comparison]) -> None:
    for judgement in judge(family):
        assert 0.0 <= judgement.p_value <= judgement.q_value <= judgement.p_holm <= 1.0
        assert judgement.flagged == (judgement.verdict == CONTRADICTED)
        assert (judgement.severity is not None) == judgement.flagged


def step_down_holm(p_values: list[float], alpha: float) -> set[int]:
    """Holm as the textbook states it: reject in ascending order until the first failure."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    rejected: set[int] = set()
    for rank, index in enumerate(order):
        if p_values[index] * (len(p_values) - rank) > alpha:
            break
        rejected.add(index)
    return rejected


# Few distinct values, so that ties are common.
p_value_lists = st.lists(
    st.sampled_from([0.0, 0.001, 0.0025, 0.004, 0.005, 0.01, 0.02, 0.5, 1.0]) | st.floats(0.0, 1.0),
    max_size=8,
)


@given(p_value_lists)
def test_holm_adjusted_p_values_reject_exactly_what_the_step_down_test_rejects(
    p_values: list[float],
) -> None:
    adjusted = holm_adjusted(p_values)

    for alpha in (0.01, 0.05):
        assert {index for index, p in enumerate(adjusted) if p <= alpha} == step_down_holm(
            p_values, alpha
        )
    for index, other in ((i, j) for i in range(len(p_values)) for j in range(len(p_values))):
        if p_values[index] == p_values[other]:
            assert adjusted[index] == adjusted[other]


@given(p_value_lists)
def test_q_values_are_monotone_and_between_p_and_holm(p_values: list[float]) -> None:
    q_values = benjamini_hochberg(p_values)
    holm = holm_adjusted(p_values)

    for index, p in enumerate(p_values):
        assert p <= q_values[index] <= holm[index] <= 1.0
    by_p = sorted(range(len(p_values)), key=lambda index: p_values[index])
    assert [q_values[index] for index in by_p] == sorted(q_values)


@settings(deadline=None)
@given(families)
def test_supported_and_contradicted_never_hold_together(family: list[Comparison]) -> None:
    for judgement in judge(family):
        supported_by_tost = judgement.p_support < SUPPORT_ALPHA
        if judgement.flagged:
            assert not supported_by_tost and judgement.gap > judgement.tolerance
        if judgement.verdict == SUPPORTED:
            assert supported_by_tost and abs(judgement.gap) < judgement.tolerance


@settings(deadline=None)
@given(comparisons(), st.integers(1, 20000), st.integers(0, 20000))
def test_more_items_never_turn_supported_into_inconclusive(
    claim: Comparison, items: int, more: int
) -> None:
    fewer = judge_one(dataclasses.replace(claim, n_items=items))
    many = judge_one(dataclasses.replace(claim, n_items=items + more))

    if fewer.verdict == SUPPORTED:
        assert many.verdict == SUPPORTED, (fewer, many)


@settings(deadline=None)
@given(comparisons())
def test_a_measured_error_of_zero_never_yields_an_infinite_z(claim: Comparison) -> None:
    judgement = judge_one(
        dataclasses.replace(claim, measured_stderr=0.0, n_items=claim.n_items or 20)
    )

    assert math.isfinite(judgement.z)
