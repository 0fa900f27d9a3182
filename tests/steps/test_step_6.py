"""Step 6: `docker compose up -d`: db and web run from docker-compose.yml, found by their
Compose labels; the data is in a named volume and survived `down` + `up`."""

import pytest

from course import command, posted
from settings import S
from steplib import (
    DB_DATA_DIR,
    GO_TO_PROJECT,
    WEB_URL,
    Mistake,
    body,
    container,
    engine,
    env,
    expect,
    fail,
    http,
    ip_address,
    messages,
    mount_at,
    published_port,
    running,
    said,
    state,
    stopped,
)
from steplib import (
    health as db_health,
)

WEB, DB = S["WEB_CONTAINER"], S["DB_CONTAINER"]
POSTED = posted(6)
POST = command(6, "curl -fsS -XPOST")
UP = [GO_TO_PROJECT, "docker compose up -d --wait"]  # --wait: until healthy
# Files a container reads or runs: Windows line endings (CRLF) break them.
READ_BY_CONTAINERS = [
    "sql/initdb.sh",
    "sql/create_db.sql",
    "sql/create_schema_and_fixtures.sql",
    ".env",
    "server.py",
]
# Only where the check has evidence that the volume's first init failed: it deletes it.
AGAIN = [
    "docker compose down -v   # deletes the volume db-data: its first init failed",
    "docker compose up -d --wait",
    POST,
]

# The replay restarts the VM after this step (as a lunch break does): see TAKE_A_BREAK
# in tests/replay/replayer.py.
TAKE_A_BREAK = True
MISTAKES = [
    Mistake(
        "the services stopped (docker compose stop)",
        make=["docker compose stop"],
        says="The Compose db container is stopped, not broken",
    ),
    Mistake(
        "the volume was removed",
        make=["docker compose down -v", "docker compose up -d"],
        says=f'"{POSTED}" is not among the messages',
    ),
    Mistake(
        "step 5's containers still there",
        make=[
            "docker compose down",
            command(5, f"docker run -d --name {DB} "),
            command(4, f"docker run -d --name={WEB}"),
            "docker compose up -d || true",
        ],
        says=f"{WEB} was not started by Compose",
    ),
    Mistake(
        "a Windows (CRLF) checkout of sql/initdb.sh",
        make=[
            "sed -i 's/$/\\r/' sql/initdb.sh",
            "docker compose down -v",
            "docker compose up -d || true",
            f"timeout 120 docker wait {DB} || true",  # until its first init has failed
            "docker compose up -d || true",
        ],
        says="Windows line endings (CRLF) in sql/initdb.sh",
    ),
]


def compose_container(host, service):
    """The Compose container of a service, running or not; fails if it is not Compose's."""
    label = f"com.docker.compose.service={service}"
    _, found = engine(host, "/containers/json?all=1", label=[label])  # docker ps -a -f label=...
    ids = [each["Id"] for each in found or []]
    hand_made = container(host, {"web": WEB, "db": DB}[service])
    # A label Compose gives its containers only: an image Compose built (`docker compose
    # watch` or `up --build`) carries the service label, and so does a hand-made container.
    labels = (hand_made or {}).get("Config", {}).get("Labels") or {}
    if hand_made and "com.docker.compose.container-number" not in labels:
        fail(
            f"{hand_made['Name'].lstrip('/')} was not started by Compose: it is left over "
            "from step 5, and holds the name Compose wants.",
            f"the {service} service's container, made by `docker compose up`",
            state(host, hand_made, hand_made["Name"].lstrip("/"))
            + ", made by `docker run` (no Compose labels)",
            [f"docker rm -f {WEB} {DB}", *UP],
        )
    expect(len(ids) == 1, f"No Compose {service} container.", "one", f"{len(ids)}", UP)
    return container(host, ids[0])


@pytest.fixture
def db(host):
    return compose_container(host, "db")


@pytest.fixture
def web(host):
    return compose_container(host, "web")


def first_init_failed(host):
    """Evidence that the volume's first initialisation failed: the Compose database does
    not hold the workshop's messages (its error instead of the rows)."""
    db = container(host, DB)
    return not (running(db) and isinstance(messages(host, ip_address(db)), list))


def test_files_read_by_containers_have_unix_line_endings(host):
    crlf = [
        name
        for name in READ_BY_CONTAINERS
        if host.run(f"grep -q \"$(printf '\\r')\" {S['VM_PROJECT_DIR']}/{name}").rc == 0
    ]
    expect(
        not crlf,
        f"Windows line endings (CRLF) in {', '.join(crlf)}: the containers "
        "cannot run or read them.",
        "LF line endings (the repository's .gitattributes)",
        f"CRLF in {', '.join(crlf)}",
        [GO_TO_PROJECT, f"sed -i 's/\\r$//' {' '.join(crlf)}",
         *(AGAIN if first_init_failed(host) else
           ["docker compose up -d --wait --force-recreate"])],
    )


def test_db_is_healthy(host, db):
    name = db["Name"].lstrip("/")
    if stopped(db):
        fail(
            "The Compose db container is stopped, not broken: `docker compose stop`, or a "
            "restart of Docker or of the VM, ended it.",
            "healthy",
            state(host, db, name),
            UP,
        )
    health = db_health(db) or db["State"]["Status"]
    expect(
        health == "healthy",
        "The Compose db container is not healthy.",
        "healthy",
        f"{health}; {state(host, db, name)}",
        [GO_TO_PROJECT, "docker compose logs db   # says why", UP[1]],
    )


def test_db_data_is_in_a_named_volume(db):
    mount = mount_at(db, DB_DATA_DIR)
    expect(
        mount and mount["Type"] == "volume" and mount["Name"].endswith("db-data"),
        f"The Compose db container keeps {DB_DATA_DIR} outside the project's named volume.",
        "the volume db-data of docker-compose.yml",
        f"{mount['Type']} {mount.get('Name') or mount['Source']}" if mount else "no mount",
        [GO_TO_PROJECT, "git checkout docker-compose.yml", "docker compose up -d"],
    )


def test_web_finds_db_by_name(web):
    expect(
        env(web).get("POSTGRES_HOST") == "db",
        "The Compose web container does not look for its database at db.",
        "POSTGRES_HOST=db",
        env(web).get("POSTGRES_HOST"),
        [GO_TO_PROJECT, "git checkout docker-compose.yml", "docker compose up -d"],
    )


def test_web_publishes_port_8080(web):
    expect(
        S["WEB_PORT"] in published_port(web),
        f"The Compose web container does not publish port {S['WEB_PORT']}.",
        f"{S['WEB_PORT']}:8080",
        published_port(web) or "none",
        [GO_TO_PROJECT, "git checkout docker-compose.yml", "docker compose up -d"],
    )


def test_message_survived_down_and_up(host, web, db):
    status, answer = http(host)
    reason = body(answer)
    if status == 503 and "does not exist" in reason:  # a volume whose first init failed
        fail(
            f"GET {WEB_URL} answers 503: the database was never created in the volume.",
            "200",
            f"503: {reason}",
            [GO_TO_PROJECT, *AGAIN],
        )
    expect(
        status == 200 and POSTED in answer,
        f'"{POSTED}" is not among the messages.',
        f'200 with "{POSTED}" (`docker compose down` keeps the volume)',
        said(status, answer, WEB),
        [POST],
    )
