"""Step 3: the web container runs with server.py mounted, port 8080 published and the
database's address in its environment; the VM's own py-postgresql is gone."""

import pytest

from course import command, posted
from settings import S
from steplib import WEB_URL, Mistake, container, db_host_of, http, mount_at, published_port, running

NAME = S["WEB_CONTAINER"]
RUN_AGAIN = f"remove it with `docker rm -f {NAME}` and run step 3's `docker run -d` command"
POSTED = posted(3)
RUN = command(3, f"docker run -d --name={NAME}")
MISTAKES = [
    Mistake(
        "the wrong port",
        make=[f"docker rm -f {NAME}", RUN.replace(f"-p {S['WEB_PORT']}:8080", "-p 8081:8080")],
        says=f"does not publish its port 8080 on the VM's port {S['WEB_PORT']}",
        undo=[f"docker rm -f {NAME}", RUN],
    ),
]


@pytest.fixture
def web(host):
    info = container(host, NAME)
    assert running(info), f"{NAME} is not running: start it with step 3's `docker run -d` command."
    return info


def test_web_container_runs_the_web_image(web):
    assert web["Config"]["Image"] == S["WEB_IMAGE"], (
        f"{NAME} runs {web['Config']['Image']}, not {S['WEB_IMAGE']}: {RUN_AGAIN}."
    )


def test_server_py_is_bind_mounted(web):
    mount = mount_at(web, "/app/server.py")
    assert mount and mount["Type"] == "bind" and mount["Source"].endswith("/server.py"), (
        f"server.py is not mounted at /app/server.py in {NAME}: {RUN_AGAIN} "
        '(with -v "$PWD"/server.py:/app/server.py).'
    )


def test_port_8080_is_published(web):
    assert S["WEB_PORT"] in published_port(web), (
        f"{NAME} does not publish its port 8080 on the VM's port {S['WEB_PORT']}: "
        f"{RUN_AGAIN} (with -p {S['WEB_PORT']}:8080)."
    )


def test_database_address_is_set(web):
    assert db_host_of(web), (
        f"{NAME} has no POSTGRES_HOST in its environment: {RUN_AGAIN} (with -e POSTGRES_HOST=...)."
    )


def test_server_answers_with_its_database(host, web):
    status, _ = http(host, "/health")
    assert status == 200, (
        f"{WEB_URL}/health answers {status}, not 200, so the server cannot reach its "
        f"database: read `docker logs {NAME}`, then check its POSTGRES_HOST (step 3)."
    )


def test_vm_py_postgresql_is_uninstalled(host):
    result = host.run('python3 -c "import postgresql"')
    assert result.rc != 0, (
        "py-postgresql is still installed in the VM's Python: remove it with "
        "`pip uninstall -y py-postgresql`."
    )


def test_message_posted_through_the_container(host, web):
    _, answer = http(host)
    assert POSTED in answer, (
        f'No "{POSTED}" message: post it with '
        f'`curl -XPOST http://localhost:{S["WEB_PORT"]} -d "{POSTED}"`.'
    )
