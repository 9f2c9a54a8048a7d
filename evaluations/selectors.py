"""Reads that pages, the admin and the API share. No writes here."""

from __future__ import annotations

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

from evaluations.catalogue import SUITES, Benchmark
from evaluations.models import (
    AUTOMATIC_STATES,
    DECISION_STATES,
    QUEUE_STATES,
    Claim,
    EvaluationRun,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
    RepoDecision,
    Revision,
    RunAction,
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


@dataclass(frozen=True)
class Attempt:
    """One run of a job that was retried: how it ended, and the retries that followed it."""

    number: int
    run: EvaluationRun
    retries: list[RunAction]


def run_attempts(run: EvaluationRun) -> list[Attempt]:
    """Every attempt of the run's job, oldest first. A retry (a moderator's, or the one
    queued when a worker was lost) is a new run linked to the one it retries."""
    ids = frontier = {_first_attempt_id(run.id)}
    while frontier:
        frontier = set(_retries(frontier).values_list("new_run_id", flat=True)) - ids - {None}
        ids = ids | frontier
    runs = EvaluationRun.objects.filter(id__in=ids).order_by("created_at", "id")
    runs = runs.prefetch_related(Prefetch("actions", _retries(ids), to_attr="retries"))
    return [Attempt(number, each, each.retries) for number, each in enumerate(runs, start=1)]


def _retries(run_ids: set[int]) -> QuerySet[RunAction]:
    return RunAction.objects.filter(run_id__in=run_ids, action=RunAction.Action.RETRY)


def _first_attempt_id(run_id: int) -> int:
    retried = RunAction.objects.filter(action=RunAction.Action.RETRY)
    while (previous := retried.filter(new_run_id=run_id).values_list("run_id").first()) is not None:
        run_id = previous[0]
    return run_id


def normalised(value: float, benchmark: Benchmark) -> float:
    """The score above the random baseline on a 0–100 scale, clipped at 0 (display only)."""
    baseline = benchmark.random_baseline
    return max(0.0, (value - baseline) / (1.0 - baseline)) * 100.0


def default_suite() -> str:
    """The suite with the most finished runs, so the home page opens on real data."""
    counts = {
        suite: EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__suite=suite)
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


# --- Claims next to measurements ---------------------------------------------------------


def latest_full_run(repo_id: int) -> EvaluationRun | None:
    """The repo's most recent finished whole-suite run: its commit is "the model" today."""
    return (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__repo_id=repo_id)
        .select_related("submission__repo", "revision")
        .order_by("-finished_at")
        .first()
    )


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
    openings = events.filter(state__in=QUEUE_STATES)
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
        .filter(rule_state__in=QUEUE_STATES, decision__isnull=True)
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
