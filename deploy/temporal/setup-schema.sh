#!/bin/sh
# One-shot (temporalio/admin-tools): create Temporal's two databases if they are
# missing and bring their schemas to the version of this image's server. Safe to
# run on every `docker compose up`: existing databases and applied versions stay.
# Connection from the environment: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER,
# SQL_PASSWORD (read by temporal-sql-tool itself).
set -eu
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

setup() {
    database=$1
    schema=$2
    temporal-sql-tool --db "$database" create-database \
        || echo "database $database is there already"
    temporal-sql-tool --db "$database" setup-schema -v 0.0
    temporal-sql-tool --db "$database" update-schema -d "$SCHEMA_DIR/$schema/versioned"
}

setup "${DBNAME:-temporal}" temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
echo "Temporal schemas are up to date"
