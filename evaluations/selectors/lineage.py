"""Reads of the lineage signal: which evaluated commits the check takes next, the candidate
bases it compares, and what a model's page and the API show of its checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef

from evaluations.lineage import MEANING
from evaluations.models import (
    EvaluationRun,
    LineageBaseAction,
    LineageCheck,
    ModelRepo,
    Revision,
)


@dataclass(frozen=True)
class LineageTarget:
    revision_id: int
    hub_id: str
    commit_sha: str


def lineage_batch(limit: int) -> list[LineageTarget]:
    """Evaluated commits (a finished whole-suite run) no lineage check has looked at yet,
    oldest first."""
    evaluated = EvaluationRun.objects.finished_ok().whole_suite().filter(revision=OuterRef("pk"))
    checked = LineageCheck.objects.filter(revision=OuterRef("pk"))
    rows = (
        Revision.objects.filter(Exists(evaluated))
        .exclude(Exists(checked))
        .order_by("id")
        .values_list("id", "repo__hub_id", "commit_sha")[:limit]
    )
    return [LineageTarget(*row) for row in rows]


def lineage_candidates() -> list[str]:
    """The candidate bases: the settings' list, then those moderators added, less those a
    moderator retired (each base's latest action counts)."""
    latest: dict[str, str] = {}
    for hub_id, action in LineageBaseAction.objects.order_by("created_at", "id").values_list(
        "hub_id", "action"
    ):
        latest[hub_id] = action
    bases = list(settings.LINEAGE_CANDIDATE_BASES) + [
        hub_id for hub_id, action in latest.items() if action == LineageBaseAction.Action.ADD
    ]
    retired = {h for h, a in latest.items() if a == LineageBaseAction.Action.RETIRE}
    return [hub_id for hub_id in dict.fromkeys(bases) if hub_id not in retired]


def lineage_base_actions() -> list[LineageBaseAction]:
    return list(LineageBaseAction.objects.order_by("-created_at", "-id")[:50])


def latest_lineage_check(repo: ModelRepo) -> LineageCheck | None:
    if not getattr(repo, "has_lineage_checks", True):  # ``ModelRepo.objects.with_presence``
        return None
    return (
        repo.lineage_checks.select_related("revision", "flag")
        .order_by("-checked_at", "-id")
        .first()
    )


def lineage_meaning(verdict: str) -> str:
    """What the verdict does and does not mean, in a sentence or two."""
    return MEANING.get(verdict, "")


def lineage_rows(repo: ModelRepo) -> list[dict[str, Any]]:
    """The repo's lineage checks, newest first, as the API returns them."""
    checks = repo.lineage_checks.select_related("revision", "flag").order_by("-checked_at", "-id")
    return [
        {
            "kind": "lineage",
            "commit_sha": check.revision.commit_sha,
            "checked_at": check.checked_at,
            "named_bases": check.named_bases,
            "candidates": check.candidates,
            "verdict": check.verdict,
            "summary": check.summary,
            "meaning": lineage_meaning(check.verdict),
            "closer_to": check.closer_to or None,
            "bytes_read": check.bytes_read,
            "weights_bytes": check.weights_bytes,
            "evidence": check.evidence,
            "flag_id": check.flag.id if hasattr(check, "flag") else None,
        }
        for check in checks
    ]
