"""docker-compose.yml on the real engine (step 6): the whole stack under a unique project,
host port and web image tag. Containers are found by their com.docker.compose.* labels,
because Compose v1 names them proj_db_1 and v2 proj-db-1. Every test runs under both."""

import os
import subprocess

import pytest

from dockertools import (
    compose_command,
    docker,
    http_request,
    inspect_field,
    unique,
    wait_for,
    wait_for_http,
)
from pg import free_port
from settings import PROJECT

pytestmark = pytest.mark.docker


class Stack:
    def __init__(self, compose):
        self.command = compose
        self.project = unique().replace("-", "")
        self.port = free_port()
        self.env = {**os.environ, "WEB_PORT": str(self.port),
                    "WEB_IMAGE": f"{self.project}-web:test"}
        self.url = f"http://127.0.0.1:{self.port}/"

    def compose(self, *args):
        result = subprocess.run(
            [*self.command, "--project-directory", str(PROJECT), "-f",
             str(PROJECT / "docker-compose.yml"), "-p", self.project, *args],
            capture_output=True, text=True, env=self.env, timeout=600)
        assert result.returncode == 0, f"compose {args} failed:\n{result.stdout}{result.stderr}"
        return result.stdout

    def container(self, service):
        ids = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}",
                     "--filter", f"label=com.docker.compose.service={service}").stdout.split()
        assert len(ids) == 1, f"expected one running {service} container, found {ids}"
        return ids[0]

    def up(self):
        self.compose("up", "-d")
        health = "{{.State.Health.Status}}"
        wait_for("db to be healthy",
                 lambda: inspect_field(self.container("db"), health) == "healthy")
        wait_for_http(self.url)

    def volumes(self):
        return docker("volume", "ls", "-q", "--filter",
                      f"label=com.docker.compose.project={self.project}").stdout.split()

    def remove(self):
        self.compose("down", "-v", "--remove-orphans")
        docker("image", "rm", "-f", self.env["WEB_IMAGE"], check=False)


@pytest.fixture(scope="module", params=["v1", "v2"])
def stack(engine, request):
    stack = Stack(compose_command(request.param))
    yield stack
    stack.remove()


def test_compose_up_is_healthy_and_web_runs_as_non_root(stack):
    stack.up()
    web = stack.container("web")
    status = docker("exec", web, "cat", "/proc/1/status").stdout
    assert [line.split()[1] for line in status.splitlines() if line.startswith("Uid:")] != ["0"]
    assert inspect_field(web, "{{.Config.User}}") not in ("", "0", "root")
    assert inspect_field(web, "{{.HostConfig.RestartPolicy.Name}}") == "unless-stopped"


def test_compose_message_survives_down_and_up(stack):
    stack.up()
    message = f"kept by the named volume {unique()}"
    assert http_request("POST", stack.url, message)[0] == 201
    stack.compose("down")
    assert stack.volumes(), "`down` without -v must keep the named volume"
    stack.up()
    assert http_request("GET", stack.url)[1].splitlines()[-1] == message


def test_compose_down_v_removes_the_data(stack):
    stack.up()
    message = f"gone with the volume {unique()}"
    assert http_request("POST", stack.url, message)[0] == 201
    stack.compose("down", "-v")
    assert stack.volumes() == []
    stack.up()  # a new volume: first init again, fixtures only
    body = http_request("GET", stack.url)[1]
    assert message not in body
    assert body.splitlines()[0] == "Welcome to the Docker workshop!"

