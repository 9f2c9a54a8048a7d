"""The endpoint statistics: the Model Equality Test (MMD, Hamming kernel) and paired differences.

The test's level and power are checked on synthetic completions drawn from known
distributions, with fixed seeds, as in the paper: the same distribution on both sides must be
rejected about 5 % of the time at alpha 0.05, a distorted one most of the time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaluations.endpoint_stats import mmd_test, paired_difference

ALPHABET = np.array(list("abcdefghij"))
PROMPTS = 25
SAMPLES = 10  # per prompt, as in the paper's headline figure
LENGTH = 12


def character_tables(seed: int) -> np.ndarray:
    """A per-prompt, per-position distribution over the alphabet, peaked like a model's."""
    rng = np.random.default_rng(seed)
    tables: np.ndarray = rng.dirichlet(np.full(len(ALPHABET), 0.3), size=(PROMPTS, LENGTH))
    return tables


def draw(tables: np.ndarray, rng: np.random.Generator) -> dict[str, list[str]]:
    """SAMPLES completions per prompt, each place drawn from its table (inverse CDF)."""
    cumulative = tables.cumsum(axis=-1)
    uniform = rng.random((PROMPTS, SAMPLES, LENGTH, 1))
    picks = (uniform > cumulative[:, None, :, :]).sum(axis=-1).clip(max=len(ALPHABET) - 1)
    return {
        f"prompt {prompt}": ["".join(ALPHABET[row]) for row in picks[prompt]]
        for prompt in range(PROMPTS)
    }


def rejection_rate(reference: np.ndarray, served: np.ndarray, trials: int) -> float:
    rejections = 0
    for trial in range(trials):
        rng = np.random.default_rng(10_000 + trial)
        result = mmd_test(
            draw(reference, rng), draw(served, rng), permutations=200, seed=trial, length=LENGTH
        )
        rejections += result.p_value <= 0.05
    return rejections / trials


def test_it_rejects_the_same_distribution_at_about_its_level() -> None:
    tables = character_tables(seed=1)

    rate = rejection_rate(tables, tables, trials=200)

    print(f"\nfalse-alarm rate at alpha 0.05: {rate:.3f}")
    assert rate <= 0.09  # 0.05 plus about three binomial standard deviations


def test_it_detects_a_distorted_distribution() -> None:
    reference = character_tables(seed=1)
    # A quarter of the probability moved to another model's choices, as a light finetune or
    # a coarse quantisation would move it.
    served = 0.75 * reference + 0.25 * character_tables(seed=2)

    rate = rejection_rate(reference, served, trials=40)

    print(f"\ndetection rate at alpha 0.05: {rate:.3f}")
    assert rate >= 0.8


def test_the_statistic_follows_the_papers_estimator_on_a_small_case() -> None:
    a = {"p": ["ab", "ab"], "q": ["xy", "xz"]}
    b = {"p": ["ab", "cd"], "q": ["xy", "xy"]}

    result = mmd_test(a, b, permutations=50, length=2)

    # Same-prompt pairs only; kernel = fraction of agreeing places.
    within_a = (1.0 + 1.0 + 0.5 + 0.5) / 4  # p: ab~ab twice; q: xy~xz twice
    within_b = (0.0 + 0.0 + 1.0 + 1.0) / 4
    across = (1 + 0 + 1 + 0 + 1 + 1 + 0.5 + 0.5) / 8
    assert result.statistic == pytest.approx(within_a + within_b - 2 * across)
    assert (result.prompts, result.samples_a, result.samples_b) == (2, 4, 4)


def test_padding_counts_an_early_end_as_a_mismatch() -> None:
    a = {"p": ["abcd", "abcd"]}
    b = {"p": ["ab", "ab"]}

    result = mmd_test(a, b, permutations=20, length=4)

    # within a = 1, within b = 1, across = 2/4
    assert result.statistic == pytest.approx(1.0)


def test_the_p_value_is_reproducible_and_never_zero() -> None:
    tables = character_tables(seed=3)
    a = draw(tables, np.random.default_rng(1))
    b = draw(character_tables(seed=4), np.random.default_rng(2))

    first = mmd_test(a, b, permutations=99, seed=5)

    assert first == mmd_test(a, b, permutations=99, seed=5)
    assert first.p_value == pytest.approx(1 / 100)
    assert first.permutations == 99


def test_prompts_without_two_completions_on_each_side_are_left_out() -> None:
    a = {"p": ["ab", "ac"], "q": ["x", "y"], "only a": ["m", "n"]}
    b = {"p": ["ab", "ad"], "q": ["x"]}

    result = mmd_test(a, b, permutations=10)

    assert result.prompts == 1


def test_it_refuses_samples_with_nothing_to_compare() -> None:
    with pytest.raises(ValueError, match="two completions"):
        mmd_test({"p": ["a"]}, {"p": ["a", "b"]})
    with pytest.raises(ValueError, match="positive"):
        mmd_test({"p": ["a", "b"]}, {"p": ["a", "b"]}, permutations=0)


def test_paired_difference_gives_the_mean_and_a_normal_interval() -> None:
    a = [1.0, 0.0, 1.0, 1.0]
    b = [0.0, 0.0, 1.0, 0.0]

    result = paired_difference(a, b)

    differences = [1.0, 0.0, 0.0, 1.0]
    spread = math.sqrt(sum((d - 0.5) ** 2 for d in differences) / 3)
    assert result.mean == pytest.approx(0.5)
    assert result.half_width_95 == pytest.approx(1.96 * spread / 2)
    assert result.n == 4


def test_paired_difference_of_identical_scores_is_exactly_zero() -> None:
    result = paired_difference([0.25, 0.5], [0.25, 0.5])

    assert (result.mean, result.half_width_95, result.n) == (0.0, 0.0, 2)


def test_paired_difference_refuses_unpaired_or_empty_scores() -> None:
    with pytest.raises(ValueError, match="differ in number"):
        paired_difference([1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="no paired"):
        paired_difference([], [])
    assert paired_difference([1.0], [0.0]).half_width_95 == math.inf
