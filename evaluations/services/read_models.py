"""Read tables: what the rankings show, kept next to the rows it is derived from.

``RankingEntry`` holds one row per repo, suite and precision scope (the latest whole-suite run
of any precision, and the latest in each precision the repo was run in) with everything the
rankings filter and sort on. The services that change what the rankings show (a recorded
run, recomputed flags, a moderator's decision) call ``ranking_entries_refresh`` inside their
own transaction; ``ranking_entries_rebuild`` recomputes the whole table for deployments and
after bulk loads. Nobody writes the table by hand. The source rows are read by
``selectors.read_models``; the rankings read the table through ``selectors.rankings``.

An entry is never updated: a change deletes it and writes a new row, under a new id. Each
write sends ``ranking_entries_written`` with the new ids, inside the same transaction: the
site keeps each entry's rendered row against its id (``leaderboard.row_markup``).
"""

from __future__ import annotations

import math

from django.db import transaction
from django.dispatch import Signal

from evaluations.catalogue import SUITES, Benchmark, suite_benchmarks
from evaluations.evidence.matching import evidence_for_repos, headline_verdict
from evaluations.evidence.verdicts import Verdict
from evaluations.generation import generation_bump
from evaluations.models import RankingEntry
from evaluations.selectors import hidden_repo_ids
from evaluations.selectors.read_models import (
    Measured,
    RunFacts,
    latest_runs,
    measured_repo_ids,
    open_flag_severities,
    provenance_flagged_repo_ids,
    run_measurements,
)

REBUILD_CHUNK = 1000  # repos per round of the bulk rebuild

# Sent with ``entry_ids`` (a list) each time entries are written, inside their transaction.
ranking_entries_written = Signal()


def ranking_entries_refresh(*, repo_id: int) -> None:
    """Recompute the repo's ranking entries from its runs, scores, claims, flags and hiding."""
    with transaction.atomic():
        RankingEntry.objects.filter(repo_id=repo_id).delete()
        _write(_entries([repo_id]))
        generation_bump()


def ranking_entries_rebuild() -> int:
    """Recompute every entry (a deployment, a bulk load); returns how many there are."""
    repo_ids = measured_repo_ids()
    with transaction.atomic():
        RankingEntry.objects.all().delete()
        for first in range(0, len(repo_ids), REBUILD_CHUNK):
            chunk = repo_ids[first : first + REBUILD_CHUNK]
            _write(_entries(chunk))
        generation_bump()
    return RankingEntry.objects.count()


def _write(entries: list[RankingEntry]) -> None:
    written = RankingEntry.objects.bulk_create(entries, batch_size=2000)
    ranking_entries_written.send(RankingEntry, entry_ids=[entry.id for entry in written])


# --- From source rows to entries ----------------------------------------------------------


def _entries(repo_ids: list[int]) -> list[RankingEntry]:
    """The repos' entries, from a handful of queries of plain values (a bulk rebuild makes
    thousands at a time; model instances would cost most of its time)."""
    latest = latest_runs(repo_ids)
    severities = open_flag_severities(repo_ids)
    provenance_flagged = provenance_flagged_repo_ids(repo_ids)
    evidence = evidence_for_repos(repo_ids)
    run_scores = run_measurements(repo_ids)
    hidden = set(hidden_repo_ids().filter(id__in=repo_ids).values_list("id", flat=True))
    verdicts = {repo_id: headline_verdict(evidence.get(repo_id, [])) for repo_id in repo_ids}
    return [
        _entry(
            run,
            scope,
            run_scores.get(run[0], {}),
            severity=severities.get(run[1]),
            not_comparable=any(
                row.rule_verdict == Verdict.NOT_COMPARABLE for row in evidence.get(run[1], [])
            ),
            verdict=verdicts[run[1]],
            provenance_flagged=run[1] in provenance_flagged,
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
    provenance_flagged: bool,
    hidden: bool,
) -> RankingEntry:
    run_id, repo_id, suite, precision, hub_id, parameter_count, licence, commit_sha = run
    average, raw_average, average_stderr = run_averages(scores, suite_benchmarks(suite))
    return RankingEntry(
        repo_id=repo_id,
        suite=suite,
        precision_scope=scope,
        run_id=run_id,
        hub_id=hub_id,
        parameter_count=parameter_count,
        precision=precision,
        commit_sha=commit_sha or "",
        licence=licence or "",
        average=average,
        raw_average=raw_average,
        average_stderr=average_stderr,
        scores={key: {"value": value, "stderr": stderr} for key, (value, stderr) in scores.items()},
        flagged=severity is not None,
        severity=severity or "",
        not_comparable=not_comparable,
        verdict=verdict,
        provenance_flagged=provenance_flagged,
        hidden=hidden,
    )


def run_averages(scores: Measured, benchmarks: list[Benchmark]) -> tuple[float, float, float]:
    """The normalised average (0–100), the raw average and the normalised average's standard
    error. A benchmark the run lacks counts as 0, so a partial run never outranks a whole one."""
    measured = [(b, *scores[b.key]) for b in benchmarks if b.key in scores]
    count = len(benchmarks)
    # Benchmarks are independent samples: variances add, and the mean divides by n.
    variance = sum(b.normalise_stderr(stderr) ** 2 for b, _, stderr in measured)
    return (
        sum(b.normalise(value) for b, value, _ in measured) / count,
        sum(value for _, value, _ in measured) / count,
        math.sqrt(variance) / count,
    )
