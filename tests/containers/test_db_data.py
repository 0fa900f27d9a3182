"""What happens to the database's data, as steps 4 and 5 of the workshop claim.

Each test stores a message the way the workshop does (role, database and table created
by sql/ with psql from a container), does one thing to the container, and looks again.
"""

import pytest

from dockertools import (
    ADMIN_PASSWORD,
    add_message,
    docker,
    ip_of,
    setup_workshop_db,
    sql,
    stored_messages,
    unique,
)
from dockertools import wait_until_ready as wait_ready
from settings import S

pytestmark = [pytest.mark.docker, pytest.mark.replay_engine]  # conftest.py


def store_a_message(db):
    setup_workshop_db(db)
    message = f"Such payload, much content! {unique()}"
    add_message(ip_of(db), message)
    assert message in stored_messages(ip_of(db))
    return message


def database_exists(db):
    """Whether the workshop's database exists (asked as the postgres superuser)."""
    return sql(ip_of(db), "SELECT 1 FROM pg_database WHERE datname = %s", "postgres",
               ADMIN_PASSWORD, "postgres", params=(S["DB_NAME"],)) == [(1,)]


def replace(db, run_db, *options):
    """`docker stop` + `docker rm` the container, then start a new one the same way."""
    docker("stop", db)
    docker("rm", "-v", db)
    return run_db(*options, name=db)


def test_docker_restart_keeps_the_data(run_db):
    db = run_db()
    message = store_a_message(db)
    docker("restart", db)
    wait_ready(db)
    assert message in stored_messages(ip_of(db))


def test_docker_rm_and_a_new_container_loses_the_data_and_schema(run_db):
    db = run_db()
    store_a_message(db)
    db = replace(db, run_db)
    assert not database_exists(db)  # role, database, table and messages: all gone


def test_host_directory_as_pgdata_keeps_the_data(run_db, tmp_path):
    # As step 5: -e PGDATA=/pg_data -v /some/host/dir:/pg_data
    options = ("-e", "PGDATA=/pg_data", "-v", f"{tmp_path}:/pg_data")
    db = run_db(*options)
    message = store_a_message(db)
    db = replace(db, run_db, *options)
    assert message in stored_messages(ip_of(db))
    assert (tmp_path / "PG_VERSION").read_text().strip() == "17"  # the files are on the host


def test_named_volume_keeps_the_data(made, run_db):
    options = ("-v", f"{made.volume()}:/var/lib/postgresql/data")
    db = run_db(*options)
    message = store_a_message(db)
    db = replace(db, run_db, *options)
    assert message in stored_messages(ip_of(db))


def test_commit_with_pgdata_inside_the_container_carries_the_data(made, run_db):
    db = run_db("-e", "PGDATA=/pg_data")
    message = store_a_message(db)
    image = made.image()
    docker("commit", db, image)
    docker("rm", "-f", "-v", db)
    db = made.container()
    docker("run", "-d", "--name", db, image)  # the image keeps PGDATA and the password
    wait_ready(db)
    assert message in stored_messages(ip_of(db))


def test_commit_with_the_default_pgdata_does_not_carry_the_data(made, run_db):
    db = run_db()  # PGDATA is /var/lib/postgresql/data, a VOLUME of the image
    store_a_message(db)
    image = made.image()
    docker("commit", db, image)
    docker("rm", "-f", "-v", db)
    db = made.container()
    docker("run", "-d", "--name", db, image)
    wait_ready(db)
    assert not database_exists(db)  # commit saved the container's layer, not its volume
    assert "init process complete" in docker("logs", db).stdout  # a fresh initdb ran
