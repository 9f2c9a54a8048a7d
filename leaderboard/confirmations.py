"""What a page says once claims are recorded: each claim recorded, and any claim-matched run
the site queued to measure them (linked). Messages carry the markup, built escaped."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from evaluations.models import Claim
from evaluations.selectors.runs import claim_matched_runs_since
from leaderboard.templatetags.scores import percent


def claim_value(claim: Claim) -> str:
    """72.5 % (0-shot); "withdrawn" for a withdrawal."""
    if claim.withdrawn:
        return "withdrawn"
    value = f"{percent(claim.value)} %" if claim.value is not None else claim.typed_value
    shots = f"{claim.shots}-shot" if claim.shots is not None else "shots not stated"
    return f"{value} ({shots})"


def claims_recorded(claims: Sequence[Claim]) -> SafeString:
    """“Recorded 2 claims: #7 Smoke ARC 72.5 % (0-shot), …”, then the runs queued for them."""
    if not claims:
        return format_html("{}", "No claims were entered.")
    listed = format_html_join(
        ", ",
        "#{} {} {}{}",
        (
            (
                claim.id,
                claim.label,
                claim_value(claim),
                f" (replaces claim #{claim.supersedes_id})" if claim.supersedes_id else "",
            )
            for claim in claims
        ),
    )
    count = len(claims)
    recorded = format_html("Recorded {} claim{}: {}.", count, "" if count == 1 else "s", listed)
    return format_html("{}{}", recorded, queued_for(claims))


def queued_for(claims: Sequence[Claim]) -> SafeString:
    runs = claim_matched_runs_since(claims[0].repo_id, claims[0].created_at)
    if not runs:
        return SafeString("")
    links = format_html_join(
        ", ", '<a href="{}">run #{}</a>', ((reverse("run-detail", args=[r.id]), r.id) for r in runs)
    )
    return format_html(" Queued to measure them in the claimed setting: {}.", links)
