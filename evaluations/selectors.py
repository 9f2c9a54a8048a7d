"""Reads that pages, the admin and the API share. No writes here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    CharField,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from evaluations.catalogue import BENCHMARKS, SUITES, Benchmark
from evaluations.discrepancy import Comparison, Judgement, judge
from evaluations.models import (
    AUTOMATIC_STATES,
    DECISION_STATES,
    Claim,
    EvaluationRun,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
    RepoDecision,
    Revision,
    RunState,
    Score,
)


def recent_runs(limit: int = 20) -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related("submission__repo", "revision").order_by(
        "-created_at"
    )[:limit]


def queue_position(run: EvaluationRun) -> int | None:
    """1 for the next run a worker of its queue takes; None when it is not queued."""
    if run.state != RunState.QUEUED:
        return None
    ahead = EvaluationRun.objects.filter(
        state=RunState.QUEUED, queue=run.queue, created_at__lt=run.created_at
    ).count()
    return ahead + 1


def normalised(value: float, benchmark: Benchmark) -> float:
    """The score above the random baseline on a 0–100 scale, clipped at 0 (display only)."""
    baseline = benchmark.random_baseline
    return max(0.0, (value - baseline) / (1.0 - baseline)) * 100.0


def default_suite() -> str:
    """The suite with the most finished runs, so the home page opens on real data."""
    counts = {
        suite: EvaluationRun.objects.finished_ok()
        .filter(submission__suite=suite, submission__tasks=[])
        .count()
        for suite in SUITES
    }
    best = max(counts, key=lambda suite: counts[suite])
    return best if counts[best] else "smoke"


@dataclass
class RevisionView:
    revision: Revision
    runs: list[EvaluationRun]
    changes: list[str] = field(default_factory=list)  # against the commit inspected before


def revision_changes(newer: Revision, older: Revision) -> list[str]:
    """What differs between two inspected commits, in words: files and model facts."""

    def manifest(revision: Revision) -> dict[str, object]:
        return {
            f["path"]: f.get("sha256") or f.get("blob_id") or f.get("size") for f in revision.files
        }

    before, after = manifest(older), manifest(newer)
    changes = [f"added {path}" for path in sorted(after.keys() - before.keys())]
    changes += [f"removed {path}" for path in sorted(before.keys() - after.keys())]
    changes += [
        f"changed {path}"
        for path in sorted(after.keys() & before.keys())
        if after[path] != before[path]
    ]
    for label, old, new in (
        ("parameters", older.parameter_count, newer.parameter_count),
        ("weights dtype", older.dtype, newer.dtype),
        ("architecture", older.model_type, newer.model_type),
    ):
        if old != new:
            changes.append(f"{label}: {old or '–'} → {new or '–'}")
    return changes


def model_revisions(repo: ModelRepo) -> list[RevisionView]:
    """The repo's revisions, newest first, each with its runs (scores and artifacts loaded)."""
    runs = EvaluationRun.objects.select_related("submission", "duplicate_of").prefetch_related(
        Prefetch("scores", queryset=Score.objects.order_by("id")), "artifacts"
    )
    revisions = repo.revisions.prefetch_related(Prefetch("runs", queryset=runs)).order_by(
        "-inspected_at"
    )
    views = [RevisionView(revision=r, runs=list(r.runs.all())) for r in revisions]
    for newer, older in zip(views, views[1:], strict=False):
        newer.changes = revision_changes(newer.revision, older.revision)
    return views


def benchmark_name(key: str) -> str:
    benchmark = BENCHMARKS.get(key)
    return benchmark.display_name if benchmark else key


# --- Claims next to measurements ---------------------------------------------------------


def latest_full_run(repo_id: int) -> EvaluationRun | None:
    """The repo's most recent finished whole-suite run: its commit is "the model" today."""
    return (
        EvaluationRun.objects.finished_ok()
        .filter(submission__repo_id=repo_id, submission__tasks=[])
        .select_related("submission__repo", "revision")
        .order_by("-finished_at")
        .first()
    )


@dataclass
class ClaimEvidence:
    """One current claim, the measurement in its setting (if any), and the verdict."""

    claim: Claim
    score: Score | None = None
    not_comparable_reason: str = ""
    needs_run: bool = False  # the catalogue can express the setting; no run has measured it
    judgement: Judgement | None = None
    review: FlagReview | None = None  # set by ``claim_evidence_reviewed``

    @property
    def flagged(self) -> bool:
        """Whether the claim's flag stands in public, as the rankings count it: a decision in
        force outranks the rule's verdict."""
        return self.review.stands if self.review else False

    @property
    def verdict(self) -> str:
        """contradicted | consistent | under-claim | pending (a run in its setting would
        settle it) | not comparable (no run of ours can)."""
        if self.judgement is not None:
            return self.judgement.verdict
        return "not comparable" if never_comparable(self.claim) else "pending"

    def evidence_numbers(self) -> dict[str, float | int | str | None]:
        j, s = self.judgement, self.score
        if j is None or s is None:
            return {}
        return {
            "claimed": self.claim.value,
            "claimed_stderr": j.claim_stderr_used,
            "measured": s.value,
            "measured_stderr": s.stderr,
            "n_items": s.n_samples,
            "gap": j.gap,
            "z": _finite(j.z),
            "p": j.p_value,
            "p_holm": j.p_holm,
            "q": j.q_value,
            "tolerance": j.tolerance,
            "run": s.run_id,
        }


def _finite(z: float) -> float | str:
    return z if math.isfinite(z) else ("inf" if z > 0 else "-inf")


def _scores_by_revision(repo_id: int) -> dict[int, list[Score]]:
    scores = (
        Score.objects.filter(
            run__in=EvaluationRun.objects.finished_ok(), run__submission__repo_id=repo_id
        )
        .select_related("run__submission", "run__revision")
        .order_by("-run__finished_at", "id")
    )
    by_revision: dict[int, list[Score]] = {}
    for score in scores:
        by_revision.setdefault(score.run.revision_id, []).append(score)
    return by_revision


def _match(claim: Claim, scores: list[Score]) -> tuple[Score | None, str]:
    """The measurement in the claim's setting, or why there is none."""
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


def claim_evidence(repo_id: int) -> list[ClaimEvidence]:
    """Every current claim of the repo with its measurement and verdict.

    A claim pinned to a commit is compared with that commit's runs; a claim about the model
    in general with the latest evaluated commit. Holm's family is a batch of claims made
    together (one submission, one API call, one model card).
    """
    claims = list(Claim.objects.current().filter(repo_id=repo_id).select_related("revision"))
    scores = _scores_by_revision(repo_id)
    latest = latest_full_run(repo_id)
    rows = []
    for claim in claims:
        revision_id = claim.revision_id or (latest.revision_id if latest else None)
        score, reason = _match(claim, scores.get(revision_id, []))
        needs_run = (
            score is None
            and latest is not None
            and not never_comparable(claim)
            and claim.revision_id in (None, latest.revision_id)
        )
        rows.append(ClaimEvidence(claim, score, reason, needs_run))
    _judge(rows)
    return rows


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
            return self.decision.state == FlagState.CONFIRMED
        return self.rule_open


def flag_review(flag_id: int, events: list[FlagEvent]) -> FlagReview:
    """The review of one flag from its events, oldest first."""
    rule = [e for e in events if not e.is_moderation]
    decisions = [e for e in events if e.state in DECISION_STATES] or [
        e for e in events if e.state == FlagState.AUTHOR_ASKED
    ]
    decision = decisions[-1] if decisions else None
    stale = decision is not None and any(
        e.is_open and e.created_at > decision.created_at for e in rule
    )
    return FlagReview(
        flag_id=flag_id, rule_open=bool(rule and rule[-1].is_open), decision=decision, stale=stale
    )


def claim_evidence_reviewed(repo_id: int) -> list[ClaimEvidence]:
    """``claim_evidence`` with each flagged claim's review, for pages and the API."""
    rows = claim_evidence(repo_id)
    events: dict[tuple[int, int], list[FlagEvent]] = {}
    for event in (
        FlagEvent.objects.filter(flag__claim__repo_id=repo_id)
        .select_related("flag")
        .order_by("created_at", "id")
    ):
        events.setdefault((event.flag.claim_id, event.flag_id), []).append(event)
    reviews = {
        claim_id: flag_review(flag_id, flag_events)
        for (claim_id, flag_id), flag_events in events.items()
    }
    for row in rows:
        row.review = reviews.get(row.claim.id)
    return rows


def _judge(rows: list[ClaimEvidence]) -> None:
    families: dict[object, list[ClaimEvidence]] = {}
    for row in rows:
        if row.score is not None:
            families.setdefault(row.claim.batch, []).append(row)
    for family in families.values():
        comparisons = [
            Comparison(
                key=row,
                benchmark=BENCHMARKS[row.claim.benchmark],
                shots=row.score.shots,
                metric=row.score.metric,
                claimed=row.claim.value,
                claimed_stderr=row.claim.stated_stderr,
                measured=row.score.value,
                measured_stderr=row.score.stderr,
                n_items=row.score.n_samples,
            )
            for row in family
        ]
        for judgement in judge(comparisons):
            judgement.key.judgement = judgement


def flag_history(repo_id: int) -> QuerySet[FlagEvent]:
    return (
        FlagEvent.objects.filter(flag__claim__repo_id=repo_id)
        .select_related("flag__claim", "run")
        .order_by("-created_at", "-id")
    )


def flags_with_state() -> QuerySet[Flag]:
    """Flags annotated with the rule's latest state (``rule_state``), the latest moderator
    decision (``latest_decision``: confirmed, dismissed or None) and the decision in force
    (``decision``).

    A decision applies to the evidence it was made on. When the rule opens or reopens the
    flag after it (a new run, a raised claim), the decision predates the evidence: it is no
    longer in force, the rule's state stands again, and the flag goes back to the queue until
    a moderator decides anew. A rule event that resolves the flag does not do this: a
    confirmation outlives a correction the moderator has not seen, as it always did."""
    events = FlagEvent.objects.filter(flag=OuterRef("pk")).order_by("-created_at", "-id")
    decisions = events.filter(state__in=DECISION_STATES)
    openings = events.filter(state__in=[FlagState.OPENED, FlagState.REOPENED])
    return Flag.objects.annotate(
        rule_state=Subquery(events.filter(state__in=AUTOMATIC_STATES).values("state")[:1]),
        latest_decision=Subquery(decisions.values("state")[:1]),
        decided_at=Subquery(decisions.values("created_at")[:1]),
        rule_opened_at=Subquery(openings.values("created_at")[:1]),
    ).annotate(
        decision=Case(
            When(rule_opened_at__gt=F("decided_at"), then=Value(None)),
            default=F("latest_decision"),
            output_field=CharField(),
        ),
    )


def open_flags() -> QuerySet[Flag]:
    """Flags that stand in public: the rule says contradicted and no decision in force
    dismissed them, or a decision in force confirmed them."""
    rule_open = Q(rule_state__in=[FlagState.OPENED, FlagState.REOPENED])
    # Spelled without NOT: "decision != dismissed" is NULL, not true, for undecided flags.
    return flags_with_state().filter(
        (rule_open & Q(decision__isnull=True)) | Q(decision=FlagState.CONFIRMED)
    )


def flagged_repo_ids() -> set[int]:
    """Repos with at least one flag that stands."""
    return set(open_flags().values_list("claim__repo_id", flat=True))


def hidden_repo_ids() -> QuerySet[ModelRepo]:
    """Repos a moderator hid from the rankings (their latest decision is "hide")."""
    latest = RepoDecision.objects.filter(repo=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        ModelRepo.objects.annotate(last_action=Subquery(latest.values("action")[:1]))
        .filter(last_action=RepoDecision.Action.HIDE)
        .values("id")
    )


QUEUE_SORTS = {"severity", "age", "q"}
SEVERITY_ORDER = {"severe": 0, "major": 1, "minor": 2, "": 3}


def moderation_queue(sort: str = "severity") -> list[Flag]:
    """Flags the rule holds open with no decision in force, each with its latest rule
    event (``rule_event``), whether the author was asked (``author_asked``) and whether the
    rule reopened it after a decision (``reopened_after_decision``, see
    ``flags_with_state``)."""
    flags = list(
        flags_with_state()
        .filter(rule_state__in=[FlagState.OPENED, FlagState.REOPENED], decision__isnull=True)
        .select_related("claim__repo")
        .prefetch_related(
            Prefetch("events", queryset=FlagEvent.objects.order_by("created_at", "id"))
        )
    )
    for flag in flags:
        events = list(flag.events.all())
        flag.rule_event = [e for e in events if not e.is_moderation][-1]
        flag.author_asked = any(e.state == FlagState.AUTHOR_ASKED for e in events)
        flag.reopened_after_decision = flag.latest_decision is not None
    keys = {
        "severity": lambda f: (SEVERITY_ORDER.get(f.rule_event.severity, 3), f.created_at),
        "age": lambda f: f.created_at,
        "q": lambda f: f.rule_event.evidence.get("q", 1.0),
    }
    return sorted(flags, key=keys[sort if sort in QUEUE_SORTS else "severity"])


def history_data(repo_id: int) -> tuple[list[Score], list[Claim], list[FlagEvent]]:
    scores = list(
        Score.objects.filter(
            run__in=EvaluationRun.objects.finished_ok(), run__submission__repo_id=repo_id
        ).select_related("run__revision")
    )
    claims = list(Claim.objects.filter(repo_id=repo_id))
    return scores, claims, list(flag_history(repo_id))
