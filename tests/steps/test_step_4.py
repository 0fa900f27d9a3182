"""Step 4: the database runs in a postgres:17 container, the VM's PostgreSQL is stopped,
and the web container finds that database by name, on a network of their own.
(The 2016 way, `docker run --link`, is accepted too: the check reads the environment
the server's process really has.)"""

import pytest

from course import command, commands_from, posted
from settings import S
from steplib import (
    GO_TO_PROJECT,
    WEB_URL,
    Mistake,
    container,
    database_host,
    expect,
    expect_not_stopped,
    fail,
    finds_db,
    http,
    ip_address,
    messages,
    networks,
    running,
    said,
    state,
)

DB, WEB, NETWORK = S["DB_CONTAINER"], S["WEB_CONTAINER"], S["DB_NETWORK"]
POSTED = posted(4)
RUN_DB = command(4, f"docker run -d --name {DB}")
RUN_WEB = command(4, f"docker run -d --name={WEB}")
REDO_WEB = [f"docker rm -f {WEB}", GO_TO_PROJECT, RUN_WEB]
# From the database's `docker run` to the end of step 4: a new database needs it all.
REDO_DB = [f"docker rm -f {DB}", GO_TO_PROJECT, *commands_from(4, RUN_DB)]
HOST_IS_DB = f"-e POSTGRES_HOST={DB}"
LINKED = f"--link {DB}:pg -e POSTGRES_HOST=pg"  # the 2016 way (legacy, on purpose)

MISTAKES = [
    Mistake(
        "the containers stopped (docker stop, or a restart)",
        make=[f"docker stop {WEB} {DB}"],
        says=f"{DB} is stopped, not broken",
    ),
    Mistake(
        "the VM's PostgreSQL runs again",
        make=["sudo systemctl start postgresql"],
        says="The VM's PostgreSQL is still running",
    ),
    Mistake(
        "the VM's PostgreSQL stopped but not disabled (back after a restart)",
        make=["sudo systemctl enable postgresql"],
        says="Found: enabled",
    ),
    Mistake(
        "the database started without POSTGRES_PASSWORD",
        make=[
            f"docker rm -f {DB}",
            RUN_DB.replace(f"-e POSTGRES_PASSWORD={S['DB_ADMIN_PASSWORD']} ", ""),
            f"timeout 60 docker wait {DB}",  # until it has stopped (it refuses to start)
        ],
        says="exit code 1; its log says: Error: Database is uninitialized and superuser "
        "password is not specified.",
    ),
    Mistake(
        "the web container given another host",
        make=[f"docker rm -f {WEB}", RUN_WEB.replace(HOST_IS_DB, "-e POSTGRES_HOST=db")],
        says=f"Found: POSTGRES_HOST=db, which is not {DB}",
    ),
    Mistake(
        "the web container off the network",
        make=[f"docker rm -f {WEB}", RUN_WEB.replace(f"--network {NETWORK} ", "")],
        says="on bridge",
    ),
    Mistake(
        "the web container with the wrong database password",
        make=[
            f"docker rm -f {WEB}",
            RUN_WEB.replace(HOST_IS_DB, f"{HOST_IS_DB} -e POSTGRES_PASSWORD=typo"),
        ],
        says="password authentication failed for user",
    ),
    Mistake(
        "the 2016 way: a legacy --link",
        make=[
            f"docker rm -f {WEB}",
            RUN_WEB.replace(HOST_IS_DB, LINKED),
        ],
        says=None,  # accepted: it works (links are legacy, the text says why)
        undo=REDO_WEB,
    ),
]


@pytest.fixture
def db(host):
    info = container(host, DB)
    expect_not_stopped(host, info, DB, [DB, WEB])
    expect(running(info), f"{DB} is not running.", "running", state(host, info, DB), REDO_DB)
    return info


def test_vm_postgresql_is_stopped_and_disabled(host):
    service = host.service("postgresql")
    expect(
        not service.is_running and not service.is_enabled,
        "The VM's PostgreSQL is still running, or starts again with the VM.",
        "stopped and disabled: the database now runs in a container",
        ", ".join(word for word, yes in (("active", service.is_running),
                                         ("enabled", service.is_enabled)) if yes),
        ["sudo systemctl disable --now postgresql"],
    )


def test_db_container_runs_postgres(db):
    expect(
        db["Config"]["Image"] == S["POSTGRES_IMAGE"],
        f"{DB} runs another image.",
        S["POSTGRES_IMAGE"],
        db["Config"]["Image"],
        REDO_DB,
    )


def test_db_container_uses_md5_passwords(db):
    expect(
        "password_encryption=md5" in db["Args"],
        f"{DB} was started without `-c password_encryption=md5`: server.py cannot log in.",
        "-c password_encryption=md5 after the image name",
        " ".join(db["Args"]) or "nothing",
        REDO_DB,
    )


def test_db_container_holds_the_messages(host, db):
    rows = messages(host, ip_address(db))
    expect(
        isinstance(rows, list) and POSTED in rows,
        f'The database in {DB} has no "{POSTED}" message.',
        f'"{POSTED}" among the messages',
        rows if not isinstance(rows, list) else f"{len(rows)} messages, not that one",
        [f'curl -XPOST {WEB_URL} -d "{POSTED}"'] if isinstance(rows, list) else REDO_DB,
    )


def test_web_container_finds_the_db_container(host, db):
    web = container(host, WEB)
    expect_not_stopped(host, web, WEB, [WEB])
    expect(running(web), f"{WEB} is not running.", "running", state(host, web, WEB), REDO_WEB)
    if not finds_db(host, web, db):
        where = ", ".join(networks(web)) or "no network"
        found = database_host(host, web)
        fail(
            f"{WEB} does not find {DB}.",
            f"POSTGRES_HOST={DB}, both on the network {NETWORK}",
            (f"POSTGRES_HOST={found}" if found else "no POSTGRES_HOST")
            + ("" if found in (DB, None) else f", which is not {DB}") + f"; {WEB} is on {where}",
            REDO_WEB,
        )


def test_server_answers_with_its_database(host, db):
    status, answer = http(host, "/health")
    expect(
        status == 200,
        f"{WEB_URL}/health does not answer 200.",
        "200: the server reaches its database",
        said(status, answer, WEB),
        [f"docker logs {WEB}   # the server says why", *REDO_WEB],
    )
