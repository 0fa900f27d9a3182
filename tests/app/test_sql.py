"""sql/: run with psql exactly as learners run it, on a real PostgreSQL."""

import re

import pytest

from harness import query
from pg import Cluster
from settings import PROJECT, S

CREATE_DB = PROJECT / "sql/create_db.sql"
SCHEMA = PROJECT / "sql/create_schema_and_fixtures.sql"


@pytest.fixture
def empty_cluster():
    pg = Cluster()
    pg.start()
    yield pg
    pg.destroy()


def run_both(pg):
    first = pg.psql("-f", CREATE_DB, "postgres")
    second = pg.psql("-f", SCHEMA, S["DB_NAME"], user=S["DB_USER"], password=S["DB_PASSWORD"])
    return first, second


def test_both_files_run_twice_without_error_or_duplicate_fixtures(empty_cluster):
    run_both(empty_cluster)
    fixtures = query(empty_cluster, "SELECT content FROM messages ORDER BY id")
    assert len(fixtures) == 3
    again = run_both(empty_cluster)  # psql -v ON_ERROR_STOP: an error would raise here
    assert all("ERROR" not in done.stderr for done in again)
    assert query(empty_cluster, "SELECT content FROM messages ORDER BY id") == fixtures


def test_role_password_is_stored_as_md5_even_where_scram_is_the_default(empty_cluster):
    # This cluster runs with md5; force SCRAM as a learner's server might have it.
    empty_cluster.psql("-c", "ALTER SYSTEM SET password_encryption = 'scram-sha-256'",
                       "postgres")
    empty_cluster.psql("-c", "SELECT pg_reload_conf()", "postgres")
    run_both(empty_cluster)
    done = empty_cluster.psql("-Atc", "SELECT rolpassword FROM pg_authid "
                              f"WHERE rolname = '{S['DB_USER']}'", "postgres")
    assert re.fullmatch(r"md5[0-9a-f]{32}", done.stdout.strip())


def test_an_existing_scram_role_is_converted_to_md5_on_a_second_run(empty_cluster):
    empty_cluster.psql("-c", f"SET password_encryption = 'scram-sha-256'; CREATE ROLE "
                       f"{S['DB_USER']} LOGIN PASSWORD 'old'", "postgres")
    run_both(empty_cluster)
    done = empty_cluster.psql("-Atc", "SELECT rolpassword FROM pg_authid "
                              f"WHERE rolname = '{S['DB_USER']}'", "postgres")
    assert done.stdout.startswith("md5")


def test_database_and_table_belong_to_the_workshop_role(cluster):
    owner = cluster.psql("-Atc", "SELECT pg_get_userbyid(datdba) FROM pg_database "
                         f"WHERE datname = '{S['DB_NAME']}'", "postgres").stdout.strip()
    assert owner == S["DB_USER"]
    table_owner = query(cluster, "SELECT tableowner FROM pg_tables WHERE tablename = 'messages'")
    assert table_owner == [(S["DB_USER"],)]


def test_an_empty_message_is_refused_by_the_table_itself(cluster):
    done = cluster.psql("-c", "INSERT INTO messages (content) VALUES ('   ')", S["DB_NAME"],
                        user=S["DB_USER"], password=S["DB_PASSWORD"], check=False)
    assert done.returncode != 0 and "check constraint" in done.stderr


def test_sql_literals_match_dot_env():
    """The SQL a learner reads names the role, database and password that .env holds."""
    text = CREATE_DB.read_text()
    assert f"CREATE ROLE {S['DB_USER']}'" in text
    assert f"ALTER ROLE {S['DB_USER']} WITH LOGIN PASSWORD '{S['DB_PASSWORD']}'" in text
    assert f"CREATE DATABASE {S['DB_NAME']} OWNER {S['DB_USER']}'" in text
    names = set(re.findall(r"(?:ROLE|DATABASE|OWNER|rolname =|datname =) '?(\w+)", text))
    assert names == {S["DB_USER"], S["DB_NAME"]}
