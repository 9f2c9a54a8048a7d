"""Reads of runs and the commits they measured, for pages, the admin and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from django.db.models import Prefetch, QuerySet

from evaluations.catalogue import SUITES
from evaluations.models import (
    Claim,
    EvaluationRun,
    ModelRepo,
    Revision,
    RunAction,
    RunArtifact,
    RunState,
    Score,
    Submission,
)
from evaluations.prepared import ID_STAND_IN, PreparedQuery
from evaluations.selectors.standings import kept_for_generation


def recent_runs(limit: int = 20) -> QuerySet[EvaluationRun]:
    """The newest runs of repos the hub has shown us (``ModelRepo.objects.resolved``), as the
    other public lists have them: a typo's run is no public row, and a new repo's run shows
    once a worker has pinned its commit. Only the columns the list shows are read."""
    return (
        EvaluationRun.objects.filter(submission__repo__in=ModelRepo.objects.resolved())
        .select_related("submission__repo", "revision")
        .only(*RECENT_RUN_COLUMNS)
        .order_by("-created_at")[:limit]
    )


def recent_runs_kept(limit: int, *, live_tag: str) -> list[EvaluationRun]:
    """``recent_runs`` as the home page lists them: the same list on every rankings page, so
    it is read once per generation and per ``live_tag`` (``open_data.active_runs_tag``: the
    progress of the runs in flight, which moves without a generation bump)."""
    return kept_for_generation(f"recent-runs:{limit}:{live_tag}", lambda: list(recent_runs(limit)))


RECENT_RUN_COLUMNS = (
    "state",
    "error_code",  # a refusal shows as refused
    "duplicate_of_id",
    "progress_done",
    "progress_total",
    "created_at",
    "submission__ref",
    "submission__suite",
    "submission__repo__hub_id",
    "revision__commit_sha",
)


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
    runs = runs.prefetch_related(Prefetch("actions", _retries(ids)))  # only the retries
    return [
        Attempt(number, each, list(each.actions.all())) for number, each in enumerate(runs, start=1)
    ]


def _retries(run_ids: set[int]) -> QuerySet[RunAction]:
    return RunAction.objects.filter(run_id__in=run_ids, action=RunAction.Action.RETRY)


def _first_attempt_id(run_id: int) -> int:
    retried = RunAction.objects.filter(action=RunAction.Action.RETRY)
    while (previous := retried.filter(new_run_id=run_id).values_list("run_id").first()) is not None:
        run_id = previous[0]
    return run_id


def default_suite() -> str:
    """The suite with the most finished runs, so the home page opens on real data. Counting
    them reads every run (a tenth of a second at 10,000 models): kept per generation."""

    def compute() -> str:
        counts = {
            suite: EvaluationRun.objects.finished_ok()
            .whole_suite()
            .filter(submission__suite=suite)
            .count()
            for suite in SUITES
        }
        best = max(counts, key=lambda suite: counts[suite])
        return best if counts[best] else "smoke"

    return kept_for_generation("default-suite", compute)


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


# A duplicate names the run it repeats by id: pages link to it, none reads its row. The log's
# last lines (kilobytes on a failed run) are shown on the run's own page only.
_REPO_RUNS = PreparedQuery(
    lambda repo_id: (
        EvaluationRun.objects.filter(submission__repo_id=repo_id)
        .select_related("submission")
        .defer("log_tail")
        .order_by("-created_at", "-id")
    ),
    ID_STAND_IN,
)


# A run's scores and artifacts, for every run of a repo at once.
_REPO_SCORES = PreparedQuery(
    lambda repo_id: Score.objects.filter(run__submission__repo_id=repo_id).order_by("id"),
    ID_STAND_IN,
)
_REPO_ARTIFACTS = PreparedQuery(
    lambda repo_id: RunArtifact.objects.filter(run__submission__repo_id=repo_id).order_by("id"),
    ID_STAND_IN,
)


def repo_runs(repo: ModelRepo) -> list[EvaluationRun]:
    """Every run of the repo, newest first, with its submission, scores (in id order) and
    artifacts: the model page lists them by commit, and takes its refusal and its runs in
    progress from the same rows (a run has no commit until a worker pins its ref)."""
    runs = _REPO_RUNS.rows(repo.id)
    if not runs:
        return runs
    scores = _by_run(_REPO_SCORES.rows(repo.id))
    # A repo read with ``ModelRepo.objects.with_presence`` may be known to have no artifacts:
    # none are read then.
    has_artifacts = getattr(repo, "has_artifacts", True)
    artifacts = _by_run(_REPO_ARTIFACTS.rows(repo.id)) if has_artifacts else {}
    for run in runs:  # each run's repo is this one (its reproduce box names it): no query
        run.submission.repo = repo
        _prefetched(run, "scores", scores.get(run.id, []))
        _prefetched(run, "artifacts", artifacts.get(run.id, []))
    return runs


RowOfRun = TypeVar("RowOfRun", Score, RunArtifact)  # what a run's rows are grouped by


def _by_run(rows: list[RowOfRun]) -> dict[int, list[RowOfRun]]:
    grouped: dict[int, list[RowOfRun]] = {}
    for row in rows:
        grouped.setdefault(row.run_id, []).append(row)
    return grouped


def _prefetched(run: EvaluationRun, name: str, rows: list[RowOfRun]) -> None:
    """Leave a run's related ``rows`` where ``prefetch_related`` leaves them (as Django's
    ``prefetch_one_level`` does), each pointing back to the run: ``run.scores.all()`` then
    answers from them without a query. Read for the whole repo in one prepared query, they
    cost a tenth of what ``prefetch_related``'s query, built anew each time, did."""
    for row in rows:
        row.run = run
    queryset = getattr(run, name).get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    run.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


_REVISIONS = PreparedQuery(
    lambda repo_id: Revision.objects.filter(repo_id=repo_id).order_by("-inspected_at"),
    ID_STAND_IN,
)


def model_revisions(
    repo: ModelRepo, *, runs: list[EvaluationRun] | None = None
) -> list[RevisionView]:
    """The repo's revisions, newest first, each with its runs (scores and artifacts loaded).

    ``runs``: the repo's runs as ``repo_runs`` reads them, when the caller has them."""
    by_revision: dict[int | None, list[EvaluationRun]] = {}
    for run in repo_runs(repo) if runs is None else runs:
        by_revision.setdefault(run.revision_id, []).append(run)
    views = []
    for revision in _REVISIONS.rows(repo.id):
        revision.repo = repo
        views.append(RevisionView(revision=revision, runs=by_revision.get(revision.id, [])))
        for run in views[-1].runs:
            run.revision = revision
    for newer, older in zip(views, views[1:], strict=False):
        newer.changes = revision_changes(newer.revision, older.revision)
    return views


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


def latest_refusal(runs: list[EvaluationRun]) -> EvaluationRun | None:
    """The newest of a repo's ``runs`` (every run of it, as ``repo_runs`` reads them) that
    ended, if it was refused before evaluation: why nothing of the repo is measured (yet).
    None once a later run ended otherwise."""
    # As PostgreSQL sorts a descending column: a missing time first.
    ended = [run for run in runs if run.is_final and run.duplicate_of_id is None]
    newest = max(ended, key=_newest_finished, default=None)
    return newest if newest is not None and newest.is_refused else None


def _newest_finished(run: EvaluationRun) -> tuple[bool, datetime, int]:
    return (run.finished_at is None, run.finished_at or _EARLIEST, run.id)


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def pending_runs(runs: list[EvaluationRun]) -> list[EvaluationRun]:
    """The runs among ``runs`` that have not ended (queued or in flight), in their order."""
    return [run for run in runs if not run.is_final]


def is_repo_contributor(repo: ModelRepo, user_id: int | None) -> bool:
    """Whether the user submitted the repo for evaluation or reported a claim of it."""
    if user_id is None:
        return False
    submitted = Submission.objects.filter(repo=repo, submitted_by_id=user_id).exists()
    return submitted or Claim.objects.filter(repo=repo, reporter_id=user_id).exists()


def claim_matched_runs_since(repo_id: int, since: datetime) -> list[EvaluationRun]:
    """The claim-matched runs the site queued for the repo at or after ``since`` (the moment
    claims were recorded): what a page names as queued to measure them."""
    return list(
        EvaluationRun.objects.filter(
            submission__repo_id=repo_id,
            submission__submitted_by__isnull=True,
            created_at__gte=since,
        )
        .exclude(submission__tasks=[])
        .order_by("id")
    )
