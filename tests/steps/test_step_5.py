"""Step 5: a host directory, a named volume and a committed image hold the data; the
database now runs from the committed image, and the web server reads it."""

import pytest

from course import command, commands_from, posted
from settings import S
from steplib import Mistake, container, finds_by_name, http, image, ip_address, messages, running

DB, WEB, COMMITTED = S["DB_CONTAINER"], S["WEB_CONTAINER"], S["DB_COMMIT_IMAGE"]
HOST_DIR = "/srv/docker-workshop/pg_data"
PAYLOAD = posted(5)
MISTAKES = [
    Mistake(
        "a plain postgres container instead of the committed image",
        make=[f"docker rm -f {DB}", command(4, f"docker run -d --name {DB}")],
        says=f'has no "{PAYLOAD}" message',
        undo=commands_from(5, f"docker rm -f {DB}"),  # start it from the committed image
    ),
]


@pytest.fixture
def db(host):
    info = container(host, DB)
    assert running(info), (
        f"{DB} is not running: start it from the committed image with "
        f"`docker run -d --name {DB} {COMMITTED}`."
    )
    return info


def test_host_directory_holds_a_cluster(host):
    assert host.file(HOST_DIR).is_directory, (
        f"{HOST_DIR} does not exist: do part 1 of step 5 (-v {HOST_DIR}:/pg_data)."
    )


def test_named_volume_exists(host):
    assert host.run(f"docker volume inspect {S['DB_VOLUME']}").rc == 0, (
        f"There is no volume {S['DB_VOLUME']}: create it with "
        f"`docker volume create {S['DB_VOLUME']}` (part 2 of step 5)."
    )


def test_committed_image_adds_a_layer_to_postgres(host):
    committed, base = image(host, COMMITTED), image(host, S["POSTGRES_IMAGE"])
    assert committed, f"There is no image {COMMITTED}: run `docker commit {DB} {COMMITTED}`."
    layers = base["RootFS"]["Layers"]
    assert committed["RootFS"]["Layers"][:-1] == layers, (
        f"{COMMITTED} is not {S['POSTGRES_IMAGE']} plus one committed layer: remove it with "
        f"`docker rmi {COMMITTED}` and redo part 3 of step 5."
    )


def test_db_runs_from_the_committed_image(db):
    assert db["Config"]["Image"] == COMMITTED, (
        f"{DB} runs {db['Config']['Image']}, not {COMMITTED}: replace it with "
        f"`docker rm -f {DB}` and `docker run -d --name {DB} {COMMITTED}`."
    )


def test_committed_data_is_in_the_database(host, db):
    rows = messages(host, ip_address(db))
    assert isinstance(rows, list) and PAYLOAD in rows, (
        f'The database in {DB} has no "{PAYLOAD}" message ({rows}): post it before '
        f"`docker commit`, and start {DB} from {COMMITTED} (part 3 of step 5)."
    )


def test_web_server_reads_the_committed_data(host, db):
    web = container(host, WEB)
    assert running(web) and finds_by_name(web, db), (
        f"{WEB} does not find {DB} by name on a network they share: start {DB} with "
        f"`--network {S['DB_NETWORK']}`, as every database container of step 5."
    )
    _, answer = http(host)
    assert PAYLOAD in answer, (
        f'GET http://localhost:{S["WEB_PORT"]} does not list "{PAYLOAD}": '
        f"read `docker logs {WEB}` and redo part 3 of step 5."
    )
