"""Reads behind the open-data API and its CSV downloads. No writes here.

Every paged list reads a page's ids first and then loads only those rows with what the API
shows, so that a page costs the same few queries, and about the same time, at any offset.
``active_runs_tag`` is what the page cache (``leaderboard.page_cache``) keys live responses
on beyond the site's generation (``evaluations.generation``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from evaluations.models import (
    EvaluationRun,
    Flag,
    FlagEvent,
    ModelRepo,
)
from evaluations.prepared import PreparedQuery
from evaluations.selectors.flags import flagged_repo_ids, open_flags

# --- What cached pages rest on ---------------------------------------------------------


# Read on every rankings page and run API answer: its SQL is built once.
_IN_FLIGHT = PreparedQuery(
    lambda: EvaluationRun.objects.in_flight().values_list(
        "progress_done", "progress_total", "heartbeat_at"
    )
)


def active_runs_tag(*, heartbeats: bool = False) -> str:
    """What a page's live part rests on beyond the generation: the progress of the runs in
    flight (a heartbeat moves it without a bump) and, with ``heartbeats``, their last
    heartbeat (the run API's duration grows with it)."""
    # The runs in flight are a handful (one per worker slot): read and added up here, which
    # costs the ORM half the time of building an aggregate query on every page.
    runs = _IN_FLIGHT.rows()
    done, total = sum(run[0] for run in runs), sum(run[1] for run in runs)
    beat = max((run[2] for run in runs if run[2] is not None), default=None)
    tag = f"{len(runs)}:{done}:{total}"
    return f"{tag}:{beat.timestamp()}" if heartbeats and beat else tag


# --- Models -----------------------------------------------------------------------------


def repo_by_hub_id(hub_id: str) -> ModelRepo | None:
    return ModelRepo.objects.filter(hub_id=hub_id).first()


class IdsFirst:
    """A list the API pages by limit and offset, read ids first: the count and the page's
    ids come from the filtered, ordered rows alone (their indexes); only the page's rows are
    then loaded, with ``load`` adding the joins and annotations. Asking for the annotated
    rows with OFFSET instead makes PostgreSQL compute every correlated subquery of each row
    the OFFSET skips: 0.8 s at offset 9,900 of 10,000 models against 0.013 s at offset 0."""

    def __init__(self, ids: QuerySet[Any], load: Callable[[QuerySet[Any]], QuerySet[Any]]):
        self._ids = ids
        self._load = load

    def all(self) -> IdsFirst:  # django-ninja counts ``queryset.all().count()``
        return self

    def count(self) -> int:
        return self._ids.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[Any]:
        ids = list(self._ids.values_list("id", flat=True)[page])
        rows = self._load(self._ids.model.objects.filter(id__in=ids)).in_bulk(ids)
        return [rows[row_id] for row_id in ids]


def models_list(*, query: str = "", flagged: bool | None = None) -> IdsFirst:
    """Repos by hub id, each with its latest evaluated commit (the revision of its latest
    finished whole-suite run) and its number of open flags, read a page at a time."""
    repos = ModelRepo.objects.resolved().order_by("hub_id")
    if query:
        repos = repos.filter(hub_id__icontains=query)
    if flagged is not None:
        ids = flagged_repo_ids()
        repos = repos.filter(id__in=ids) if flagged else repos.exclude(id__in=ids)
    return IdsFirst(repos, _with_latest_commit)


def _with_latest_commit(repos: QuerySet[ModelRepo]) -> QuerySet[ModelRepo]:
    latest = (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(submission__repo=OuterRef("pk"), revision__isnull=False)
        .order_by("-finished_at")
    )
    open_count = (
        # The flags that stand, as the rankings and the model page count them.
        open_flags()
        .filter(claim__repo=OuterRef("pk"))
        .order_by()
        .values("claim__repo")
        .annotate(count=Count("id"))
        .values("count")
    )
    return repos.annotate(
        latest_commit=Subquery(latest.values("revision__commit_sha")[:1]),
        parameter_count=Subquery(latest.values("revision__parameter_count")[:1]),
        licence=Subquery(latest.values("revision__licence")[:1]),
        open_flag_count=Subquery(open_count[:1]),
    )


def model_summary(repo: ModelRepo) -> ModelRepo:
    """The repo with the same annotations as a row of ``models_list``."""
    return _with_latest_commit(ModelRepo.objects.filter(id=repo.id)).get()


# --- Runs -------------------------------------------------------------------------------


def runs_list(*, state: str = "", hub_id: str = "", suite: str = "") -> IdsFirst:
    """Runs, newest first, filtered by state, repo and suite; a page's ids are read before
    its submissions, repos and revisions are joined."""
    filters = Q()
    if state:
        filters &= Q(state=state)
    if hub_id:
        filters &= Q(submission__repo__hub_id=hub_id)
    if suite:
        filters &= Q(submission__suite=suite)
    runs = EvaluationRun.objects.filter(filters).order_by("-created_at", "-id")
    return IdsFirst(runs, lambda page: page.select_related("submission__repo", "revision"))


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
