-- The role the site and the workers connect as: it owns nothing, so it can neither ALTER a
-- table (DISABLE TRIGGER) nor set session_replication_role (superuser only), and it holds no
-- TRUNCATE privilege. The owner runs this after every migrate (docker-compose's db-grants
-- service; tests/evaluations/test_append_only.py runs this same file): it is idempotent, and
-- grants on tables a new migration added.
--
-- What the role may do:
-- - SELECT and INSERT on every table, USAGE on every sequence (new rows get their ids);
-- - UPDATE and DELETE only on the tables the append-only guard does not cover (migration 0011:
--   the tables with an "<table>_append_only" trigger). Runs move forward in place, sessions
--   end at sign-out, old generation bumps are pruned, the ranking rows are rewritten;
-- - django_migrations: read only (the owner migrates).
-- Its password is set apart, by whoever runs this (deploy/grant_app_role.sh).

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN
        CREATE ROLE app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    END IF;
END
$$;

-- Start from nothing each time, so a privilege taken away here is taken away there too.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM app;
GRANT USAGE ON SCHEMA public TO app;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app;
REVOKE INSERT ON django_migrations FROM app;

DO $$
DECLARE
    mutable regclass;
BEGIN
    FOR mutable IN
        SELECT format('%I.%I', schemaname, tablename)::regclass
        FROM pg_tables
        WHERE schemaname = 'public'
          AND tablename <> 'django_migrations'
          AND NOT EXISTS (
              SELECT FROM pg_trigger
              WHERE tgrelid = format('%I.%I', schemaname, tablename)::regclass
                AND tgname = tablename || '_append_only'
          )
    LOOP
        EXECUTE format('GRANT UPDATE, DELETE ON %s TO app', mutable);
    END LOOP;
END
$$;
