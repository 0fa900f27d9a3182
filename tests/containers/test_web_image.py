"""The web image (Dockerfile) on the real engine: steps 1 to 3 of the workshop."""

import socket
import time

import pytest

from dockertools import (
    docker,
    http_request,
    inspect_field,
    ip_of,
    setup_workshop_db,
    unique,
    wait_for,
)
from dockertools import wait_for_http as wait_http
from pg import free_port
from settings import PROJECT

pytestmark = [pytest.mark.docker, pytest.mark.replay_engine]  # conftest.py
SERVER_MOUNT = f"{PROJECT / 'server.py'}:/app/server.py:ro"  # as step 3 mounts it


def pid1_uid(container):
    status = docker("exec", container, "cat", "/proc/1/status").stdout
    return next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))


def run_web(made, image, *options):
    name = made.container()
    docker("run", "-d", "--name", name, "-v", SERVER_MOUNT, *options, image,
           "python", "server.py")
    return name


def test_web_image_builds_from_the_python_base_with_the_requirements(web_image):
    assert inspect_field(web_image, "{{.Config.WorkingDir}}") == "/app"
    assert inspect_field(web_image, "{{json .Config.ExposedPorts}}") == '{"8080/tcp":{}}'
    docker("run", "--rm", web_image, "python", "-c", "import postgresql")
    pip_cache = docker("run", "--rm", web_image, "sh", "-c",
                       "ls -A /root/.cache/pip 2>/dev/null || true").stdout
    assert pip_cache == ""


def test_web_image_does_not_contain_server_py(web_image):
    assert docker("run", "--rm", web_image, "ls", "-A", "/app").stdout.split() == [
        "requirements.txt"]


def test_run_without_the_mount_fails_because_server_py_is_missing(made, web_image):
    # Step 2, as the learner types it (with a unique name).
    result = docker("run", "--rm", f"--name={made.container()}", web_image,
                    "python", "server.py", check=False)
    assert result.returncode == 2
    assert "can't open file '/app/server.py'" in result.stderr


def test_run_with_mount_env_and_port_serves_get_and_post_against_postgres_by_ip(
        made, run_db, web_image):
    db = run_db()
    setup_workshop_db(db)
    port = free_port()
    run_web(made, web_image, "-p", f"{port}:8080", "-e", f"POSTGRES_HOST={ip_of(db)}")
    url = f"http://127.0.0.1:{port}/"
    wait_http(url)
    message = f"Hello world {unique()}"
    assert http_request("POST", url, message)[0] == 201
    status, body = http_request("GET", url)
    assert status == 200
    assert body.splitlines()[0] == "Welcome to the Docker workshop!"  # a fixture row
    assert body.splitlines()[-1] == message


def test_web_container_runs_as_non_root(made, web_image):
    web = run_web(made, web_image)  # no database needed: the server starts anyway
    wait_for("the server to log that it serves", lambda: "Serving on" in docker(
        "logs", web).stdout)
    assert pid1_uid(web) != "0"
    assert docker("exec", web, "id", "-un").stdout.strip() == "web"


def test_web_healthcheck_is_healthy_with_the_database_and_unhealthy_without(
        made, run_db, web_image):
    db = run_db()
    setup_workshop_db(db)
    # The image's own HEALTHCHECK command, checked every second instead of every 10 s.
    web = run_web(made, web_image, "-e", f"POSTGRES_HOST={ip_of(db)}",
                  "--health-interval=1s", "--health-retries=2")

    def health():
        return inspect_field(web, "{{.State.Health.Status}}")

    wait_for("the web container to be healthy", lambda: health() == "healthy")
    docker("stop", db)
    wait_for("the web container to be unhealthy", lambda: health() == "unhealthy")



def test_docker_stop_ends_the_server_at_once_with_clients_connected(made, web_image):
    """docker stop sends SIGTERM, and SIGKILL 10 s later: the server must exit 0 first,
    even with idle and half-sent connections open (it waited for them before)."""
    port = free_port()
    web = run_web(made, web_image, "-p", f"127.0.0.1:{port}:8080")
    wait_for("the server to log that it serves", lambda: "Serving on" in docker(
        "logs", web).stdout)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
    clients[-1].sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf")
    time.sleep(1)  # they reached the server
    started = time.monotonic()
    docker("stop", web)
    took = time.monotonic() - started
    try:
        assert inspect_field(web, "{{.State.ExitCode}}") == "0"  # 137 after a SIGKILL
        assert took < 5, f"docker stop took {took:.1f} s"
        logs = docker("logs", web).stdout
        assert "SIGTERM received" in logs and logs.rstrip().endswith("Stopped."), logs
    finally:
        for client in clients:
            client.close()
