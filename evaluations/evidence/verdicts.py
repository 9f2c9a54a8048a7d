"""The verdict a claim gets: one type, one order, one label each (DISCREPANCY.md, "Verdicts").

Pure: the rule, the matcher, the read tables and every page and export use this type, so a
verdict is spelled and ranked in one place only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Verdict(StrEnum):
    """Mildest first, worst last: a repo's headline verdict is the worst of its claims."""

    SUPPORTED = "supported"
    UNDER_CLAIM = "under-claim"
    INCONCLUSIVE = "inconclusive"
    PENDING = "pending"
    NOT_COMPARABLE = "not comparable"
    HARNESS_IN_DOUBT = "harness in doubt"
    CONTRADICTED = "contradicted"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def css(self) -> str:
        """The badge's class suffix: ``verdict-harness-in-doubt``."""
        return self.value.replace(" ", "-")


_ORDER = list(Verdict)
_LABELS = {
    Verdict.SUPPORTED: "within the tolerance of the measurement, with 95 % confidence",
    Verdict.UNDER_CLAIM: "lower than the measurement: shown, never flagged",
    Verdict.INCONCLUSIVE: "comparable, but the items cannot tell the gap from noise",
    Verdict.PENDING: "a run in the claimed setting will settle it",
    Verdict.NOT_COMPARABLE: "no run of ours can measure the claimed setting",
    Verdict.HARNESS_IN_DOUBT: "the test would flag, but the run's health check failed",
    Verdict.CONTRADICTED: "the measurement contradicts the claim",
}


def worst(verdicts: Iterable[Verdict | str]) -> Verdict | None:
    """The worst of the verdicts; None for none."""
    found = [Verdict(verdict) for verdict in verdicts]
    return max(found, key=lambda verdict: verdict.rank) if found else None
