"""Reads of the rows the rankings' read table (``RankingEntry``) is derived from: each repo's
latest whole-suite runs, their scores, and the flags that stand. ``services.read_models``
builds the table's rows from them; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from evaluations.models import (
    FLAG_SUBJECT_REPOS,
    PROVENANCE_FLAG_KINDS,
    EvaluationRun,
    FlagEvent,
    Score,
)
from evaluations.selectors.flags import open_flags

SEVERITIES = ("", "minor", "major", "severe")
ANY_PRECISION = ""  # the scope of a repo's latest run whatever its precision

# id, repo, suite, precision, hub id, parameter count, licence, commit
RunFacts = tuple[int, int, str, str, str, int | None, str, str | None]
Measured = dict[str, tuple[float, float | None]]  # benchmark → (raw value, stderr)
Scoped = tuple[int, str, str]  # repo, suite, precision scope


def measured_repo_ids() -> list[int]:
    """Every repo with a finished whole-suite run, in id order: the repos that rank."""
    return sorted(
        set(
            EvaluationRun.objects.finished_ok()
            .whole_suite()
            .values_list("submission__repo_id", flat=True)
        )
    )


def latest_runs(repo_ids: list[int]) -> dict[Scoped, RunFacts]:
    """The repos' latest finished whole-suite run per suite, of any precision
    (``ANY_PRECISION``) and in each precision, as plain values."""
    runs = (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__repo_id__in=repo_ids)
        .order_by("-finished_at", "-id")
        .values_list(
            "id",
            "submission__repo_id",
            "submission__suite",
            "submission__precision",
            "submission__repo__hub_id",
            "revision__parameter_count",
            "revision__licence",
            "revision__commit_sha",
        )
    )
    latest: dict[Scoped, RunFacts] = {}
    for run in runs:
        for scope in (ANY_PRECISION, run[3]):
            latest.setdefault((run[1], run[2], scope), run)
    return latest


def open_flag_severities(repo_ids: Iterable[int]) -> dict[int, str]:
    """Repos with a flag that stands (``flags.open_flags``: the rule's, unless a moderator
    dismissed it, or a moderator's confirmation), each with its worst severity."""
    latest = FlagEvent.objects.filter(flag=OuterRef("pk")).newest_first()
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


def provenance_flagged_repo_ids(repo_ids: Iterable[int]) -> set[int]:
    """Repos with a provenance flag that stands (weights replaced after claims, weights
    unlike the named base, an endpoint unlike the weights), whatever its subject."""
    flags = (
        open_flags()
        .filter(kind__in=PROVENANCE_FLAG_KINDS)
        .annotate(subject_repo_id=Coalesce(*FLAG_SUBJECT_REPOS))
        .filter(subject_repo_id__in=list(repo_ids))
    )
    return set(flags.values_list("subject_repo_id", flat=True))


def run_measurements(repo_ids: list[int]) -> dict[int, Measured]:
    """Each finished run's scores of the repos, by run (one query)."""
    scores = Score.objects.measured().of_repos(repo_ids)
    rows = scores.values_list("run_id", "benchmark", "value", "stderr")
    by_run: dict[int, Measured] = {}
    for run_id, benchmark, value, stderr in rows:
        by_run.setdefault(run_id, {})[benchmark] = (value, stderr)
    return by_run
