"""The append-only tables refuse TRUNCATE too, unless the session says it means it.

Migration 0011's row triggers refuse UPDATE and DELETE, but TRUNCATE fires no row trigger: one
statement could still empty the record. A BEFORE TRUNCATE statement trigger on each of the same
tables closes that, for the owner too (the site and the workers connect as a role that has no
TRUNCATE privilege at all: deploy/app_role.sql).

Why it is shaped this way:
- A scratch or test database must still be emptied: Django's ``flush`` (and the test suite's,
  between transactional tests) truncates every table. A session that sets
  ``claimcheck.allow_truncate = on`` (``SET``, ``PGOPTIONS`` or ``ALTER DATABASE ... SET``) is
  let through. Only the owner holds the TRUNCATE privilege, and the owner could as well
  disable the trigger: the setting makes wiping a deliberate act, not a stray statement.
- Statement triggers fire for the tables a ``TRUNCATE ... CASCADE`` reaches as well.
- The same SQLSTATE as 0011's (P0001): a refusal is a bug, not an integrity conflict.
- SQLite (the embedded demo database) has no TRUNCATE and no PL/pgSQL: nothing is done there.
"""

import importlib

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

APPEND_ONLY_TABLES = tuple(
    importlib.import_module("evaluations.migrations.0011_append_only_tables").APPEND_ONLY_TABLES
)
FUNCTION = "evaluations_refuse_truncate"
ALLOW_SETTING = "claimcheck.allow_truncate"

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{ALLOW_SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE would erase what it records', TG_TABLE_NAME
        USING DETAIL = 'Only a scratch database is emptied, by a session that first runs '
                       'SET {ALLOW_SETTING} = on.';
END;
$$;
"""


def _trigger_name(table: str) -> str:
    return f"{table}_no_truncate"


def install(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {_trigger_name(table)} BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()",
            params=None,
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
        ("evaluations", "0014_claim_hub_results_fields"),
    ]

    operations = [
        migrations.RunPython(install, remove, elidable=False),
    ]
