"""From the tensors compared to a verdict: do the weights come from the base the card names?

Each candidate base gets a relation (identical, base plus a low-rank update, fine-tuned,
unrelated, unclear) from the medians over the tensors compared; the verdict weighs the named
base against the other candidates. A verdict is evidence for a moderator, never proof: the
sentences in ``MEANING`` say what each does and does not mean.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from evaluations.lineage.tensors import TensorComparison

# Independent weights (two random inits, or two models trained apart, whose units are not
# aligned) have a cosine near 0: about 1/sqrt(n) for n values, 0.016 for a 64 x 64 slab and
# far less for real ones. A fine-tune keeps its base's weights to within a fraction of their
# norm: published fine-tunes of 7B models keep cosines above 0.9. The band between the two
# bounds is honestly unclear (heavy continued pre-training, a partial merge).
SHARED_ORIGIN_MIN_COSINE = 0.5
NO_SHARED_ORIGIN_MAX_COSINE = 0.15
# Fewer tensors than this in common with a candidate say too little to decide either way.
MIN_TENSORS = 3
# Below this relative difference a tensor is the base's own (float noise of a re-save).
IDENTICAL_MAX_DIFFERENCE = 1e-6
# A difference whose effective rank is at most this share of the full rank is a low-rank
# update (an adapter merged in); a full fine-tune's difference is spread over most directions.
LOW_RANK_MAX_FRACTION = 0.25
# Another candidate is "closer" when its difference is at most this share of the named
# base's: a clear margin, so two near-equal distances never accuse anyone.
CLOSER_FACTOR = 0.5


class Verdict:
    CONSISTENT = "consistent"
    CLOSER_TO_OTHER = "closer-to-other"
    UNRELATED = "unrelated"
    INCONCLUSIVE = "inconclusive"
    NO_NAMED_BASE = "no-named-base"


ALARMS = frozenset({Verdict.CLOSER_TO_OTHER, Verdict.UNRELATED})
MEANING = {
    Verdict.CONSISTENT: (
        "The tensors read match the named base closely enough to share its origin. This does "
        "not prove how the model was trained, nor that its scores are right."
    ),
    Verdict.CLOSER_TO_OTHER: (
        "The tensors read are markedly closer to another candidate than to the named base. The "
        "card may name the wrong base (or the base's own base); it does not by itself mean "
        "wrongdoing."
    ),
    Verdict.UNRELATED: (
        "The tensors read share no origin with the named base: they are as far from it as "
        "independent weights are. A model can hide a shared origin (permuted units), so the "
        "reverse does not hold; a moderator should ask the author."
    ),
    Verdict.INCONCLUSIVE: (
        "The check could not decide: the weights could not be read or compared, or the "
        "similarity falls between the bounds. This says nothing either way."
    ),
    Verdict.NO_NAMED_BASE: (
        "The card names no base model, so there is nothing to check it against; the "
        "catalogue's bases are compared for information only."
    ),
}


@dataclass
class CandidateResult:
    """One candidate base as the check saw it."""

    hub_id: str
    named: bool  # the card names it
    commit_sha: str = ""
    status: str = "compared"  # "compared", "unreadable", "shapes differ"
    detail: str = ""
    config_diff: list[dict[str, Any]] = field(default_factory=list)
    tensors: list[TensorComparison] = field(default_factory=list)

    @property
    def cosine(self) -> float | None:
        return _median([t.cosine for t in self.tensors])

    @property
    def difference(self) -> float | None:
        return _median([t.relative_difference for t in self.tensors])

    @property
    def decidable(self) -> bool:
        return self.status == "compared" and len(self.tensors) >= MIN_TENSORS

    @property
    def shares_origin(self) -> bool:
        return self.decidable and (self.cosine or 0.0) >= SHARED_ORIGIN_MIN_COSINE

    @property
    def no_shared_origin(self) -> bool:
        return self.decidable and (self.cosine or 0.0) <= NO_SHARED_ORIGIN_MAX_COSINE

    @property
    def relation(self) -> str:
        if not self.decidable:
            return "not compared" if self.status != "compared" else "too few tensors"
        if self.no_shared_origin:
            return "unrelated"
        if not self.shares_origin:
            return "unclear"
        changed = [t for t in self.tensors if t.relative_difference > IDENTICAL_MAX_DIFFERENCE]
        if not changed:
            return "identical in the tensors read"
        if max(t.rank_fraction for t in changed) <= LOW_RANK_MAX_FRACTION:
            rank = max(t.effective_rank for t in changed)
            return f"base plus a rank-{rank} update"
        return "fine-tuned (a full-rank difference)"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tensors"] = [t.as_json() for t in self.tensors]
        data.update(cosine=self.cosine, difference=self.difference, relation=self.relation)
        return data


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


@dataclass(frozen=True)
class Outcome:
    verdict: str
    summary: str
    closer_to: str = ""  # the other candidate, for CLOSER_TO_OTHER


def decide(candidates: list[CandidateResult]) -> Outcome:
    """The verdict over the named bases and the other candidates compared."""
    named = [c for c in candidates if c.named]
    others = [c for c in candidates if not c.named and c.shares_origin]
    closest_other = min(others, key=_distance, default=None)
    if not named:
        if closest_other is not None:
            summary = (
                f"The card names no base; the weights share an origin with {closest_other.hub_id}."
            )
        else:
            summary = "The card names no base model."
        return Outcome(Verdict.NO_NAMED_BASE, summary)
    decidable = [c for c in named if c.decidable]
    if not decidable:
        reasons = "; ".join(f"{c.hub_id}: {c.detail or c.relation}" for c in named)
        return Outcome(Verdict.INCONCLUSIVE, f"The named base could not be compared ({reasons}).")
    best = min(decidable, key=_distance)
    if closest_other is not None and (
        not best.shares_origin or _distance(closest_other) <= CLOSER_FACTOR * _distance(best)
    ):
        summary = (
            f"Closer to {closest_other.hub_id} (median relative difference "
            f"{closest_other.difference:.3g}) than to the named base {best.hub_id} "
            f"({best.difference:.3g})."
        )
        return Outcome(Verdict.CLOSER_TO_OTHER, summary, closer_to=closest_other.hub_id)
    if best.shares_origin:
        summary = (
            f"Consistent with the named base {best.hub_id}: {best.relation} "
            f"(median cosine {best.cosine:.3f} over {len(best.tensors)} tensors)."
        )
        return Outcome(Verdict.CONSISTENT, summary)
    if all(c.no_shared_origin for c in decidable):
        summary = (
            f"Unrelated to the named base {best.hub_id}: median cosine {best.cosine:.3f} over "
            f"{len(best.tensors)} tensors, as for independent weights."
        )
        return Outcome(Verdict.UNRELATED, summary)
    summary = (
        f"Inconclusive: median cosine {best.cosine:.3f} with {best.hub_id} lies between "
        f"{NO_SHARED_ORIGIN_MAX_COSINE} (unrelated) and {SHARED_ORIGIN_MIN_COSINE} (shared origin)."
    )
    return Outcome(Verdict.INCONCLUSIVE, summary)


def _distance(candidate: CandidateResult) -> float:
    return candidate.difference if candidate.difference is not None else float("inf")
