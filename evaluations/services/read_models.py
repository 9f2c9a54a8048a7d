"""Read tables: what the rankings show, kept next to the rows it is derived from.

``RankingEntry`` holds one row per repo, suite and precision scope (the latest whole-suite run
of any precision, and the latest in each precision the repo was run in) with everything the
rankings filter and sort on. The services that change what the rankings show (a recorded
run, recomputed flags, a moderator's decision) call ``ranking_entries_refresh`` inside their
own transaction; ``ranking_entries_rebuild`` recomputes the whole table for deployments and
after bulk loads. Nobody writes the table by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import OuterRef, Subquery

from evaluations.catalogue import SUITES, Benchmark, suite_benchmarks
from evaluations.models import Claim, EvaluationRun, FlagEvent, RankingEntry, Score
from evaluations.selectors import hidden_repo_ids, never_comparable, normalised, open_flags
from evaluations.services.generation import generation_bump

SEVERITIES = ("", "minor", "major", "severe")
# Worst last. The issue orders three levels (contradicted > pending / not comparable >
# not contradicted / under-claim); inside a level the claim no run can ever settle reads
# worse than one a run will settle, and an under-claim is the mildest verdict of all.
VERDICTS = ("", "under-claim", "not contradicted", "pending", "not comparable", "contradicted")
ANY_PRECISION = ""  # the scope of a repo's latest run whatever its precision
REBUILD_CHUNK = 1000  # repos per round of the bulk rebuild


def ranking_entries_refresh(*, repo_id: int) -> None:
    """Recompute the repo's ranking entries from its runs, scores, claims, flags and hiding."""
    with transaction.atomic():
        RankingEntry.objects.filter(repo_id=repo_id).delete()
        RankingEntry.objects.bulk_create(_entries([repo_id]))
        generation_bump()


def ranking_entries_rebuild() -> int:
    """Recompute every entry (a deployment, a bulk load); returns how many there are."""
    repo_ids = sorted(
        set(
            EvaluationRun.objects.finished_ok()
            .filter(submission__tasks=[])
            .values_list("submission__repo_id", flat=True)
        )
    )
    with transaction.atomic():
        RankingEntry.objects.all().delete()
        for first in range(0, len(repo_ids), REBUILD_CHUNK):
            chunk = repo_ids[first : first + REBUILD_CHUNK]
            RankingEntry.objects.bulk_create(_entries(chunk), batch_size=2000)
        generation_bump()
    return RankingEntry.objects.count()


# --- From source rows to entries ----------------------------------------------------------


RunFacts = tuple[int, int, str, str, str, int | None, str]  # id, repo, suite, precision, ...
Measured = dict[str, tuple[float, float | None]]  # benchmark → (raw value, stderr)


def _entries(repo_ids: list[int]) -> list[RankingEntry]:
    """The repos' entries, from a handful of queries of plain values (a bulk rebuild makes
    thousands at a time; model instances would cost most of its time)."""
    runs = (
        EvaluationRun.objects.finished_ok()
        .filter(submission__repo_id__in=repo_ids, submission__tasks=[])
        .order_by("-finished_at", "-id")
        .values_list(
            "id",
            "submission__repo_id",
            "submission__suite",
            "submission__precision",
            "submission__repo__hub_id",
            "revision__parameter_count",
            "revision__licence",
        )
    )
    latest: dict[tuple[int, str, str], RunFacts] = {}
    for run in runs:
        for scope in (ANY_PRECISION, run[3]):
            latest.setdefault((run[1], run[2], scope), run)
    severities = open_flag_severities(repo_ids)
    claims = current_claims(repo_ids)
    facts, run_scores = measurements(repo_ids)
    hidden = set(hidden_repo_ids().filter(id__in=repo_ids).values_list("id", flat=True))
    verdicts = {
        repo_id: worst_verdict(
            claims.get(repo_id, []), facts.get(repo_id), flagged=repo_id in severities
        )
        for repo_id in repo_ids
    }
    return [
        _entry(
            run,
            scope,
            run_scores.get(run[0], {}),
            severity=severities.get(run[1]),
            not_comparable=any(never_comparable(c) for c in claims.get(run[1], [])),
            verdict=verdicts[run[1]],
            hidden=run[1] in hidden,
        )
        for (_, suite, scope), run in latest.items()
        if suite in SUITES
    ]


def _entry(
    run: RunFacts,
    scope: str,
    scores: Measured,
    *,
    severity: str | None,
    not_comparable: bool,
    verdict: str,
    hidden: bool,
) -> RankingEntry:
    run_id, repo_id, suite, precision, hub_id, parameter_count, licence = run
    average, raw_average, average_stderr = run_averages(scores, suite_benchmarks(suite))
    return RankingEntry(
        repo_id=repo_id,
        suite=suite,
        precision_scope=scope,
        run_id=run_id,
        hub_id=hub_id,
        parameter_count=parameter_count,
        precision=precision,
        licence=licence or "",
        average=average,
        raw_average=raw_average,
        average_stderr=average_stderr,
        scores={key: {"value": value, "stderr": stderr} for key, (value, stderr) in scores.items()},
        flagged=severity is not None,
        severity=severity or "",
        not_comparable=not_comparable,
        verdict=verdict,
        hidden=hidden,
    )


def run_averages(scores: Measured, benchmarks: list[Benchmark]) -> tuple[float, float, float]:
    """The normalised average (0–100), the raw average and the normalised average's standard
    error. A benchmark the run lacks counts as 0, so a partial run never outranks a whole one."""
    measured = [(b, *scores[b.key]) for b in benchmarks if b.key in scores]
    count = len(benchmarks)
    # Benchmarks are independent samples: variances add, and the mean divides by n.
    variance = sum(normalised_stderr(stderr, b) ** 2 for b, _, stderr in measured)
    return (
        sum(normalised(value, b) for b, value, _ in measured) / count,
        sum(value for _, value, _ in measured) / count,
        math.sqrt(variance) / count,
    )


def normalised_stderr(stderr: float | None, benchmark: Benchmark) -> float:
    """A standard error on the normalised scale (a shift does not move it; the stretch
    does). lm-eval's N/A counts as 0, as in the discrepancy rule."""
    return (stderr or 0.0) / (1.0 - benchmark.random_baseline) * 100.0


# --- Flags and claims, in one query each -----------------------------------------------------


def open_flag_severities(repo_ids: Iterable[int]) -> dict[int, str]:
    """Repos with a flag that stands (selectors.open_flags: the rule's, unless a moderator
    dismissed it, or a moderator's confirmation), each with its worst severity."""
    latest = FlagEvent.objects.filter(flag=OuterRef("pk")).order_by("-created_at", "-id")
    flags = (
        open_flags()
        .filter(claim__repo_id__in=repo_ids)
        .annotate(
            last_severity=Subquery(latest.values("severity")[:1]),
        )
    )
    worst: dict[int, str] = {}
    for repo_id, severity in flags.values_list("claim__repo_id", "last_severity"):
        known = severity if severity in SEVERITIES else ""
        worst[repo_id] = max(worst.get(repo_id, ""), known, key=SEVERITIES.index)
    return worst


def current_claims(repo_ids: Iterable[int]) -> dict[int, list[Claim]]:
    """The current claims of the repos, by repo."""
    by_repo: dict[int, list[Claim]] = {}
    for claim in Claim.objects.current().filter(repo_id__in=repo_ids):
        by_repo.setdefault(claim.repo_id, []).append(claim)
    return by_repo


@dataclass
class Measurements:
    """One repo's measured (benchmark, shots, chat template) → value, per commit."""

    latest_full_revision: int | None = None
    by_revision: dict[int, dict[tuple[str, int, bool], float]] = field(default_factory=dict)


def measurements(repo_ids: list[int]) -> tuple[dict[int, Measurements], dict[int, Measured]]:
    """Every finished measurement of the repos, newest first (one query): by repo, and each
    run's scores by run."""
    scores = (
        Score.objects.filter(
            run__in=EvaluationRun.objects.finished_ok(), run__submission__repo_id__in=repo_ids
        )
        .order_by("-run__finished_at", "id")
        .values_list(
            "run__submission__repo_id",
            "run__revision_id",
            "benchmark",
            "shots",
            "run__submission__chat_template",
            "run__submission__tasks",
            "value",
            "run_id",
            "stderr",
        )
    )
    result: dict[int, Measurements] = {}
    by_run: dict[int, Measured] = {}
    for repo_id, revision_id, benchmark, shots, chat, tasks, value, run_id, stderr in scores:
        facts = result.setdefault(repo_id, Measurements())
        if not tasks and facts.latest_full_revision is None:
            facts.latest_full_revision = revision_id  # "the model" today, as the model page says
        facts.by_revision.setdefault(revision_id, {}).setdefault((benchmark, shots, chat), value)
        by_run.setdefault(run_id, {})[benchmark] = (value, stderr)
    return result, by_run


def claim_verdict(claim: Claim, facts: Measurements) -> str:
    """The verdict the model page gives a claim that no open flag contradicts."""
    if never_comparable(claim):
        return "not comparable"
    revision_id = claim.revision_id or facts.latest_full_revision
    if revision_id is None:
        return "pending"
    setting = (claim.benchmark, claim.shots or 0, bool(claim.chat_template))
    measured = facts.by_revision.get(revision_id, {}).get(setting)
    if measured is None:
        return "pending"
    return (
        "under-claim" if claim.value is not None and claim.value < measured else "not contradicted"
    )


def worst_verdict(claims: list[Claim], facts: Measurements | None, *, flagged: bool) -> str:
    """The worst verdict among a repo's current claims: an open flag decides at once;
    otherwise each claim is matched with the measurement in its setting, as
    ``selectors.claim_evidence`` does ("" when the repo claims nothing)."""
    if flagged:
        return "contradicted"
    verdicts = [claim_verdict(c, facts or Measurements()) for c in claims]
    return max(verdicts, key=VERDICTS.index, default="")
