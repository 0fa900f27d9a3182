#!/usr/bin/env bash
# Exists only because no container registry is reachable here: the stand-in postgres image's
# entrypoint. It keeps the official image's contract that the workshop relies on:
#  - POSTGRES_PASSWORD required at first init (unless POSTGRES_HOST_AUTH_METHOD=trust);
#  - POSTGRES_USER (default postgres), POSTGRES_DB (default $POSTGRES_USER), PGDATA;
#  - pg_hba for host connections = POSTGRES_HOST_AUTH_METHOD, default the server's
#    password_encryption (so `postgres -c password_encryption=md5` gives md5);
#  - /docker-entrypoint-initdb.d: *.sh run (executable) or sourced, *.sql run with psql,
#    once, on first init only;
#  - postgres runs as PID 1, user postgres; arguments starting with '-' go to postgres.
set -Eeo pipefail
shopt -s nullglob

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"
fi

export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
export POSTGRES_PASSWORD POSTGRES_HOST_AUTH_METHOD

if [ "$(id -u)" = 0 ]; then  # as root: own the directories, then run again as postgres
    mkdir -p "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

sql() {  # psql as the superuser over the temporary server's socket
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

if [ -s "$PGDATA/PG_VERSION" ]; then
    echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
    exec "$@"
fi

if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    cat >&2 <<'EOF'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
EOF
    exit 1
fi

# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    $POSTGRES_INITDB_ARGS
auth=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${@:2}")}
printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"

# A temporary server on the socket only: nothing reaches port 5432 before init is done.
export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
pg_ctl -D "$PGDATA" -w start -o "$(printf '%q ' "${@:2}" -c listen_addresses=)"
if [ -z "$(sql --dbname postgres --tuples-only --set db="$POSTGRES_DB" \
        <<< "SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
    sql --dbname postgres --set db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db"'
fi
# shellcheck disable=SC1090  # sources the user's scripts
for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
        *.sh) if [ -x "$f" ]; then echo "$0: running $f"; "$f"
              else echo "$0: sourcing $f"; . "$f"; fi ;;
        *.sql) echo "$0: running $f"; sql --dbname "$POSTGRES_DB" -f "$f" ;;
        *) echo "$0: ignoring $f" ;;
    esac
done
pg_ctl -D "$PGDATA" -m fast -w stop
unset PGPASSWORD
echo "PostgreSQL init process complete; ready for start up."

exec "$@"
