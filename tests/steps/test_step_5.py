"""Step 5: a host directory, a named volume and a committed image hold the data; the
database now runs from the committed image, and the web server reads it."""

import shlex

import pytest

from course import commands, commands_from, posted
from settings import S
from steplib import (
    DB_DATA_DIR,
    GO_TO_PROJECT,
    WEB_URL,
    Mistake,
    container,
    expect,
    expect_not_stopped,
    finds_db,
    http,
    image,
    ip_address,
    messages,
    running,
    said,
    state,
    volume,
)

DB, WEB, COMMITTED = S["DB_CONTAINER"], S["WEB_CONTAINER"], S["DB_COMMIT_IMAGE"]
VOLUME, NETWORK = S["DB_VOLUME"], S["DB_NETWORK"]
HOST_DIR = "/srv/docker-workshop/pg_data"
PAYLOAD = posted(5)
STEP = [c.text for c in commands(5)]
_HOST_DIR = next(i for i, c in enumerate(STEP) if f"-v {HOST_DIR}:" in c)
PART_1 = [GO_TO_PROJECT, *STEP[_HOST_DIR - 1 :]]  # parts 1 to 3: all of them again
PART_2 = [GO_TO_PROJECT, *commands_from(5, f"docker volume create {VOLUME}")]
# Part 3 starts with the `docker rm -f` before the database that keeps PGDATA inside.
_INSIDE = next(i for i, c in enumerate(STEP) if "PGDATA=/pg_data" in c and " -v " not in c)
PART_3 = [GO_TO_PROJECT, *STEP[_INSIDE - 1 :]]
FROM_COMMITTED = commands_from(5, f"docker rm -f {DB}")
RUN_COMMITTED = FROM_COMMITTED[1]
RUN_PLAIN = STEP[_INSIDE].replace("-e PGDATA=/pg_data ", "")

# The replay restarts the VM after this step (as a lunch break does): see TAKE_A_BREAK
# in tests/replay/replayer.py.
TAKE_A_BREAK = True
MISTAKES = [
    Mistake(
        "the containers stopped (docker stop, or a restart)",
        make=[f"docker stop {WEB} {DB}"],
        says=f"{DB} is stopped, not broken",
    ),
    Mistake(
        "a plain postgres container instead of the committed image",
        make=[f"docker rm -f {DB}", RUN_PLAIN],
        says=f"{DB} runs {S['POSTGRES_IMAGE']}, not {COMMITTED}",
    ),
    Mistake(
        "the named volume left empty (the database ran with another volume)",
        make=[f"docker volume rm {VOLUME}", f"docker volume create {VOLUME}"],
        says=f"The volume {VOLUME} holds no database cluster",
    ),
    Mistake(
        "docker commit of a database whose data sits in the image's VOLUME",
        make=[
            f"docker rm -f {DB}",
            f"docker rmi {COMMITTED}",
            RUN_PLAIN,
            # until its first initialisation is done (it then listens on TCP)
            f"timeout 120 sh -c 'until docker exec {DB} pg_isready -q -h 127.0.0.1; "
            "do sleep 1; done'",
            f"docker commit {DB} {COMMITTED}",
            *FROM_COMMITTED[:2],  # without its curl -f: the data is not there
        ],
        says="docker commit leaves volumes out",
    ),
]


@pytest.fixture
def db(host):
    info = container(host, DB)
    expect_not_stopped(host, info, DB, [DB, WEB])
    expect(
        running(info),
        f"{DB} is not running.",
        f"{DB} running from {COMMITTED}",
        state(host, info, DB),
        FROM_COMMITTED,
    )
    return info


def test_host_directory_holds_a_cluster(host):
    found = host.run(f"sudo -n test -f {HOST_DIR}/PG_VERSION").rc == 0
    expect(
        found,
        f"{HOST_DIR} holds no database cluster.",
        f"{HOST_DIR}/PG_VERSION",
        "no such file",
        PART_1,
    )


def test_named_volume_holds_a_cluster(host):
    where = (volume(host, VOLUME) or {}).get("Mountpoint")
    cluster = where and host.run(f"sudo -n test -f {shlex.quote(where)}/PG_VERSION").rc == 0
    expect(
        cluster,
        f"The volume {VOLUME} holds no database cluster.",
        f"{VOLUME} with a cluster in it (part 2: mounted at {DB_DATA_DIR})",
        "an empty volume" if where else "no such volume",
        PART_2,
    )


def test_committed_image_adds_a_layer_to_postgres(host):
    committed, base = image(host, COMMITTED), image(host, S["POSTGRES_IMAGE"])
    expect(committed, f"There is no image {COMMITTED}.", COMMITTED, "none", PART_3)
    layers = base["RootFS"]["Layers"]
    expect(
        committed["RootFS"]["Layers"][:-1] == layers,
        f"{COMMITTED} is not {S['POSTGRES_IMAGE']} plus one committed layer.",
        f"{len(layers) + 1} layers",
        f"{len(committed['RootFS']['Layers'])} layers",
        [f"docker rmi -f {COMMITTED}", *PART_3],
    )


def test_committed_image_keeps_its_data_outside_the_volume(host):
    committed = image(host, COMMITTED)
    if not committed:
        return  # test_committed_image_adds_a_layer_to_postgres says what to do
    pgdata = dict(e.partition("=")[::2] for e in committed["Config"]["Env"]).get("PGDATA")
    volumes = committed["Config"].get("Volumes") or {}
    expect(
        pgdata not in volumes,
        f"{COMMITTED} has no data: its PGDATA is the image's VOLUME, and "
        "docker commit leaves volumes out.",
        "PGDATA=/pg_data, inside the container's own files",
        f"PGDATA={pgdata}, a VOLUME",
        [f"docker rm -f {DB}", f"docker rmi {COMMITTED}", *PART_3],
    )


def test_db_runs_from_the_committed_image(db):
    expect(
        db["Config"]["Image"] == COMMITTED,
        f"{DB} runs {db['Config']['Image']}, not {COMMITTED}.",
        COMMITTED,
        db["Config"]["Image"],
        FROM_COMMITTED,
    )


def test_committed_data_is_in_the_database(host, db):
    rows = messages(host, ip_address(db))
    expect(
        isinstance(rows, list) and PAYLOAD in rows,
        f'The database in {DB} has no "{PAYLOAD}" message.',
        f'"{PAYLOAD}" among them',
        rows if not isinstance(rows, list) else f"{len(rows)} messages, not that one",
        [f"docker rm -f {DB}", f"docker rmi {COMMITTED}", *PART_3],
    )


def test_web_server_reads_the_committed_data(host, db):
    web = container(host, WEB)
    expect_not_stopped(host, web, WEB, [WEB])
    expect(
        running(web) and finds_db(host, web, db),
        f"{WEB} does not find {DB} by name.",
        f"both on {NETWORK}, POSTGRES_HOST={DB}",
        state(host, web, WEB),
        [f"docker rm -f {DB}", RUN_COMMITTED],
    )
    status, answer = http(host)
    expect(
        PAYLOAD in answer,
        f'GET {WEB_URL} does not list "{PAYLOAD}".',
        f'"{PAYLOAD}"',
        said(status, answer, WEB),
        [f"docker logs {WEB}   # the server says why", f"docker restart {WEB}"],
    )
