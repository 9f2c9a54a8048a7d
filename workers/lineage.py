"""The lineage check: do an evaluated commit's weights come from the base its card names?

For the commit: its card's ``base_model`` (or the config's), its config and its safetensors
headers. For each named base, and each catalogue candidate whose config has the same shapes:
the config diff, then the same tensors' leading rows from both, compared (cosine, relative
difference, effective rank of the difference). Only headers and capped slabs are read, by
Range requests; the bytes read are recorded beside the weights' size.

A beat tick checks a bounded batch of evaluated commits not checked yet. A hub that cannot be
reached records nothing (the next tick tries again); a repo that cannot be read records an
inconclusive check, so a missing repo is not asked about for ever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from evaluations.errors import EvaluationError
from evaluations.lineage import (
    CandidateResult,
    Outcome,
    TensorEntry,
    Verdict,
    compare_slabs,
    config_diff,
    decide,
    named_bases,
    same_shapes,
    select_tensors,
)
from evaluations.selectors.lineage import LineageTarget, lineage_batch, lineage_candidates
from evaluations.services.lineage import lineage_check_record
from workers import hub

logger = logging.getLogger(__name__)


def check_lineage(limit: int | None = None) -> dict[str, int]:
    """Check one batch; return how many commits ended with each verdict."""
    counts: dict[str, int] = {}
    for target in lineage_batch(limit or settings.LINEAGE_CHECK_BATCH):
        verdict = check_target(target)
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


@dataclass
class LineageResult:
    """What a check found, before it is recorded."""

    named: list[str]
    outcome: Outcome
    candidates: list[CandidateResult]
    weights_bytes: int
    bytes_read: int
    requests: int


def check_target(target: LineageTarget) -> str:
    """Check one commit and record it; the verdict, or ``hub-unreachable`` (not recorded)."""
    try:
        result = compare_repo(target.hub_id, target.commit_sha, lineage_candidates())
    except EvaluationError as error:
        logger.warning("lineage of %s: %s", target.hub_id, error.detail)
        return "hub-unreachable"
    lineage_check_record(
        revision_id=target.revision_id,
        named_bases=result.named,
        outcome=result.outcome,
        candidates=[candidate.as_json() for candidate in result.candidates],
        bytes_read=result.bytes_read,
        weights_bytes=result.weights_bytes,
        settings_used={
            "max_bytes_per_tensor": settings.LINEAGE_MAX_BYTES_PER_TENSOR,
            "max_tensors": settings.LINEAGE_MAX_TENSORS,
            "requests": result.requests,
        },
    )
    return result.outcome.verdict


def compare_repo(hub_id: str, commit_sha: str, catalogue: list[str]) -> LineageResult:
    """Compare the repo at ``commit_sha`` with its named bases and the catalogue's candidates.
    Raises EvaluationError only when the hub cannot be reached for the model itself."""
    reader = hub.WeightsReader()
    try:
        model = reader.listing(hub_id, commit_sha)
        model_tensors = reader.tensors(model)
    except EvaluationError as error:
        if error.code == "eval:infra:hub-unreachable":
            raise
        outcome = Outcome(Verdict.INCONCLUSIVE, f"The model could not be read: {error.detail}")
        return LineageResult([], outcome, [], 0, reader.bytes_read, reader.requests)
    named = named_bases(model.card_data, model.config)
    comparison = _Comparison(reader, model, model_tensors)
    results = [comparison.against(base, named=True) for base in named if base != hub_id]
    others = [base for base in catalogue if base not in named and base != hub_id]
    results += [comparison.against(base, named=False) for base in others]
    return LineageResult(
        named=named,
        outcome=decide(results),
        candidates=results,
        weights_bytes=model.weights_bytes,
        bytes_read=reader.bytes_read,
        requests=reader.requests,
    )


class _Comparison:
    """One model against its candidates; the model's slabs are read once and kept."""

    def __init__(
        self,
        reader: hub.WeightsReader,
        model: hub.WeightsListing,
        tensors: dict[str, TensorEntry],
    ) -> None:
        self.reader, self.model, self.tensors = reader, model, tensors
        self.slabs: dict[str, Any] = {}

    def against(self, base_id: str, *, named: bool) -> CandidateResult:
        result = CandidateResult(hub_id=base_id, named=named)
        try:
            base = self.reader.listing(base_id)
            result.commit_sha = base.commit_sha
            result.config_diff = [
                row.as_json()
                for row in config_diff(
                    self.model.config,
                    base.config,
                    model_tokenizer=self.model.tokenizer_config,
                    base_tokenizer=base.tokenizer_config,
                )
            ]
            if not named and not same_shapes(self.model.config, base.config):
                result.status, result.detail = "shapes differ", "its config has other shapes"
                return result
            self._compare(result, base, self.reader.tensors(base))
        except EvaluationError as error:
            result.status, result.detail = "unreadable", error.detail
        return result

    def _compare(
        self, result: CandidateResult, base: hub.WeightsListing, tensors: dict[str, TensorEntry]
    ) -> None:
        cap = settings.LINEAGE_MAX_BYTES_PER_TENSOR
        names = select_tensors(
            self.tensors, tensors, limit=settings.LINEAGE_MAX_TENSORS, max_row_bytes=cap
        )
        if not names:
            result.status = "shapes differ"
            result.detail = "no matrix of the same name and shape in both"
            return
        for name in names:
            if name not in self.slabs:
                self.slabs[name] = self.reader.rows(
                    self.model.repo_id, self.model.commit_sha, self.tensors[name], cap
                )
            theirs = self.reader.rows(base.repo_id, base.commit_sha, tensors[name], cap)
            result.tensors.append(
                compare_slabs(name, self.tensors[name].shape, self.slabs[name], theirs)
            )
