#!/bin/sh
# docker compose's first-init hook for the db service. The postgres image runs the scripts
# in /docker-entrypoint-initdb.d once, when its data directory is still empty, with a
# temporary server listening on the socket only. This runs the two SQL files exactly as
# step 4 does by hand: in order, each as the right user. Names come from .env, passed by
# docker-compose.yml as DB_NAME, DB_USER, DB_PASSWORD.
# `|| exit 1` stops the first init on an error, whether the image runs or sources this.

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -f /sql/create_db.sql || exit 1
PGPASSWORD="$DB_PASSWORD" psql -v ON_ERROR_STOP=1 --username "$DB_USER" --dbname "$DB_NAME" \
    -f /sql/create_schema_and_fixtures.sql || exit 1
