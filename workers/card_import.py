"""Claims from a model card, as the importer reads them, turned into service inputs."""

from __future__ import annotations

from evaluations.cards import CardClaim
from evaluations.catalogue import BENCHMARKS
from evaluations.models import ClaimSource
from evaluations.services import ClaimInput

SOURCES = {
    "eval-results": ClaimSource.EVAL_RESULTS,
    "eval-results-community": ClaimSource.THIRD_PARTY,
}


def claim_input(card: CardClaim) -> ClaimInput:
    # The importer already matched the card's metric name to the catalogue's (aliases such
    # as GSM8K's "acc" for exact match); a comparable claim takes the catalogue's name.
    metric = card.metric or ""
    if card.comparable and card.benchmark_key:
        metric = BENCHMARKS[card.benchmark_key].metric
    return ClaimInput(
        benchmark=card.benchmark_key or "",
        label=card.label,
        value=None,
        fraction=card.value,
        stderr_fraction=card.stated_stderr,
        unit=card.unit or "",
        unit_reason=card.unit_reason,
        typed_value=card.raw_value,
        shots=card.shots,
        chat_template=card.chat_template,
        chain_of_thought=card.chain_of_thought,
        metric=metric,
        not_comparable_reason=card.reason,
        source_url=card.source_url or "",
        source_name=card.source_name or card.source_kind,
        inherited_from=card.inherited_from or "",
    )


def source_of(card: CardClaim) -> str:
    return SOURCES.get(card.source_kind, ClaimSource.MODEL_CARD)
