"""Step 6: `docker compose up -d`: db and web run from docker-compose.yml, found by their
Compose labels; the data is in a named volume and survived `down` + `up`."""

import pytest

from course import command, posted
from settings import S
from steplib import DB_DATA_DIR, Mistake, compose_containers, env, http, mount_at, published_port

UP = "run `docker compose up -d` in ~/docker-workshop"
POSTED = posted(6)
MISTAKES = [
    Mistake(
        "the volume was removed",
        make=["docker compose down -v", "docker compose up -d"],
        says=f'without "{POSTED}"',
        undo=[command(6, "curl -fsS -XPOST")],
    ),
]


@pytest.fixture
def web(host):
    found = compose_containers(host, "web")
    assert len(found) == 1, f"{len(found)} Compose web containers run, not 1: {UP}."
    return found[0]


@pytest.fixture
def db(host):
    found = compose_containers(host, "db")
    assert len(found) == 1, f"{len(found)} Compose db containers run, not 1: {UP}."
    return found[0]


def test_db_is_healthy(db):
    health = db["State"].get("Health", {}).get("Status")
    assert health == "healthy", (
        f"The Compose db container is {health}, not healthy: read `docker compose logs db`."
    )


def test_db_data_is_in_a_named_volume(db):
    mount = mount_at(db, DB_DATA_DIR)
    assert mount and mount["Type"] == "volume" and mount["Name"].endswith("db-data"), (
        f"The Compose db container keeps {DB_DATA_DIR} outside the project's named volume: "
        "use the project's docker-compose.yml, unchanged."
    )


def test_web_finds_db_by_name(web):
    assert env(web).get("POSTGRES_HOST") == "db", (
        "The Compose web container does not use POSTGRES_HOST=db: use the project's "
        "docker-compose.yml, unchanged."
    )


def test_web_publishes_port_8080(web):
    assert S["WEB_PORT"] in published_port(web), (
        f"The Compose web container does not publish port {S['WEB_PORT']}: "
        "use the project's docker-compose.yml, unchanged."
    )


def test_message_survived_down_and_up(host, web, db):
    status, answer = http(host)
    assert status == 200 and POSTED in answer, (
        f'GET http://localhost:{S["WEB_PORT"]} answers {status} without "{POSTED}": '
        f'post it with `curl -XPOST http://localhost:{S["WEB_PORT"]} -d "{POSTED}"` '
        "and never use `docker compose down -v`."
    )
