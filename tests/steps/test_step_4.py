"""Step 4: the database runs in a postgres:17 container, the VM's PostgreSQL is stopped,
and the web container finds that database by name, on a network of their own."""

import pytest

from course import posted
from settings import S
from steplib import (
    WEB_URL,
    Mistake,
    container,
    db_host_of,
    finds_by_name,
    http,
    ip_address,
    messages,
    networks,
    own_networks,
    running,
)

DB, WEB, NETWORK = S["DB_CONTAINER"], S["WEB_CONTAINER"], S["DB_NETWORK"]
POSTED = posted(4)
MISTAKES = [
    Mistake(
        "the VM's PostgreSQL runs again",
        make=["sudo systemctl start postgresql"],
        says="The VM's PostgreSQL is still running",
        undo=["sudo systemctl stop postgresql"],
    ),
]


@pytest.fixture
def db(host):
    info = container(host, DB)
    assert running(info), f"{DB} is not running: start it with step 4's `docker run -d` command."
    return info


def test_vm_postgresql_is_stopped(host):
    assert not host.service("postgresql").is_running, (
        "The VM's PostgreSQL is still running: stop it with `sudo systemctl stop postgresql`."
    )


def test_db_container_runs_postgres_15(db):
    assert db["Config"]["Image"] == S["POSTGRES_IMAGE"], (
        f"{DB} runs {db['Config']['Image']}, not {S['POSTGRES_IMAGE']}: remove it with "
        f"`docker rm -f {DB}` and run step 4's command again."
    )


def test_db_container_uses_md5_passwords(db):
    assert "password_encryption=md5" in db["Args"], (
        f"{DB} was started without `-c password_encryption=md5`, so server.py cannot log in: "
        f"remove it with `docker rm -f {DB}` and run step 4's command again."
    )


def test_db_container_holds_the_messages(host, db):
    rows = messages(host, ip_address(db))
    assert isinstance(rows, list) and POSTED in rows, (
        f'The database in {DB} has no "{POSTED}" message ({rows}): run '
        "step 4's two psql commands, then its curl -XPOST."
    )


def test_web_container_finds_the_db_container_by_name(host, db):
    web = container(host, WEB)
    assert running(web), f"{WEB} is not running: start it with step 4's `docker run -d` command."
    redo = f"remove it with `docker rm -f {WEB}` and run step 4's `docker run -d` for it again"
    assert own_networks(web, db), (
        f"{WEB} and {DB} share no network of their own ({WEB} is on "
        f"{', '.join(networks(web)) or 'none'}, {DB} on {', '.join(networks(db)) or 'none'}): "
        f"{redo}, with --network {NETWORK}."
    )
    assert finds_by_name(web, db), (
        f"{WEB} looks for its database at {db_host_of(web)}, not at {DB}: {redo}, "
        f"with -e POSTGRES_HOST={DB}."
    )


def test_server_answers_with_its_database(host, db):
    status, _ = http(host, "/health")
    assert status == 200, (
        f"{WEB_URL}/health answers {status}, not 200: read `docker logs {WEB}` and "
        "check step 4's commands."
    )
