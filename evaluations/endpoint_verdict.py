"""What an endpoint check concludes from its evidence, in one place.

- "misconfigured": a pre-flight check failed (sampling parameters ignored, prompt-token counts
  or chat template unlike the repo's). The comparison would then blame the model for the
  setup, so it is not read as "another model".
- "differs": the equality test rejects at ``alpha``, or a benchmark's paired score difference
  has a 95 % interval that excludes zero (on at least ``min_items`` items).
- "inconclusive": the check could not finish, or found too little to compare.
- "consistent": it found nothing that tells the endpoint from the released weights. That is
  not proof they are the same: it is the absence of evidence at this test's power.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def endpoint_verdict(
    *,
    preflight: Sequence[Mapping[str, Any]],
    mmd: Mapping[str, Any] | None,
    scores: Sequence[Mapping[str, Any]],
    error: str,
    alpha: float,
    min_items: int,
) -> tuple[str, str]:
    """(verdict, summary) of one check."""
    failed = [row["title"] for row in preflight if row.get("passed") is False]
    if failed:
        return "misconfigured", f"Pre-flight failed: {', '.join(failed)}."
    reasons = []
    if mmd is not None and mmd["p_value"] < alpha:
        reasons.append(
            f"the equality test rejects (MMD {mmd['statistic']:.4f}, p = {mmd['p_value']:.3f} "
            f"< {alpha:g}, {mmd['prompts']} prompts)"
        )
    for row in scores:
        if row.get("difference") is None or row.get("half_width_95") is None:
            continue
        if row["n"] < min_items:
            continue
        low = row["difference"] - row["half_width_95"]
        high = row["difference"] + row["half_width_95"]
        if low > 0 or high < 0:
            reasons.append(
                f"{row['display_name']} differs by {row['difference'] * 100:+.1f} points "
                f"(95 % interval {low * 100:+.1f} to {high * 100:+.1f}, {row['n']} items)"
            )
    if reasons:
        return "differs", "Differs from the released weights: " + "; ".join(reasons) + "."
    compared = [row for row in scores if row.get("difference") is not None]
    if error or mmd is None:
        return "inconclusive", f"The check did not finish: {error or 'no equality test'}."
    if scores and not any(row["n"] >= min_items for row in compared):
        return "inconclusive", f"Fewer than {min_items} paired items on every benchmark."
    return "consistent", (
        f"Consistent with the released weights: the equality test does not reject "
        f"(p = {mmd['p_value']:.3f}) and no paired score difference excludes zero."
    )
