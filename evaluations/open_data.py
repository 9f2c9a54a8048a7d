"""Reads behind the open-data API and its CSV downloads. No writes here.

Every list is a queryset whose rows carry what the API shows, so that a page costs the same
few queries whatever its length. ``site_version``, ``repo_version`` and ``run_version`` are
cheap fingerprints of the data a response rests on: the API answers 304 while they stay put.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from evaluations import selectors
from evaluations.models import (
    Claim,
    EvaluationRun,
    Flag,
    FlagEvent,
    FlagState,
    ModelRepo,
    Revision,
)

OPEN_STATES = (FlagState.OPENED, FlagState.REOPENED)


# --- Fingerprints for conditional GET ---------------------------------------------------


@dataclass(frozen=True)
class DataVersion:
    """What a response rests on: a tag that changes with every update, and its last time."""

    tag: str
    last_modified: datetime | None


def _newest(queryset: QuerySet, field: str) -> QuerySet:
    """A one-value queryset: the largest ``field`` (index-friendly: ORDER BY … LIMIT 1)."""
    present = queryset.exclude(**{f"{field}__isnull": True})
    return present.order_by(F(field).desc()).values(field)[:1]


def _fingerprint(parts: dict[str, QuerySet]) -> DataVersion:
    """Read every one-value queryset in a single round trip and fold them into a version."""
    sql, params = [], []
    for queryset in parts.values():
        part_sql, part_params = queryset.query.sql_with_params()
        sql.append(f"({part_sql})")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(sql), params)
        values = cursor.fetchone()
    tag = "|".join(f"{name}={value}" for name, value in zip(parts, values, strict=True))
    times = [v for v in values if isinstance(v, datetime)]
    return DataVersion(tag=hashlib.sha256(tag.encode()).hexdigest()[:32],
                       last_modified=max(times) if times else None)


def _run_parts(runs: QuerySet[EvaluationRun]) -> dict[str, QuerySet]:
    # Every change of a run's state stamps one of these (a transition, a heartbeat with
    # progress, a final state); a new run or a retry is a new id.
    return {
        "run": _newest(runs, "id"),
        "run_heartbeat": _newest(runs, "heartbeat_at"),
        "run_started": _newest(runs, "started_at"),
        "run_finished": _newest(runs, "finished_at"),
    }


def site_version() -> DataVersion:
    """Changes with any new repo, revision, run state, claim or flag event."""
    return _fingerprint({
        **_run_parts(EvaluationRun.objects.all()),
        "repo": _newest(ModelRepo.objects.all(), "id"),
        "revision": _newest(Revision.objects.all(), "id"),
        "claim": _newest(Claim.objects.all(), "id"),
        "flag_event": _newest(FlagEvent.objects.all(), "id"),
        "claim_time": _newest(Claim.objects.all(), "created_at"),
        "flag_event_time": _newest(FlagEvent.objects.all(), "created_at"),
    })


def repo_version(repo_id: int) -> DataVersion:
    """Changes with any new revision, run state, claim or flag event of one repo."""
    claims = Claim.objects.filter(repo_id=repo_id)
    events = FlagEvent.objects.filter(flag__claim__repo_id=repo_id)
    return _fingerprint({
        **_run_parts(EvaluationRun.objects.filter(submission__repo_id=repo_id)),
        "repo": ModelRepo.objects.filter(id=repo_id).values("id"),
        "revision": _newest(Revision.objects.filter(repo_id=repo_id), "id"),
        "claim": _newest(claims, "id"),
        "flag_event": _newest(events, "id"),
        "claim_time": _newest(claims, "created_at"),
        "flag_event_time": _newest(events, "created_at"),
    })


def run_version(run_id: int) -> DataVersion:
    """Changes with every state change or heartbeat of one run (scores come with its end)."""
    return _fingerprint({
        **_run_parts(EvaluationRun.objects.filter(id=run_id)),
        "state": EvaluationRun.objects.filter(id=run_id).values("state"),
        "progress": EvaluationRun.objects.filter(id=run_id).values("progress_done"),
    })


# --- Models -----------------------------------------------------------------------------


def repo_by_hub_id(hub_id: str) -> ModelRepo | None:
    if "\x00" in hub_id:  # PostgreSQL refuses NUL in text; no repo can have one
        return None
    return ModelRepo.objects.filter(hub_id=hub_id).first()


def _open_flags() -> QuerySet[Flag]:
    latest = FlagEvent.objects.filter(flag=OuterRef("pk")).order_by("-created_at", "-id")
    return Flag.objects.annotate(last_state=Subquery(latest.values("state")[:1])).filter(
        last_state__in=OPEN_STATES
    )


def models_list(*, query: str = "", flagged: bool | None = None) -> QuerySet[ModelRepo]:
    """Repos by hub id, each annotated with its latest evaluated commit (the revision of its
    latest finished whole-suite run) and its number of open flags."""
    latest = (
        EvaluationRun.objects.finished_ok()
        .filter(submission__repo=OuterRef("pk"), submission__tasks=[], revision__isnull=False)
        .order_by("-finished_at")
    )
    open_count = (
        _open_flags().filter(claim__repo=OuterRef("pk")).order_by()
        .values("claim__repo").annotate(count=Count("id")).values("count")
    )
    repos = ModelRepo.objects.annotate(
        latest_commit=Subquery(latest.values("revision__commit_sha")[:1]),
        parameter_count=Subquery(latest.values("revision__parameter_count")[:1]),
        licence=Subquery(latest.values("revision__licence")[:1]),
        open_flag_count=Subquery(open_count[:1]),
    ).order_by("hub_id")
    if query:
        repos = repos.filter(hub_id__icontains=query)
    if flagged is not None:
        ids = selectors.flagged_repo_ids()
        repos = repos.filter(id__in=ids) if flagged else repos.exclude(id__in=ids)
    return repos


def model_summary(repo: ModelRepo) -> ModelRepo:
    """The repo with the same annotations as a row of ``models_list``."""
    return models_list().get(id=repo.id)


# --- Runs -------------------------------------------------------------------------------


def runs_list(*, state: str = "", hub_id: str = "", suite: str = "") -> QuerySet[EvaluationRun]:
    """Runs, newest first, filtered by state, repo and suite."""
    runs = EvaluationRun.objects.select_related("submission__repo", "revision").order_by(
        "-created_at", "-id"
    )
    filters = Q()
    if state:
        filters &= Q(state=state)
    if hub_id:
        filters &= Q(submission__repo__hub_id=hub_id)
    if suite:
        filters &= Q(submission__suite=suite)
    return runs.filter(filters)


def run_detail(run_id: int) -> EvaluationRun | None:
    """One run with its submission, revision, scores and artifacts loaded."""
    return (
        EvaluationRun.objects.select_related("submission__repo", "revision")
        .prefetch_related("scores", "artifacts")
        .filter(id=run_id)
        .first()
    )


# --- Flags ------------------------------------------------------------------------------


def repo_flags(repo_id: int) -> list[Flag]:
    """The repo's flags, oldest first, each with its claim and its full event history."""
    events = FlagEvent.objects.order_by("created_at", "id")
    return list(
        Flag.objects.filter(claim__repo_id=repo_id)
        .select_related("claim")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by("created_at", "id")
    )
