"""Reads that pages, the admin and the API share. No writes here."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from evaluations.catalogue import BENCHMARKS, SUITES, Benchmark, suite_benchmarks
from evaluations.models import EvaluationRun, ModelRepo, Revision, RunState, Score


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


@dataclass
class RankingRow:
    repo: ModelRepo
    run: EvaluationRun
    scores: dict[str, Score] = field(default_factory=dict)
    average: float = 0.0
    rank: int = 0


def ranking(suite: str) -> list[RankingRow]:
    """Each repo's latest finished run of ``suite``, ranked by the normalised average of its
    measured scores. Claimed scores never enter a ranking."""
    benchmarks = suite_benchmarks(suite)
    runs = (
        EvaluationRun.objects.finished_ok()
        .filter(submission__suite=suite)
        .select_related("submission__repo", "revision")
        .prefetch_related("scores")
        .order_by("-finished_at")
    )
    rows: dict[int, RankingRow] = {}
    for run in runs:
        repo = run.submission.repo
        if repo.id in rows:
            continue
        scores = {s.benchmark: s for s in run.scores.all()}
        values = [normalised(scores[b.key].value, b) for b in benchmarks if b.key in scores]
        average = sum(values) / len(benchmarks) if values else 0.0
        rows[repo.id] = RankingRow(repo=repo, run=run, scores=scores, average=average)
    ranked = sorted(rows.values(), key=lambda row: row.average, reverse=True)
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    return ranked


def default_suite() -> str:
    """The suite with the most finished runs, so the home page opens on real data."""
    counts = {
        suite: EvaluationRun.objects.finished_ok().filter(submission__suite=suite).count()
        for suite in SUITES
    }
    best = max(counts, key=lambda suite: counts[suite])
    return best if counts[best] else "smoke"


@dataclass
class RevisionView:
    revision: Revision
    runs: list[EvaluationRun]


def model_revisions(repo: ModelRepo) -> list[RevisionView]:
    """The repo's revisions, newest first, each with its runs (scores and artifacts loaded)."""
    runs = EvaluationRun.objects.select_related("submission", "duplicate_of").prefetch_related(
        Prefetch("scores", queryset=Score.objects.order_by("id")), "artifacts"
    )
    revisions = repo.revisions.prefetch_related(Prefetch("runs", queryset=runs)).order_by(
        "-inspected_at"
    )
    return [RevisionView(revision=r, runs=list(r.runs.all())) for r in revisions]


def benchmark_name(key: str) -> str:
    benchmark = BENCHMARKS.get(key)
    return benchmark.display_name if benchmark else key
