"""Reads of provenance: which repos the re-upload watch asks about next, and what a model's
page and the API show of its provenance signals (re-uploads, lineage against the named base;
each a ``Signal`` of the same shape)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from evaluations.evidence.matching import ClaimEvidence
from evaluations.evidence.verdicts import Verdict, worst
from evaluations.models import (
    Claim,
    EvaluationRun,
    LineageCheck,
    ModelRepo,
    ProvenanceEvent,
    Revision,
    Score,
)
from evaluations.selectors.endpoints import (
    EndpointView,
    endpoint_signal_verdict,
    endpoint_views,
)
from evaluations.selectors.lineage import latest_lineage_check, lineage_meaning, lineage_rows

SHA_PATTERN = r"^[0-9a-f]{40}$"


@dataclass(frozen=True)
class WatchTarget:
    repo_id: int
    hub_id: str
    ref: str


def watch_batch(limit: int) -> list[WatchTarget]:
    """Evaluated repos, those never checked first, then those checked longest ago.

    The ref watched is the newest branch or tag a finished whole-suite run was submitted at
    ("main" when every such run named a commit: a pinned commit never moves, the model's main
    branch does)."""
    evaluated = EvaluationRun.objects.finished_ok().whole_suite()
    refs = (
        evaluated.filter(submission__repo=OuterRef("pk"))
        .exclude(submission__ref__regex=SHA_PATTERN)
        .order_by("-finished_at", "-id")
        .values("submission__ref")[:1]
    )
    repos = (
        ModelRepo.objects.filter(Exists(evaluated.filter(submission__repo=OuterRef("pk"))))
        .annotate(watched_ref=Subquery(refs))
        .order_by(F("watch__checked_at").asc(nulls_first=True), "id")
        .values_list("id", "hub_id", "watched_ref")[:limit]
    )
    return [WatchTarget(repo_id, hub_id, ref or "main") for repo_id, hub_id, ref in repos]


def evaluated_revision(repo_id: int) -> Revision | None:
    """The commit of the repo's latest finished whole-suite run: "the model" as measured."""
    run = (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__repo_id=repo_id, revision__isnull=False)
        .select_related("revision")
        .order_by("-finished_at", "-id")
        .first()
    )
    return run.revision if run is not None else None


def claims_on(revision: Revision, *, before: datetime | None = None) -> QuerySet[Claim]:
    """Claims made for the commit, and claims about the model in general (no commit) made
    while it was the one evaluated (before ``before``)."""
    general = Q(revision__isnull=True)
    if before is not None:
        general &= Q(created_at__lt=before)
    return Claim.objects.filter(Q(revision=revision) | general, repo_id=revision.repo_id)


# --- the model page's panel -----------------------------------------------------------------


@dataclass(frozen=True)
class CommitResult:
    """One commit's latest finished whole-suite run and its scores, by benchmark."""

    commit_sha: str
    run: EvaluationRun | None
    scores: dict[str, Score]


@dataclass(frozen=True)
class BenchmarkPair:
    benchmark: str
    display_name: str
    before: Score | None
    after: Score | None


@dataclass
class ReuploadView:
    event: ProvenanceEvent
    claims_count: int
    first_claim_at: datetime | None
    days_later: int | None  # from the first claim (or the evaluation) to the new commit
    before: CommitResult
    after: CommitResult
    pairs: list[BenchmarkPair] = field(default_factory=list)
    queued_run: EvaluationRun | None = None  # the re-evaluation, while it has not finished


@dataclass
class Signal:
    """One provenance signal on the model page: its verdict and its evidence (the page links
    its raw data, the API's provenance endpoint)."""

    key: str
    title: str
    verdict: str  # "consistent", "changed", "flagged", "not checked"
    summary: str
    reuploads: list[ReuploadView] = field(default_factory=list)
    checked_at: datetime | None = None
    watch_note: str = ""
    verdict_counts: list[tuple[str, int]] = field(default_factory=list)  # score gap: claims
    meaning: str = ""  # what the verdict does and does not mean
    lineage: LineageCheck | None = None
    endpoints: list[EndpointView] = field(default_factory=list)


def _commit_result(repo_id: int, commit_sha: str) -> CommitResult:
    run = (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__repo_id=repo_id, revision__commit_sha=commit_sha)
        .order_by("-finished_at", "-id")
        .first()
    )
    scores = {score.benchmark: score for score in run.scores.all()} if run is not None else {}
    return CommitResult(commit_sha, run, scores)


def _pairs(before: CommitResult, after: CommitResult) -> list[BenchmarkPair]:
    keys = sorted(before.scores.keys() | after.scores.keys())
    pairs = []
    for key in keys:
        old, new = before.scores.get(key), after.scores.get(key)
        shown = old or new
        name = shown.display_name if shown is not None else key
        pairs.append(BenchmarkPair(key, name, old, new))
    return pairs


def reupload_views(repo: ModelRepo) -> list[ReuploadView]:
    """The repo's re-upload events, newest first, each with the claims made on the replaced
    commit and the two commits' results side by side."""
    if not getattr(repo, "has_reuploads", True):  # ``ModelRepo.objects.with_presence``
        return []
    events = repo.provenance_events.select_related("old_revision", "reevaluation", "flag").order_by(
        "-detected_at", "-id"
    )
    views = []
    for event in events:
        claims = claims_on(event.old_revision, before=event.detected_at)
        first = claims.order_by("created_at").values_list("created_at", flat=True).first()
        start = first or event.old_revision.inspected_at
        end = event.new_commit_at or event.detected_at
        before = _commit_result(repo.id, event.old_revision.commit_sha)
        after = _commit_result(repo.id, event.new_commit_sha)
        queued = event.reevaluation
        views.append(
            ReuploadView(
                event=event,
                claims_count=claims.count(),
                first_claim_at=first,
                days_later=max(0, (end - start).days),
                before=before,
                after=after,
                pairs=_pairs(before, after),
                queued_run=queued if queued is not None and after.run is None else None,
            )
        )
    return views


# The headline (worst) claim verdict → the signal's verdict and its sentence.
SCORE_GAP_SUMMARIES = {
    Verdict.CONTRADICTED: ("flagged", "A claimed score is contradicted by our measurement."),
    Verdict.HARNESS_IN_DOUBT: (
        "inconclusive",
        "A run's health check puts its measurement in doubt; a moderator looks at it.",
    ),
    Verdict.NOT_COMPARABLE: (
        "inconclusive",
        "A claim names a setting our runs cannot measure, so it cannot be checked.",
    ),
    Verdict.PENDING: ("pending", "A run in the claimed setting will settle a claim."),
    Verdict.INCONCLUSIVE: (
        "inconclusive",
        "A claim's gap to the measurement cannot be told from noise with the items measured.",
    ),
    Verdict.UNDER_CLAIM: ("consistent", "No claimed score is above our measurement."),
    Verdict.SUPPORTED: ("consistent", "Every claimed score agrees with our measurement."),
}


def score_gap_signal(evidence: Sequence[ClaimEvidence]) -> Signal:
    """The first sign of an inflated launch: claimed scores the measurement contradicts.
    The claims table on the page holds its evidence; this is its one-line summary."""
    counts = Counter(row.verdict for row in evidence)
    ordered = [(str(verdict), counts[verdict]) for verdict in reversed(Verdict) if counts[verdict]]
    headline = worst(row.verdict for row in evidence)
    if headline is None:
        verdict, summary = "not checked", "The author has claimed no scores to check."
    else:
        verdict, summary = SCORE_GAP_SUMMARIES[headline]
    return Signal(
        key="score-gap",
        title="Claimed vs measured scores",
        verdict=verdict,
        summary=summary,
        verdict_counts=ordered,
    )


def provenance_signals(
    repo: ModelRepo, evidence: Sequence[ClaimEvidence] | None = None
) -> list[Signal]:
    """The model's provenance signals, in the order the page shows them (the score gap
    first when the claims' ``evidence`` is given: the page has it already)."""
    signals = [score_gap_signal(evidence)] if evidence is not None else []
    reuploads = reupload_views(repo)
    watch = getattr(repo, "watch", None)
    flagged = any(hasattr(view.event, "flag") for view in reuploads)
    failed = watch is not None and watch.outcome not in ("", "unchanged", "new-commit")
    if flagged:
        verdict, summary = "flagged", "Weights were replaced after claims were made."
    elif reuploads:
        verdict, summary = "changed", "Files changed after evaluation; no weights after claims."
    elif failed:
        verdict, summary = "inconclusive", "The hub could not say which commit the ref names now."
    elif watch is not None and watch.checked_at is not None:
        verdict, summary = "consistent", "The hub still serves the commit evaluated."
    else:
        verdict, summary = "not checked", "The re-upload watch has not asked the hub yet."
    note = ""
    if watch is not None and failed:
        note = f"Last check: {watch.get_outcome_display()}. {watch.detail}".strip()
    return [
        *signals,
        Signal(
            key="re-upload",
            title="Re-upload watch",
            verdict=verdict,
            summary=summary,
            reuploads=reuploads,
            checked_at=watch.checked_at if watch is not None else None,
            watch_note=note,
        ),
        lineage_signal(repo),
        endpoint_signal(repo),
    ]


LINEAGE_BADGES = {
    "consistent": "consistent",
    "closer-to-other": "flagged",
    "unrelated": "flagged",
    "inconclusive": "inconclusive",
    "no-named-base": "no base named",
}


def lineage_signal(repo: ModelRepo) -> Signal:
    """The latest lineage check of the repo: does the evaluated commit come from the base its
    card names?"""
    check = latest_lineage_check(repo)
    if check is None:
        summary = "The weights have not been compared with the base the card names yet."
        return Signal(key="lineage", title="Lineage", verdict="not checked", summary=summary)
    return Signal(
        key="lineage",
        title="Lineage",
        verdict=LINEAGE_BADGES.get(check.verdict, check.verdict),
        summary=check.summary,
        checked_at=check.checked_at,
        meaning=lineage_meaning(check.verdict),
        lineage=check,
    )


def endpoint_signal(repo: ModelRepo) -> Signal:
    """The hosted endpoints' signal: the latest check of each endpoint in service."""
    views = endpoint_views(repo)
    verdict, summary = endpoint_signal_verdict(views)
    latest = [view.latest.finished_at for view in views if view.latest is not None]
    return Signal(
        key="endpoint",
        title="Hosted endpoint",
        verdict=verdict,
        summary=summary,
        checked_at=max(latest) if latest else None,
        endpoints=views,
    )


def provenance_rows(repo: ModelRepo) -> list[dict[str, Any]]:
    """The raw re-upload events, then the lineage checks, as the API returns them."""
    rows = []
    for view in reupload_views(repo):
        event = view.event
        flag = getattr(event, "flag", None)
        new_run = view.after.run or event.reevaluation
        rows.append(
            {
                "kind": event.kind,
                "ref": event.ref,
                "old_commit_sha": event.old_revision.commit_sha,
                "new_commit_sha": event.new_commit_sha,
                "new_commit_at": event.new_commit_at,
                "detected_at": event.detected_at,
                "changes": event.changes,
                "weights_changed": event.weights_changed,
                "reevaluated": event.reevaluated,
                "claims_on_old_commit": view.claims_count,
                "old_run_id": view.before.run.id if view.before.run else None,
                "new_run_id": new_run.id if new_run is not None else None,
                "flag_id": flag.id if flag is not None else None,
            }
        )
    return rows + lineage_rows(repo)
