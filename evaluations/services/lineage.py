"""The lineage signal's writes: a check of an evaluated commit against the base its card
names, and moderators' changes to the candidate bases.

A verdict of "closer to another candidate" or "unrelated to the named base" opens a flag for
moderators, as a score gap does. A check is evidence, not proof (software-only identity tests
can be fooled both ways): the flag's reason says what the verdict does and does not mean.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from evaluations.generation import generation_bump
from evaluations.lineage import MEANING, Outcome
from evaluations.lineage.configs import is_repo_id
from evaluations.models import (
    Flag,
    FlagKind,
    LineageBaseAction,
    LineageCheck,
    Revision,
)
from evaluations.services.flags import provenance_flag_open
from evaluations.services.permissions import User, clean_reason, require_moderator


def lineage_check_record(
    *,
    revision_id: int,
    named_bases: list[str],
    outcome: Outcome,
    candidates: list[dict[str, Any]],
    bytes_read: int,
    weights_bytes: int,
    settings_used: dict[str, Any] | None = None,
) -> LineageCheck:
    """Record one check of the commit; an alarm opens a flag for moderators."""
    with transaction.atomic():
        revision = Revision.objects.select_related("repo").get(id=revision_id)
        check = LineageCheck.objects.create(
            repo=revision.repo,
            revision=revision,
            named_bases=named_bases,
            candidates=[candidate["hub_id"] for candidate in candidates],
            verdict=outcome.verdict,
            summary=outcome.summary,
            closer_to=outcome.closer_to,
            evidence={"candidates": candidates, "settings": settings_used or {}},
            bytes_read=bytes_read,
            weights_bytes=weights_bytes,
        )
        if check.is_alarm:
            _open_flag(check)
        generation_bump()  # the model page shows the check
    return check


def _open_flag(check: LineageCheck) -> None:
    reason = (
        f"Lineage: {check.summary} Checked commit {check.revision.commit_sha[:10]}, "
        f"card names {', '.join(check.named_bases)}. {MEANING[check.verdict]}"
    )
    provenance_flag_open(
        Flag(kind=FlagKind.LINEAGE, lineage_check=check),
        reason=reason,
        evidence={
            "lineage_check": check.id,
            "verdict": check.verdict,
            "named_bases": check.named_bases,
            "closer_to": check.closer_to,
            "commit_sha": check.revision.commit_sha,
        },
    )


def lineage_base_add(*, user: User, hub_id: str, reason: str) -> LineageBaseAction:
    """A moderator adds a base to the candidates every later check compares."""
    return _base_action(user, hub_id, reason, LineageBaseAction.Action.ADD)


def lineage_base_retire(*, user: User, hub_id: str, reason: str) -> LineageBaseAction:
    """A moderator retires a base (one from the settings too): later checks skip it."""
    return _base_action(user, hub_id, reason, LineageBaseAction.Action.RETIRE)


def _base_action(user: User, hub_id: str, reason: str, action: str) -> LineageBaseAction:
    actor = require_moderator(user)
    hub_id = (hub_id or "").strip()
    if not is_repo_id(hub_id):
        raise ValidationError("Name the base as a hub repo id, like meta-llama/Llama-3.1-8B.")
    return LineageBaseAction.objects.create(
        hub_id=hub_id, action=action, reason=clean_reason(reason), actor=actor
    )
