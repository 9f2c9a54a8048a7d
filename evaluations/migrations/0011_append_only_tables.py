"""The database refuses to UPDATE or DELETE a row of the tables that record what happened.

Claims, measurements, flags, moderators' decisions and actions, comments and what the hub said
about a user are never changed: a correction is a new row that supersedes, a decision is undone
by a later one. Until now only the services' discipline kept that; a stray ``.update()``, a
cascade or a hand-run query would lose history silently. A BEFORE UPDATE OR DELETE row trigger
on each table makes it a guarantee of PostgreSQL, which production and CI run.

Why it is shaped this way:
- One trigger function for all tables; each trigger passes the sentence that tells the reader
  what to do instead, so the error names the table and the remedy.
- The exception keeps PL/pgSQL's default SQLSTATE (P0001, ``raise_exception``), which psycopg
  and Django raise as ``ProgrammingError``. An integrity-violation code would be caught by the
  services' ``except IntegrityError`` handlers (a concurrent correction of a claim, for one)
  and turned into a misleading message; this way a violation stays what it is, a bug, and is
  loud (no request reaches one: see the admin's ``ReadOnlyAdmin`` and the PROTECT keys).
- Row triggers, not statement triggers: an UPDATE or DELETE that matches nothing changes
  nothing, and TRUNCATE fires neither (the test suite's flush between transactional tests,
  and an operator wiping a scratch database, keep working).
- INSERT is untouched, so recording costs nothing more.
- SQLite (the embedded demo database) has no PL/pgSQL: there the migration does nothing and the
  services' discipline remains the only guard.

Not guarded, on purpose: ``RankingEntry`` (a read table, rewritten from the rows above),
``GenerationBump`` (old rows are pruned), runs, submissions and revisions (a run's state moves
forward in place), and API tokens (revoking and use stamp the row).
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FUNCTION = "evaluations_refuse_change"

# table -> what to do instead (the second half of the error message).
APPEND_ONLY_TABLES = {
    "evaluations_score": "measured scores are written once, when their run is recorded; "
                         "a new measurement is a new run",
    "evaluations_runartifact": "a run's files are recorded once, with their sha256",
    "evaluations_claim": "claims are never updated or deleted; record a new row that "
                         "supersedes it",
    "evaluations_flag": "a flag's state is the latest of its events; append a flag event",
    "evaluations_flagevent": "flag events are never updated or deleted; append a new event",
    "evaluations_repodecision": "a decision is undone by a later decision; record a new one",
    "evaluations_flagaction": "a lock is undone by an unlock; record a new action",
    "evaluations_runaction": "moderators' run actions stay on the record; record a new action",
    "evaluations_comment": "comments are never edited or deleted; post a new comment",
    "evaluations_hubmembership": "each answer of the hub is kept; record a new membership row",
}

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: %', TG_TABLE_NAME, TG_ARGV[0]
        USING DETAIL = format('%s refused on %s.', TG_OP, TG_TABLE_NAME);
END;
$$;
"""


def _trigger_name(table: str) -> str:
    return f"{table}_append_only"


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the function's body has % signs that are PL/pgSQL's, not placeholders.
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table, remedy in APPEND_ONLY_TABLES.items():
        schema_editor.execute(
            f"CREATE TRIGGER {_trigger_name(table)} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}(%s)",
            [remedy],
        )


def remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table)} ON {table}",
                              params=None)
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("evaluations", "0010_run_actions"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
