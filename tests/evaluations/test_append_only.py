"""Nothing is lost: on PostgreSQL the database itself refuses to UPDATE, DELETE or TRUNCATE the
rows that record what happened (migrations 0011 and 0015), while the services keep appending new
ones; the role the site and the workers connect as (deploy/app_role.sql) could not even try.

Personas: Ada (the author of demo-org/tiny, as the hub said at her sign-in) and Mona (a
moderator). demo-org/tiny measured 50 % on Smoke ARC and claimed 95 %: flagged.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.utils import ProgrammingError

from evaluations import services
from evaluations.lineage import Outcome, Verdict
from evaluations.models import (
    Claim,
    Comment,
    EndpointCheck,
    Flag,
    FlagAction,
    FlagEvent,
    FlagState,
    HostedEndpoint,
    HubMembership,
    LineageBaseAction,
    LineageCheck,
    ModelRepo,
    ProvenanceEvent,
    RepoDecision,
    RunAction,
    RunArtifact,
    Score,
)
from evaluations.services import discussions, lineage, moderation, provenance
from evaluations.services import endpoints as endpoint_services
from tests.factories import arc_claim, inspected_run, person, queued_run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("no_broker"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the guard is PostgreSQL's; SQLite relies on the services",
    ),
]
migration = importlib.import_module("evaluations.migrations.0011_append_only_tables")
truncate_migration = importlib.import_module(
    "evaluations.migrations.0015_append_only_refuses_truncate"
)
provenance_migration = importlib.import_module("evaluations.migrations.0016_provenance")
lineage_migration = importlib.import_module("evaluations.migrations.0020_lineage")
endpoint_migration = importlib.import_module("evaluations.migrations.0021_endpoint")
APP_ROLE_SQL = Path(__file__).resolve().parents[2] / "deploy" / "app_role.sql"
REASON = "Checked the numbers with the author; recorded for the log."

# Each append-only model, with a change someone might be tempted to make in place.
CHANGES: dict[type[models.Model], dict[str, Any]] = {
    Score: {"value": 0.99},
    RunArtifact: {"sha256": "f" * 64},
    Claim: {"typed_value": "50"},
    Flag: {"created_at": datetime(2020, 1, 1, tzinfo=UTC)},
    FlagEvent: {"reason": "Nothing to see here."},
    RepoDecision: {"reason": "Never happened."},
    FlagAction: {"reason": "Never happened."},
    RunAction: {"reason": "Never happened."},
    Comment: {"body": "I never said that."},
    HubMembership: {"orgs": ["demo-org", "someone-elses-org"]},
    ProvenanceEvent: {"weights_changed": True},
    LineageCheck: {"verdict": "unrelated"},
    LineageBaseAction: {"reason": "Never happened."},
    EndpointCheck: {"verdict": "differs"},
}


@pytest.fixture
def moderator() -> User:
    return person("mona", moderator=True)


@pytest.fixture
def history(moderator: User) -> dict[type[models.Model], models.Model]:
    """One row of every append-only table, each recorded through its service."""
    person("ada", hub="ada", orgs=("demo-org",))
    run = inspected_run("demo-org/tiny")
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    assert services.run_record_results(
        run_id=run.id,
        versions={},
        scores=[
            {
                "benchmark_key": "smoke_arc",
                "task": "smoke_arc",
                "metric": "acc",
                "filter": "none",
                "shots": 0,
                "value": 0.5,
                "stderr": 0.05,
                "n_samples": 40,
            }
        ],
        artifacts=[
            {
                "kind": "results",
                "path": f"runs/{run.id}/results.json",
                "sha256": "0" * 64,
                "size_bytes": 10,
            }
        ],
    )
    arc_claim("tiny", 95.0)
    flag = Flag.objects.get()
    discussions.comment_post(flag_id=flag.id, user=moderator, body="Which commit, please?")
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    moderation.repo_set_hidden(
        repo_id=flag.claim.repo_id, user=moderator, hidden=True, reason=REASON
    )
    services.run_cancel(run_id=queued_run("demo-org/other").id, user=moderator, reason=REASON)
    provenance.watch_record_commit(  # main names a commit with a new README: recorded only
        repo_id=run.submission.repo_id,
        ref="main",
        commit_sha="b" * 40,
        committed_at=None,
        files=[
            {"path": "model.safetensors", "size": 10, "sha256": "0" * 64},
            {"path": "README.md", "size": 5, "blob_id": "c" * 40},
        ],
    )
    lineage.lineage_check_record(
        revision_id=run.revision_id,
        named_bases=["base-lab/tiny-base"],
        outcome=Outcome(Verdict.CONSISTENT, "Consistent with the named base."),
        candidates=[],
        bytes_read=100,
        weights_bytes=1000,
    )
    lineage.lineage_base_add(user=moderator, hub_id="base-lab/tiny-base", reason=REASON)
    endpoint = HostedEndpoint.objects.create(
        repo_id=run.submission.repo_id,
        base_url="https://api.example.org/v1",
        served_model="tiny",
        api_kind="completions",
        registered_as="author",
    )
    endpoint_services.endpoint_check_record(
        endpoint_id=endpoint.id,
        revision_id=run.revision_id,
        weights_run_id=run.id,
        verdict="consistent",
        summary="Consistent with the released weights.",
        evidence={"mmd": {"statistic": 0.0, "p_value": 0.6}},
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return {model: model.objects.get() for model in CHANGES}


def remedy(model: type[models.Model]) -> str:
    if model is ProvenanceEvent:  # guarded when it was added (migration 0016)
        return str(provenance_migration.REMEDY)
    if model in (LineageCheck, LineageBaseAction):  # guarded when added (migration 0020)
        return str(lineage_migration.TABLES[model._meta.db_table])
    if model is EndpointCheck:  # guarded when it was added (migration 0021)
        return str(endpoint_migration.REMEDY)
    return migration.APPEND_ONLY_TABLES[model._meta.db_table]


@pytest.mark.parametrize("model", CHANGES, ids=lambda model: model.__name__)
def test_it_refuses_to_update_a_row_in_place(history: dict, model: type[models.Model]) -> None:
    row = history[model]
    with (
        pytest.raises(ProgrammingError, match=f"{model._meta.db_table} is append-only: "),
        transaction.atomic(),
    ):
        model.objects.filter(id=row.id).update(**CHANGES[model])
    after = model.objects.get(id=row.id)
    assert all(getattr(after, field) == getattr(row, field) for field in CHANGES[model])


@pytest.mark.parametrize("model", CHANGES, ids=lambda model: model.__name__)
def test_it_refuses_to_delete_a_row(history: dict, model: type[models.Model]) -> None:
    # Raw SQL, as a hand-run query or a cascade would send it: for the rows other rows point
    # to, Django's own PROTECT would refuse an ORM delete before the database saw it.
    table = model._meta.db_table
    with (
        pytest.raises(ProgrammingError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [history[model].id])  # noqa: S608
    assert str(refused.value).startswith(f"{table} is append-only: {remedy(model)}")
    assert model.objects.filter(id=history[model].id).exists()


def test_the_claim_error_says_what_to_do_instead(history: dict) -> None:
    with pytest.raises(ProgrammingError) as refused, transaction.atomic():
        Claim.objects.update(value=0.5)
    assert str(refused.value).splitlines()[0] == (
        "evaluations_claim is append-only: claims are never updated or deleted; "
        "record a new row that supersedes it"
    )


def test_it_refuses_a_bulk_delete_of_an_author_s_claims_before_the_repo_goes(history: dict) -> None:
    claims = Claim.objects.filter(repo__hub_id="demo-org/tiny")
    with (
        pytest.raises(ProgrammingError, match="evaluations_claim is append-only"),
        transaction.atomic(),
    ):
        claims._raw_delete(connection.alias)
    assert claims.count() == 1 and ModelRepo.objects.filter(hub_id="demo-org/tiny").exists()


def test_the_services_still_append_corrections_decisions_and_comments(
    history: dict, moderator: User
) -> None:
    original = history[Claim]
    corrected = services.claims_record(
        repo_id="demo-org/tiny",
        source="submission",
        claims=[
            services.ClaimInput(
                benchmark="smoke_arc", value=52.0, unit="percent", shots=0, supersedes=original.id
            )
        ],
    )[0]
    flag = history[Flag]
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=False, reason=REASON)
    moderation.repo_set_hidden(
        repo_id=original.repo_id, user=moderator, hidden=False, reason=REASON
    )

    assert corrected.supersedes_id == original.id
    assert Claim.objects.get(id=original.id).typed_value == original.typed_value
    assert FlagEvent.objects.filter(state=FlagState.DISMISSED).count() == 1
    assert FlagAction.objects.count() == 2 and RepoDecision.objects.count() == 2


def test_it_guards_exactly_the_append_only_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name LIKE %s",
            ["%\\_append\\_only"],
        )
        guarded = {table for (table,) in cursor.fetchall()}
    assert guarded == {model._meta.db_table for model in CHANGES}


def test_it_lets_the_truncate_guard_be_reversed(history: dict) -> None:
    refuse_truncate_in_this_session()
    with connection.schema_editor() as editor:
        endpoint_migration.remove(None, editor)  # reversed first: its triggers use 0015's
        lineage_migration.remove(None, editor)  # reversed first: their triggers use 0015's
        provenance_migration.remove(None, editor)
        truncate_migration.remove(None, editor)
    truncate(Comment)
    assert not Comment.objects.exists()
    with connection.schema_editor() as editor:
        truncate_migration.install(None, editor)
        provenance_migration.install(None, editor)
        lineage_migration.install(None, editor)
        endpoint_migration.install(None, editor)
    with pytest.raises(ProgrammingError, match="evaluations_score is append-only"):
        truncate(Score)


def test_it_lets_the_migration_be_reversed(history: dict) -> None:
    score = history[Score]
    with connection.schema_editor() as editor:
        endpoint_migration.remove(None, editor)  # reversed first: its triggers use 0011's
        lineage_migration.remove(None, editor)  # reversed first: their triggers use 0011's
        provenance_migration.remove(None, editor)
        migration.remove(None, editor)
    Score.objects.filter(id=score.id).update(value=0.75)
    assert Score.objects.get(id=score.id).value == 0.75
    with connection.schema_editor() as editor:
        migration.install(None, editor)
        provenance_migration.install(None, editor)
        lineage_migration.install(None, editor)
        endpoint_migration.install(None, editor)
    with (
        pytest.raises(ProgrammingError, match="evaluations_score is append-only"),
        transaction.atomic(),
    ):
        Score.objects.filter(id=score.id).update(value=0.5)


def test_it_does_nothing_on_sqlite() -> None:
    executed: list[str] = []
    editor = SimpleNamespace(
        connection=SimpleNamespace(vendor="sqlite"),
        execute=lambda sql, params=None: executed.append(sql),
    )
    migration.install(None, editor)
    migration.remove(None, editor)
    truncate_migration.install(None, editor)
    truncate_migration.remove(None, editor)
    provenance_migration.install(None, editor)
    provenance_migration.remove(None, editor)
    endpoint_migration.install(None, editor)
    endpoint_migration.remove(None, editor)
    assert executed == []


# --- TRUNCATE (migration 0015) ----------------------------------------------------------------


def refuse_truncate_in_this_session() -> None:
    """The test database lets the suite empty its tables (tests/conftest.py); a production
    session has no such setting."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL claimcheck.allow_truncate = 'off'")


def truncate(model: type[models.Model], cascade: str = "") -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        # The history's foreign-key checks wait for the commit; TRUNCATE waits for no check.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {model._meta.db_table} {cascade}")


@pytest.mark.parametrize("model", CHANGES, ids=lambda model: model.__name__)
def test_the_owner_cannot_truncate_an_append_only_table(
    history: dict, model: type[models.Model]
) -> None:
    refuse_truncate_in_this_session()
    table = model._meta.db_table
    with pytest.raises(ProgrammingError) as refused:
        truncate(model, "CASCADE")
    assert str(refused.value).startswith(
        f"{table} is append-only: TRUNCATE would erase what it records"
    )
    assert model.objects.filter(id=history[model].id).exists()


def test_a_truncate_that_cascades_into_the_record_is_refused(history: dict) -> None:
    refuse_truncate_in_this_session()
    with pytest.raises(ProgrammingError, match="is append-only: TRUNCATE"):
        truncate(ModelRepo, "CASCADE")
    assert Claim.objects.exists() and ModelRepo.objects.exists()


def test_a_session_that_says_it_means_it_may_empty_a_scratch_database(history: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL claimcheck.allow_truncate = 'on'")
    truncate(ModelRepo, "CASCADE")
    assert not Claim.objects.exists() and not Score.objects.exists()


def test_truncate_is_guarded_on_exactly_the_append_only_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE %s",
            ["%\\_no\\_truncate"],
        )
        guarded = {table for (table,) in cursor.fetchall()}
    assert guarded == {model._meta.db_table for model in CHANGES}


# --- the role the site and the workers connect as (deploy/app_role.sql) -----------------------


def connect(user: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    database = connection.settings_dict
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        dbname=database["NAME"],
        user=user,
        autocommit=autocommit,
    )


@pytest.fixture
def app_role(django_db_blocker: Any) -> Iterator[psycopg.Connection[Any]]:
    """The test database granted as docker-compose grants production's: the same file, run by
    the owner. Each statement of the app's runs in a transaction rolled back afterwards."""
    with (
        django_db_blocker.unblock(),
        connect(connection.settings_dict["USER"], autocommit=True) as owner,
    ):
        owner.execute(APP_ROLE_SQL.read_text())
    with connect("app") as app:
        yield app
        app.rollback()


def refusal(app: psycopg.Connection[Any], statement: str) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        app.execute(statement)
    app.rollback()
    return str(refused.value)


@pytest.mark.parametrize("model", CHANGES, ids=lambda model: model.__name__)
def test_the_app_role_may_not_rewrite_the_record(
    app_role: psycopg.Connection[Any], model: type[models.Model]
) -> None:
    table = model._meta.db_table
    denied = f"permission denied for table {table}"
    assert refusal(app_role, f"UPDATE {table} SET id = id") == denied  # noqa: S608
    assert refusal(app_role, f"DELETE FROM {table}") == denied  # noqa: S608
    assert refusal(app_role, f"TRUNCATE {table}") == denied
    assert refusal(app_role, f"ALTER TABLE {table} DISABLE TRIGGER USER") == (
        f"must be owner of table {table}"
    )


def test_the_app_role_may_not_switch_the_triggers_off(app_role: psycopg.Connection[Any]) -> None:
    assert refusal(app_role, "SET session_replication_role = replica") == (
        'permission denied to set parameter "session_replication_role"'
    )
    owned = app_role.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = 'app'::regrole"
    ).fetchone()
    assert owned == (0,)


def test_the_app_role_may_read_append_and_move_runs_forward(
    app_role: psycopg.Connection[Any],
) -> None:
    app_role.execute("SELECT count(*) FROM evaluations_claim")
    app_role.execute("INSERT INTO evaluations_generationbump (created_at) VALUES (now())")
    app_role.execute("UPDATE evaluations_evaluationrun SET heartbeat_at = now()")
    app_role.execute("DELETE FROM django_session")
    assert (
        refusal(
            app_role, "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())"
        )
        == "permission denied for table django_migrations"
    )
