"""The one matcher of a claim with the measurement in its setting, and the claim's verdict.

Every reader of verdicts (the model page and its header, the API, the CSV, the rankings' read
table, the scatter, the flags) gets them from ``claim_evidence`` or ``evidence_for_repos``,
so no two of them can disagree: the rule judges each claim once, the run health check can
hold its flag back, and a moderator's decision in force outranks both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict

from django.db.models import QuerySet

from evaluations.catalogue import BENCHMARKS
from evaluations.evidence.health import health_doubts
from evaluations.evidence.rule import Comparison, Judgement, judge
from evaluations.evidence.verdicts import Verdict, worst
from evaluations.models import (
    DECISION_STATES,
    QUEUE_STATES,
    Claim,
    EvaluationRun,
    FlagEvent,
    FlagState,
    RunState,
    Score,
)


@dataclass(frozen=True)
class FlagReview:
    """A flag as the public sees it: the rule's state and the moderator's word on it."""

    flag_id: int
    rule_open: bool
    decision: FlagEvent | None  # the latest confirm or dismiss, else the latest author-asked
    stale: bool  # the rule opened or reopened the flag after it (see ``flags_with_state``)

    @property
    def in_force(self) -> bool:
        return (
            self.decision is not None and self.decision.state in DECISION_STATES and not self.stale
        )

    @property
    def stands(self) -> bool:
        if self.in_force:
            return self.decision is not None and self.decision.state == FlagState.CONFIRMED
        return self.rule_open


def flag_review(flag_id: int, events: list[FlagEvent]) -> FlagReview:
    """The review of one flag from its events, oldest first."""
    rule = [e for e in events if not e.is_moderation]
    decisions = [e for e in events if e.state in DECISION_STATES] or [
        e for e in events if e.state == FlagState.AUTHOR_ASKED
    ]
    decision = decisions[-1] if decisions else None
    stale = decision is not None and any(
        e.state in QUEUE_STATES and e.created_at > decision.created_at for e in rule
    )
    return FlagReview(
        flag_id=flag_id, rule_open=bool(rule and rule[-1].is_open), decision=decision, stale=stale
    )


class EvidenceNumbers(TypedDict, total=False):
    """The numbers a flag event keeps as its evidence: all of them, or none where the claim
    was not judged on a measurement."""

    claimed: float | None
    claimed_stderr: float
    measured: float
    measured_stderr: float | None
    measured_stderr_used: float
    n_items: int | None
    gap: float
    z: float | str
    p: float
    p_holm: float
    q: float
    p_support: float
    tolerance: float
    verdict: str
    health: dict[str, Any]
    run: int


@dataclass
class ClaimEvidence:
    """One current claim, the measurement in its setting (if any), and the verdict."""

    claim: Claim
    score: Score | None = None
    not_comparable_reason: str = ""
    needs_run: bool = False  # the catalogue can express the setting; no run has measured it
    judgement: Judgement | None = None
    review: FlagReview | None = None

    @property
    def rule_verdict(self) -> Verdict:
        """What the rule and the run health check say, before any moderator's decision."""
        if self.judgement is not None:
            return self.judgement.verdict
        return Verdict.NOT_COMPARABLE if never_comparable(self.claim) else Verdict.PENDING

    @property
    def verdict(self) -> Verdict:
        """The verdict in public: a moderator's decision in force outranks the rule's. A
        confirmed flag is contradicted; a dismissed one is neither contradicted nor
        supported by the evidence the moderator weighed: inconclusive."""
        verdict = self.rule_verdict
        if self.review is None or not self.review.in_force:
            return verdict
        if self.review.stands:
            return Verdict.CONTRADICTED
        if verdict in (Verdict.CONTRADICTED, Verdict.HARNESS_IN_DOUBT):
            return Verdict.INCONCLUSIVE
        return verdict

    @property
    def flagged(self) -> bool:
        """Whether the claim stands contradicted in public, as the rankings count it."""
        return self.verdict == Verdict.CONTRADICTED

    @property
    def severity(self) -> str | None:
        if self.verdict in (Verdict.CONTRADICTED, Verdict.HARNESS_IN_DOUBT) and self.judgement:
            return self.judgement.severity
        return None

    @property
    def sentence(self) -> str:
        """Why the claim has its verdict, in one sentence with the numbers."""
        decided = self.review is not None and self.review.in_force
        if decided and self.verdict != self.rule_verdict:
            assert self.review is not None and self.review.decision is not None
            return (
                f"A moderator {self.review.decision.state} the flag: "
                f"{self.review.decision.reason} (the automatic check said: "
                f"{self.judgement.explanation if self.judgement else self.rule_verdict})"
            )
        if self.judgement is not None:
            return self.judgement.explanation
        if self.rule_verdict == Verdict.NOT_COMPARABLE:
            return f"Not comparable: {self.not_comparable_reason}."
        return f"Pending: {self.not_comparable_reason or 'not measured yet'}."

    def evidence_numbers(self) -> EvidenceNumbers:
        j, s = self.judgement, self.score
        if j is None or s is None:
            return {}
        return {
            "claimed": self.claim.value,
            "claimed_stderr": j.claim_stderr_used,
            "measured": s.value,
            "measured_stderr": s.stderr,
            "measured_stderr_used": j.measured_stderr_used,
            "n_items": s.n_samples,
            "gap": j.gap,
            "z": _finite(j.z),
            "p": j.p_value,
            "p_holm": j.p_holm,
            "q": j.q_value,
            "p_support": j.p_support,
            "tolerance": j.tolerance,
            "verdict": str(j.verdict),
            "health": dict(s.health),
            "run": s.run_id,
        }


def _finite(z: float) -> float | str:
    return z if math.isfinite(z) else ("inf" if z > 0 else "-inf")


def headline_verdict(rows: list[ClaimEvidence]) -> str:
    """The worst verdict among a repo's current claims ("" when it claims nothing): the
    model page's header, the rankings and the API all show this one."""
    verdict = worst(row.verdict for row in rows)
    return str(verdict) if verdict else ""


def never_comparable(claim: Claim) -> str:
    """Reasons no run of ours can settle, whatever it measures."""
    if claim.not_comparable_reason:
        return claim.not_comparable_reason
    if not claim.benchmark:
        return f"“{claim.label}” is not a benchmark in the catalogue"
    if claim.value is None:
        return f"the value “{claim.typed_value}” could not be read as a score"
    benchmark = BENCHMARKS[claim.benchmark]
    if (claim.metric, claim.filter) != (benchmark.metric, benchmark.filter):
        return f"claimed {claim.metric or '?'}, measured {benchmark.metric} ({benchmark.filter})"
    if claim.shots is None:
        return "the number of shots was not stated"
    if claim.chain_of_thought:
        return "claimed with chain-of-thought prompting; measured without"
    if claim.system_prompt:
        return "claimed with a system prompt; measured without"
    return ""


def match(claim: Claim, scores: list[Score]) -> tuple[Score | None, str]:
    """The measurement in the claim's setting among a commit's scores (newest first), or why
    there is none."""
    fixed = never_comparable(claim)
    if fixed:
        return None, fixed
    candidates = [s for s in scores if s.benchmark == claim.benchmark]
    if not candidates:
        return None, "not measured yet"
    chat = bool(claim.chat_template)
    for score in candidates:
        if score.shots == claim.shots and score.run.submission.chat_template == chat:
            return score, ""
    nearest = candidates[0]
    gaps = []
    if nearest.shots != claim.shots:
        gaps.append(f"claimed {claim.shots}-shot, measured {nearest.shots}-shot")
    if nearest.run.submission.chat_template != chat:
        gaps.append(
            "claimed with"
            + ("" if chat else "out")
            + " the chat template, measured "
            + ("without" if chat else "with")
            + " it"
        )
    return None, "; ".join(gaps)


def claim_evidence(
    repo_id: int,
    *,
    runs: Iterable[EvaluationRun] | None = None,
    claims: Iterable[Claim] | None = None,
    flag_events: Iterable[FlagEvent] | None = None,
) -> list[ClaimEvidence]:
    """Every current claim of the repo with its measurement, judgement and review.

    What a caller has read already is not read again (the model page lists all three):
    ``runs``, every run of the repo's commits, each with its scores, submission and commit
    loaded (``selectors.model_revisions``); ``claims``, the repo's current claims in id
    order; ``flag_events``, every event of the repo's flags, oldest first, each with its
    flag."""
    scores = None if runs is None else scores_of_runs(runs)
    reviews = None if flag_events is None else _reviews_of(flag_events)
    current = None if claims is None else {repo_id: list(claims)}
    found = evidence_for_repos([repo_id], scores=scores, claims=current, reviews=reviews)
    return found.get(repo_id, [])


# Finished scores by commit, newest run first, and each repo's latest whole-suite commit.
MeasuredScores = tuple[dict[int | None, list[Score]], dict[int, int | None]]


def evidence_for_repos(
    repo_ids: Iterable[int] | QuerySet[Any],
    *,
    scores: MeasuredScores | None = None,
    claims: dict[int, list[Claim]] | None = None,
    reviews: dict[int, FlagReview] | None = None,
) -> dict[int, list[ClaimEvidence]]:
    """Every current claim of the repos with its evidence, by repo, in a fixed number of
    queries.

    A claim pinned to a commit is compared with that commit's runs; a claim about the model
    in general with the latest commit evaluated on the whole suite. Holm's family is a batch
    of claims made together (one submission, one API call, one model card). ``repo_ids`` may
    be a query of ids, read as a subquery. ``scores``, ``claims`` and ``reviews``: what
    ``claim_evidence``'s caller has read already.
    """
    if claims is None:
        claims = {}
        for claim in (
            Claim.objects.current()
            .filter(repo_id__in=repo_ids)
            .select_related("repo", "revision")
            .order_by("id")
        ):
            claims.setdefault(claim.repo_id, []).append(claim)
    by_revision, latest = _scores(list(claims)) if scores is None else scores
    if reviews is None:
        reviews = _reviews(list(claims))
    found = {}
    for repo_id, repo_claims in claims.items():
        rows = []
        for claim in repo_claims:
            latest_revision = latest.get(repo_id)
            revision_id = claim.revision_id or latest_revision
            score, reason = match(claim, by_revision.get(revision_id, []) if revision_id else [])
            needs_run = (
                score is None
                and latest_revision is not None
                and not never_comparable(claim)
                and claim.revision_id in (None, latest_revision)
            )
            rows.append(
                ClaimEvidence(claim, score, reason, needs_run, review=reviews.get(claim.id))
            )
        _judge(rows)
        found[repo_id] = rows
    return found


# What matching never reads of a score's run and commit: their largest columns, decoded for
# every score row otherwise (a run's versions and log, a commit's file list and model card).
RUN_BULK = (
    "run__versions",
    "run__log_tail",
    "run__error_detail",
    "run__revision__files",
    "run__revision__card_text",
)


def _scores(repo_ids: list[int]) -> MeasuredScores:
    """Finished scores by commit, newest run first, and each repo's latest whole-suite
    commit ("the model" today). A run has no commit (None) until its ref is resolved."""
    scores = (
        Score.objects.measured()
        .of_repos(repo_ids)
        .select_related("run__submission", "run__revision")
        .defer(*RUN_BULK)
        .order_by("-run__finished_at", "-run_id", "id")
    )
    return _by_revision(scores)


def scores_of_runs(runs: Iterable[EvaluationRun]) -> MeasuredScores:
    """What ``_scores`` reads, taken from runs already loaded with their scores (in id
    order), submission and commit: the measured ones, in the same order (newest finished
    first, as PostgreSQL sorts a descending column: a missing time first)."""
    measured = sorted(
        (run for run in runs if run.state == RunState.FINISHED and run.duplicate_of_id is None),
        key=lambda run: (run.finished_at is None, run.finished_at or _EARLIEST, run.id),
        reverse=True,
    )
    return _by_revision(score for run in measured for score in run.scores.all())


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _by_revision(scores: Iterable[Score]) -> MeasuredScores:
    by_revision: dict[int | None, list[Score]] = {}
    latest: dict[int, int | None] = {}
    for score in scores:
        by_revision.setdefault(score.run.revision_id, []).append(score)
        if score.run.submission.is_whole_suite:
            latest.setdefault(score.run.submission.repo_id, score.run.revision_id)
    return by_revision, latest


def _reviews(repo_ids: list[int]) -> dict[int, FlagReview]:
    return _reviews_of(
        FlagEvent.objects.filter(flag__claim__repo_id__in=repo_ids)
        .select_related("flag")
        .order_by("created_at", "id")
    )


def _reviews_of(flag_events: Iterable[FlagEvent]) -> dict[int, FlagReview]:
    """Each claim's flag review, from the events of its flag, oldest first."""
    events: dict[tuple[int, int], list[FlagEvent]] = {}
    for event in flag_events:
        claim_id = event.flag.claim_id
        assert claim_id is not None  # filtered on the claim's repo
        events.setdefault((claim_id, event.flag_id), []).append(event)
    return {
        claim_id: flag_review(flag_id, flag_events)
        for (claim_id, flag_id), flag_events in events.items()
    }


def _judge(rows: list[ClaimEvidence]) -> None:
    families: dict[object, list[ClaimEvidence]] = {}
    for row in rows:
        if row.score is not None:
            families.setdefault(row.claim.batch, []).append(row)
    for family in families.values():
        comparisons = [_comparison(row) for row in family]
        for row, judgement in zip(family, judge(comparisons), strict=True):
            row.judgement = judgement


def _comparison(row: ClaimEvidence) -> Comparison:
    score = row.score
    assert score is not None and row.claim.value is not None
    benchmark = BENCHMARKS[row.claim.benchmark]
    return Comparison(
        key=row.claim.id,
        benchmark=benchmark,
        shots=score.shots,
        metric=score.metric,
        claimed=row.claim.value,
        claimed_stderr=row.claim.stated_stderr,
        measured=score.value,
        measured_stderr=score.stderr,
        n_items=score.n_samples,
        harness_doubt="; ".join(health_doubts(benchmark, score.health)),
    )
