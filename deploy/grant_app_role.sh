#!/bin/sh
# docker-compose's db-grants service: once migrate has finished, the owner (PGUSER) grants
# the app role what deploy/app_role.sql says and sets its password (APP_DATABASE_PASSWORD).
set -eu
psql -v ON_ERROR_STOP=1 --quiet -f /deploy/app_role.sql
# Through a psql variable, quoted by psql: the password never becomes part of the SQL text.
echo "ALTER ROLE app PASSWORD :'app_password';" |
    psql -v ON_ERROR_STOP=1 --quiet -v app_password="$APP_DATABASE_PASSWORD"
