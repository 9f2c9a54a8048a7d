"""Claims from an evaluated commit's model card and ``.eval_results`` files.

The worker reads the files from the hub; this reads the claims in them and records them, once
per commit, source and reporter (one family each for the Holm correction). Cards come from
strangers: a card the reader refuses, or a source with more claims than one batch takes,
costs the run nothing, and the run page says what was left out and why (``card_import_note``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError

from evaluations.cards import CardClaim, CardError, claims_from_card_data, claims_from_eval_results
from evaluations.catalogue import BENCHMARKS
from evaluations.models import Claim, ClaimSource, EvaluationRun, Revision
from evaluations.services.claims import MAX_CLAIMS_PER_BATCH, ClaimInput, claims_import_card

SOURCES = {
    "eval-results": ClaimSource.EVAL_RESULTS,
    "eval-results-community": ClaimSource.THIRD_PARTY,
}
CARD_REPORTER = "the model card"


@dataclass(frozen=True)
class ResultsFile:
    """One ``.eval_results`` file as the worker read it."""

    path: str
    text: str
    source_ref: str = ""  # "refs/pr/N" when read from an open pull request
    base_text: str = ""  # the same path at the evaluated commit, for a pull request's file


def card_claims_import(
    *,
    run_id: int,
    card_data: dict[str, Any],
    results_files: Sequence[ResultsFile] = (),
    notes: Sequence[str] = (),
) -> list[Claim]:
    """Record the claims of the run's commit; ``notes`` are the worker's own (a file it could
    not read). Every refusal and limit ends in the run's ``card_import_note``."""
    run = EvaluationRun.objects.select_related("revision", "submission__repo").get(id=run_id)
    repo_id, said = run.submission.repo.hub_id, list(notes)
    cards = _read(partial(claims_from_card_data, card_data, repo_id=repo_id), said)
    for file in results_files:
        cards += _read(partial(_results_claims, file, repo_id), said, file.path)
    recorded: list[Claim] = []
    for (source, reporter), group in _groups(cards).items():
        recorded += _record(repo_id, run.revision, source, reporter, group, said)
    EvaluationRun.objects.filter(id=run_id).update(card_import_note=" ".join(said))
    return recorded


def _results_claims(file: ResultsFile, repo_id: str) -> list[CardClaim]:
    return claims_from_eval_results(
        file.text, repo_id=repo_id, source_ref=file.source_ref, base_text=file.base_text
    )


def _read(
    reader: Callable[[], list[CardClaim]], said: list[str], where: str = ""
) -> list[CardClaim]:
    try:
        return reader()
    except CardError as error:
        said.append(f"Not imported: {where or 'the model card'}: {error}.")
        return []


def _groups(cards: list[CardClaim]) -> dict[tuple[str, str], list[CardClaim]]:
    """One family per source and reporter: the card's own claims, each community member's."""
    groups: dict[tuple[str, str], list[CardClaim]] = {}
    for card in cards:
        key = (SOURCES.get(card.source_kind, ClaimSource.MODEL_CARD), card.reported_by or "")
        groups.setdefault(key, []).append(card)
    return groups


def _record(
    repo_id: str,
    revision: Revision | None,
    source: str,
    reporter: str,
    cards: list[CardClaim],
    said: list[str],
) -> list[Claim]:
    what = _source_words(source, reporter)
    if len(cards) > MAX_CLAIMS_PER_BATCH:
        said.append(
            f"{what} holds {len(cards)} claims: the first {MAX_CLAIMS_PER_BATCH} were imported "
            f"and {len(cards) - MAX_CLAIMS_PER_BATCH} left out, since at most "
            f"{MAX_CLAIMS_PER_BATCH} claims are imported from one source."
        )
        cards = cards[:MAX_CLAIMS_PER_BATCH]
    if revision is None:
        return []  # the run has no inspected commit: nothing to pin the claims to
    try:
        return claims_import_card(
            repo_id=repo_id,
            revision=revision,
            claims=[claim_input(card) for card in cards],
            source=source,
            reported_by=reporter or CARD_REPORTER,
        )
    except ValidationError as error:
        said.append(f"{what} was not imported: {' '.join(error.messages)}")
        return []


def _source_words(source: str, reporter: str) -> str:
    if source == ClaimSource.THIRD_PARTY:
        return f"The hub results reported by {reporter}"
    if source == ClaimSource.EVAL_RESULTS:
        return "The repo's .eval_results files"
    return "The model card's model-index"


def claim_input(card: CardClaim) -> ClaimInput:
    """A card claim as the claims service takes it. The reader already matched the card's
    metric name to the catalogue's (aliases such as GSM8K's "acc" for exact match): a
    comparable claim takes the catalogue's name."""
    metric = card.metric or ""
    if card.comparable and card.benchmark_key:
        metric = BENCHMARKS[card.benchmark_key].metric
    hub = card.hub
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
        source_org=hub.source_org if hub else "",
        source_ref=hub.source_ref if hub else "",
        dataset_id=hub.dataset_id if hub else "",
        dataset_task_id=hub.task_id if hub else "",
        dataset_revision=hub.dataset_revision if hub else "",
        verify_token=hub.verify_token if hub else "",
        result_date=hub.date if hub else None,
    )
