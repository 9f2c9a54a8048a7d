"""The re-upload watch: ask the hub where each evaluated repo's ref points now.

One beat tick takes a bounded batch of repos, those checked longest ago first, and asks the hub
once per repo (metadata only). A hub error is the watch's outcome for that repo, never the
tick's end: the next repo is asked all the same.
"""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings

from evaluations.errors import EvaluationError
from evaluations.models import WatchOutcome
from evaluations.selectors.provenance import watch_batch
from evaluations.services import provenance
from workers import hub

logger = logging.getLogger(__name__)

OUTCOME_OF_ERROR = {
    "eval:user:repo-not-found": WatchOutcome.REPO_GONE,
    "eval:user:gated": WatchOutcome.GATED,
    "eval:user:revision-not-found": WatchOutcome.REF_GONE,
    "eval:infra:hub-unreachable": WatchOutcome.HUB_UNREACHABLE,
}


def watch_reuploads(limit: int | None = None) -> dict[str, int]:
    """Check one batch; return how many repos ended each way (an event opened, none, or the
    hub's error)."""
    counts: dict[str, int] = {}
    for target in watch_batch(limit or settings.PROVENANCE_WATCH_BATCH):
        outcome = _check(target.repo_id, target.hub_id, target.ref)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _check(repo_id: int, hub_id: str, ref: str) -> str:
    try:
        listing = hub.ref_listing(hub_id, ref)
    except EvaluationError as error:
        outcome = OUTCOME_OF_ERROR.get(error.code, WatchOutcome.HUB_ERROR)
        provenance.watch_record_failure(
            repo_id=repo_id, ref=ref, outcome=outcome, detail=error.detail
        )
        return outcome
    except Exception as error:  # an answer the client could not read: this repo only
        logger.warning("re-upload watch of %s failed", hub_id, exc_info=True)
        detail = f"{type(error).__name__}: {error}"
        provenance.watch_record_failure(
            repo_id=repo_id, ref=ref, outcome=WatchOutcome.HUB_ERROR, detail=detail
        )
        return WatchOutcome.HUB_ERROR
    event = provenance.watch_record_commit(
        repo_id=repo_id,
        ref=ref,
        commit_sha=listing.commit_sha,
        committed_at=listing.committed_at,
        files=[dataclasses.asdict(file) for file in listing.files],
    )
    if event is not None:
        logger.info("re-upload of %s: %s → %s", hub_id, event.old_revision, listing.commit_sha)
    return "event-opened" if event is not None else "no-new-event"
