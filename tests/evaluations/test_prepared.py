"""A prepared query gives, for each value, what its queryset gives built anew with that value;
and it builds its SQL once.

Rows: demo-org/tiny and demo-org/other, each with a finished run of two scores.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.test.utils import CaptureQueriesContext

from evaluations.models import EvaluationRun, ModelRepo, Revision, Score
from evaluations.prepared import ID_STAND_IN, NAME_STAND_IN, PreparedQuery, id_stand_ins
from evaluations.selectors import repo_runs
from tests.factories import SHA_B, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def runs_of(repo_id: int) -> QuerySet[EvaluationRun]:
    """Related rows, an annotation, a deferred field and an order: what the model page asks."""
    pinned = Revision.objects.filter(repo_id=OuterRef("submission__repo_id"))
    return (
        EvaluationRun.objects.filter(submission__repo_id=repo_id)
        .select_related("submission__repo", "revision")
        .annotate(pinned=Exists(pinned))
        .defer("log_tail")
        .order_by("-id")
    )


RUNS = PreparedQuery(runs_of, ID_STAND_IN)


def test_it_gives_each_value_the_rows_its_queryset_gives() -> None:
    tiny = finished_run("demo-org/tiny")
    other = finished_run("demo-org/other", sha=SHA_B)

    for run in (tiny, other):
        repo_id = run.submission.repo_id
        [prepared] = RUNS.rows(repo_id)
        [built] = runs_of(repo_id)
        assert prepared.id == built.id == run.id
        assert prepared.submission.repo.hub_id == built.submission.repo.hub_id
        assert prepared.revision.commit_sha == run.revision.commit_sha
        assert prepared.pinned is True
        assert "log_tail" in prepared.get_deferred_fields()
    assert RUNS.rows(-1) == []


def test_it_reads_related_rows_in_one_query_and_values_as_tuples() -> None:
    run = finished_run("demo-org/tiny")
    names = PreparedQuery(
        lambda hub_id: ModelRepo.objects.filter(hub_id=hub_id).values_list("id", "hub_id"),
        NAME_STAND_IN,
    )

    repo_id = run.submission.repo_id

    with CaptureQueriesContext(connection) as queries:
        [prepared] = RUNS.rows(repo_id)
        hub_id = prepared.submission.repo.hub_id
    assert len(queries) == 1
    assert names.rows("demo-org/tiny") == [(repo_id, hub_id)]
    assert names.rows("demo-org/missing") == []


def test_the_prefetched_lookups_of_a_call_run_as_usual() -> None:
    run = finished_run("demo-org/tiny")

    [prepared] = RUNS.rows(run.submission.repo_id, prefetch=["scores"])
    with CaptureQueriesContext(connection) as queries:
        benchmarks = sorted(score.benchmark for score in prepared.scores.all())
    assert benchmarks == ["smoke_arc", "smoke_gsm8k"]
    assert len(queries) == 0


def test_it_refuses_a_queryset_without_its_stand_in() -> None:
    fixed = PreparedQuery(lambda _: Score.objects.filter(benchmark="smoke_arc"), ID_STAND_IN)

    with pytest.raises(ValueError, match="stand-ins"):
        fixed.rows(1)


def test_a_repos_runs_come_with_their_scores_and_artifacts_without_more_queries() -> None:
    run = finished_run("demo-org/tiny")
    repo = ModelRepo.objects.get(hub_id="demo-org/tiny")

    runs = repo_runs(repo)
    with CaptureQueriesContext(connection) as queries:
        [read] = runs
        scores = list(read.scores.all())
        artifacts = list(read.artifacts.all())
    assert [score.id for score in scores] == list(
        Score.objects.filter(run=run).order_by("id").values_list("id", flat=True)
    )
    assert all(score.run is read for score in scores)
    assert artifacts == []
    assert len(queries) == 0


def test_several_stand_ins_stand_for_a_list_of_a_given_length() -> None:
    tiny = finished_run("demo-org/tiny")
    other = finished_run("demo-org/other", sha=SHA_B)
    pair = PreparedQuery(
        lambda *ids: EvaluationRun.objects.filter(id__in=ids).order_by("id").values_list("id"),
        *id_stand_ins(2),
    )

    assert pair.rows(other.id, tiny.id) == [(tiny.id,), (other.id,)]
    assert pair.rows(tiny.id, -5) == [(tiny.id,)]
    with pytest.raises(TypeError, match="2 values expected"):
        pair.rows(tiny.id)


def test_postgresql_plans_a_repeated_query_once_per_connection() -> None:
    """Django turns psycopg's preparing off unless the settings ask for it: they do, so a
    query a connection has run a few times is prepared, and PostgreSQL no longer plans it."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    tiny = finished_run("demo-org/tiny")
    for _ in range(6):
        RUNS.rows(tiny.submission.repo_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "evaluations_evaluationrun"' in statement for statement in prepared)
