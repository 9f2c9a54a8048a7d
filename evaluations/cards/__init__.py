"""Claims from model cards: turn a README's ``model-index`` or a hub ``.eval_results`` file into
claim drafts.

Pure: no Django, no network. Every draft says which benchmark it is (or that the catalogue does
not know it), the value as a raw fraction, how the unit was decided, and, when it cannot be
compared with a measurement, why. The design note MODEL_CARDS.md lists the shapes handled.

Choices: results of non-LLM tasks (speech, vision, classifiers) are skipped silently; other
leaderboards' blocks (Ko-ARC, ...) and variants (MATH-500, MMLU-Redux) are kept as unknown
benchmarks, never comparable.

The package's modules follow the reader's seams: ``model_index`` and ``eval_results`` read the
two formats; ``names`` resolves benchmarks, shots and sources from ``tables``; ``units`` decides
the scale; ``claim`` assembles a draft (``draft``) into a ``CardClaim``; ``loading`` reads YAML.
"""

from evaluations.cards.claim import claims_to_json
from evaluations.cards.draft import CardClaim, CardError
from evaluations.cards.eval_results import claims_from_eval_results
from evaluations.cards.model_index import claims_from_card_data, claims_from_readme

__all__ = [
    "CardClaim",
    "CardError",
    "claims_from_card_data",
    "claims_from_eval_results",
    "claims_from_readme",
    "claims_to_json",
]
