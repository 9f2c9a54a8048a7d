"""Evidence changed: one explicit step after a run is recorded, a claim is added or
corrected, or a moderator decides.

In this order: the repo's flags follow the evidence (``flags_recompute``); the read tables
the rankings show are refreshed; the site's generation is bumped, so every cached page and
chart is new; and claims that name a setting no run has measured get a claim-matched run.
The caller holds the transaction, so nobody sees the new evidence without all four.
"""

from __future__ import annotations

from evaluations import selectors
from evaluations.catalogue import SUITES
from evaluations.evidence.matching import claim_evidence
from evaluations.generation import generation_bump
from evaluations.models import Submission
from evaluations.services.flags import flags_recompute
from evaluations.services.read_models import ranking_entries_refresh
from evaluations.services.submissions import submission_create


def evidence_changed(*, repo_id: int, queue_matched_runs: bool = True) -> None:
    """Bring everything derived from the repo's evidence up to date, in order. A moderator's
    decision changes no measurement, so it queues no run (``queue_matched_runs=False``)."""
    flags_recompute(repo_id=repo_id)
    ranking_entries_refresh(repo_id=repo_id)
    generation_bump()
    if queue_matched_runs:
        claim_matched_runs_queue(repo_id=repo_id)


def claim_matched_runs_queue(*, repo_id: int) -> Submission | None:
    """Queue one run (one model load) of the benchmarks whose claims name a setting no
    measurement of the latest evaluated commit has, where the catalogue can express it."""
    latest = selectors.latest_full_run(repo_id)
    if latest is None or latest.revision is None:
        return None
    wanted = sorted(
        {
            (row.claim.benchmark, row.claim.shots, bool(row.claim.chat_template))
            for row in claim_evidence(repo_id)
            if row.needs_run
        }
    )
    if not wanted:
        return None
    chat_template = wanted[0][2]  # one setting per run; the rest follow after it finishes
    tasks = [
        {"benchmark": key, "shots": shots} for key, shots, chat in wanted if chat == chat_template
    ]
    suite = next(s for s, keys in SUITES.items() if tasks[0]["benchmark"] in keys)
    tasks = [t for t in tasks if t["benchmark"] in SUITES[suite]]
    already = Submission.objects.filter(
        repo_id=repo_id,
        ref=latest.revision.commit_sha,
        tasks=tasks,
        chat_template=chat_template,
    )
    if already.exists():  # queued, done or failed: never loop on a claim-matched run
        return None
    outcome = submission_create(
        repo_id=latest.submission.repo.hub_id,
        ref=latest.revision.commit_sha,
        suite=suite,
        precision=latest.submission.precision,
        chat_template=chat_template,
        backend=latest.submission.backend,
        tasks=tasks,
    )
    return outcome.submission
