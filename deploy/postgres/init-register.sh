#!/bin/sh
# First start of an empty data volume only (docker-entrypoint-initdb.d): the
# complaint register's own role and database, apart from Temporal's databases
# (those belong to the superuser and are created by the temporal-schema job).
set -eu
: "${REGISTER_DB_USER:?}" "${REGISTER_DB_NAME:?}" "${REGISTER_DB_PASSWORD:?}"

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v user="$REGISTER_DB_USER" -v db="$REGISTER_DB_NAME" -v password="$REGISTER_DB_PASSWORD" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
