"""The two statistics that compare a hosted endpoint with the released weights.

``mmd_test`` is the two-sample Model Equality Test of Gao, Liang and Guestrin ("Model
Equality Testing: Which model is this API serving?", ICLR 2025): completions sampled on the
same prompts from both sources, a Maximum Mean Discrepancy statistic with a Hamming kernel,
and a permutation p-value. ``paired_difference`` is the score difference over the same items.
Pure arithmetic: no I/O, no models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Completions are compared on their first characters; the paper's kernel works on a fixed
# length too (shorter completions are padded, so where one ends early counts as a mismatch).
DEFAULT_LENGTH = 100
PAD = -1  # no character has this code


@dataclass(frozen=True)
class MmdResult:
    statistic: float
    p_value: float
    prompts: int
    samples_a: int
    samples_b: int
    permutations: int


@dataclass(frozen=True)
class PairedDifference:
    mean: float
    half_width_95: float
    n: int


@dataclass(frozen=True)
class _Block:
    """One prompt's completions, both samples together (``a`` first), as a Gram matrix."""

    gram: npt.NDArray[np.float64]
    count_a: int


def mmd_test(
    a: Mapping[str, Sequence[str]],
    b: Mapping[str, Sequence[str]],
    *,
    permutations: int = 1000,
    seed: int = 0,
    length: int = DEFAULT_LENGTH,
) -> MmdResult:
    """Test whether the completions in ``a`` and ``b`` (prompt -> samples) come from one
    distribution.

    The kernel between two completions of the same prompt is the fraction of the ``length``
    character places where they agree (the Hamming kernel, scaled so k(x, x) = 1); between
    completions of different prompts it is zero. The statistic is the paper's unbiased
    estimate: the mean kernel over distinct pairs within ``a``, plus that within ``b``, less
    twice the mean across, each mean taken over pairs that share a prompt. Its null
    distribution comes from reassigning the completions of each prompt between the two
    samples at random (the prompts are fixed by design, so labels are exchangeable only
    within a prompt); the p-value counts the observed labelling among the permutations, so it
    is never 0 and the test keeps its level with any number of permutations.

    Prompts missing from either side, or with fewer than two completions on a side, carry no
    within-sample pair and are left out. Raises ValueError when no prompt is left.
    """
    if permutations < 1 or length < 1:
        raise ValueError("permutations and length must be positive")
    blocks = [
        _block(a[prompt], b[prompt], length)
        for prompt in sorted(a.keys() & b.keys())
        if len(a[prompt]) >= 2 and len(b[prompt]) >= 2
    ]
    if not blocks:
        raise ValueError("no prompt has at least two completions from each side")
    rng = np.random.default_rng(seed)
    labels = [_observed_labels(block) for block in blocks]
    observed = _statistic(blocks, labels)[0]
    exceed = 0
    # Batches keep the label matrices small however many permutations are asked for.
    for start in range(0, permutations, 250):
        batch = min(250, permutations - start)
        shuffled = [_shuffled_labels(block, batch, rng) for block in blocks]
        exceed += int(np.sum(_statistic(blocks, shuffled) >= observed - 1e-12))
    return MmdResult(
        statistic=float(observed),
        p_value=(1 + exceed) / (1 + permutations),
        prompts=len(blocks),
        samples_a=sum(block.count_a for block in blocks),
        samples_b=sum(len(block.gram) - block.count_a for block in blocks),
        permutations=permutations,
    )


def paired_difference(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    """Mean of a_i - b_i over the same items, with a normal 95 % half-width
    (1.96 standard deviations of the differences over sqrt(n)); infinite for one item."""
    if len(a) != len(b):
        raise ValueError(f"paired scores differ in number: {len(a)} and {len(b)}")
    if not a:
        raise ValueError("no paired scores")
    differences = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = len(differences)
    if n < 2:
        return PairedDifference(mean=float(differences[0]), half_width_95=math.inf, n=1)
    spread = float(np.std(differences, ddof=1))
    return PairedDifference(
        mean=float(np.mean(differences)), half_width_95=1.96 * spread / math.sqrt(n), n=n
    )


def _block(a: Sequence[str], b: Sequence[str], length: int) -> _Block:
    codes = np.full((len(a) + len(b), length), PAD, dtype=np.int64)
    for row, text in enumerate([*a, *b]):
        clipped = [ord(character) for character in text[:length]]
        codes[row, : len(clipped)] = clipped
    gram = (codes[:, None, :] == codes[None, :, :]).mean(axis=-1)
    return _Block(gram=gram, count_a=len(a))


def _observed_labels(block: _Block) -> npt.NDArray[np.float64]:
    labels = np.zeros((1, len(block.gram)))
    labels[0, : block.count_a] = 1.0
    return labels


def _shuffled_labels(
    block: _Block, batch: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    order = rng.permuted(np.tile(np.arange(len(block.gram)), (batch, 1)), axis=1)
    return (order < block.count_a).astype(np.float64)


def _statistic(
    blocks: Sequence[_Block], labels: Sequence[npt.NDArray[np.float64]]
) -> npt.NDArray[np.float64]:
    """The MMD estimate for each labelling (rows of ``labels``: 1 for sample a, 0 for b)."""
    sums = np.zeros((3, len(labels[0])))  # within a, within b, across
    pairs = np.zeros(3)
    for block, in_a in zip(blocks, labels, strict=True):
        in_b = 1.0 - in_a
        count_a, count_b = block.count_a, len(block.gram) - block.count_a
        # The diagonal (each completion with itself, kernel 1) is left out of the within sums.
        sums[0] += np.einsum("pi,ij,pj->p", in_a, block.gram, in_a) - count_a
        sums[1] += np.einsum("pi,ij,pj->p", in_b, block.gram, in_b) - count_b
        sums[2] += np.einsum("pi,ij,pj->p", in_a, block.gram, in_b)
        pairs += (count_a * (count_a - 1), count_b * (count_b - 1), count_a * count_b)
    means = sums / pairs[:, None]
    statistic: npt.NDArray[np.float64] = means[0] + means[1] - 2 * means[2]
    return statistic
