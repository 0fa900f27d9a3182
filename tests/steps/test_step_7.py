"""Step 7: the Swarm stack runs 3 web replicas behind the load balancer, and the committed
database image went through `docker save` and `docker load`."""

import json
import re
import tarfile
from pathlib import Path

import pytest

from course import command
from settings import S
from steplib import WEB_URL, Mistake, engine, expect, fail, http, image

ARCHIVE = S["DB_COMMIT_IMAGE"].split(":")[0] + ".tar"  # docker-workshop-db.tar
SAVE = command(7, "docker save")
DEPLOY = ["cd ~/docker-workshop", command(7, "set -a"), command(7, "docker stack deploy")]
WEB_SERVICE = "docker-workshop_web"
MISTAKES = [
    Mistake(
        "a replica missing",
        make=[f"docker service scale --detach {WEB_SERVICE}=2", "sleep 5"],
        says="has 2 running tasks, not 3",
    ),
    Mistake(
        "the archive deleted",
        make=[f"rm ~/docker-workshop/{ARCHIVE}"],
        says=f"There is no {ARCHIVE}",
    ),
]


def stack_service(host, role):
    """The `docker service inspect` of the stack's web or lb service, or None."""
    # docker service ls --filter label=com.docker.stack.namespace
    _, services = engine(host, "/services", label=["com.docker.stack.namespace"])
    return next((s for s in services or [] if s["Spec"]["Name"].endswith("_" + role)), None)


def running_tasks(host, service):
    # docker service ps --filter desired-state=running SERVICE: those in state Running
    _, tasks = engine(host, "/tasks", service=[service["ID"]], **{"desired-state": ["running"]})
    return [task for task in tasks or [] if task["Status"]["State"] == "running"]


def test_swarm_is_active(host):
    _, info = engine(host, "/info")  # docker info
    state = ((info or {}).get("Swarm") or {}).get("LocalNodeState") or ""
    expect(
        state == "active",
        "This engine is not in Swarm mode.",
        "active",
        state or "none",
        [f"docker swarm init --advertise-addr {S['VM_IP']}", *DEPLOY],
    )


@pytest.fixture
def web(host):
    service = stack_service(host, "web")
    expect(service, "No stack runs a web service.", WEB_SERVICE, "none", DEPLOY)
    return service


def test_web_has_three_running_replicas(host, web):
    tasks = running_tasks(host, web)
    expect(
        len(tasks) == 3,
        f"The stack's web service has {len(tasks)} running tasks, not 3.",
        "3 running tasks",
        f"{len(tasks)}: `docker service ps {WEB_SERVICE}` says why",
        [f"docker service scale {WEB_SERVICE}=3"],
    )


def test_load_balancer_spreads_requests(host, web):
    backends = set()
    for _ in range(6):
        status, answer = http(host)
        if status != 200:
            fail(
                f"GET {WEB_URL} does not answer 200.",
                "200 from the stack's lb",
                status,
                [
                    "docker stack services docker-workshop   # which service has no replica?",
                    *DEPLOY,
                ],
            )
        backends.update(re.findall(r"(?im)^x-backend: *(\S+)", answer))
    expect(
        len(backends) == 3,
        f"Six requests to {WEB_URL} reached {len(backends)} web servers, not 3.",
        "3 web servers",
        ", ".join(sorted(backends)) or "none",
        ["docker service logs docker-workshop_lb   # the load balancer says why", *DEPLOY],
    )


def test_db_image_was_saved_to_a_file(host):
    archive = Path(host.run("pwd").stdout.strip(), ARCHIVE)
    candidates = [archive, Path(S["VM_PROJECT_DIR"], ARCHIVE)]
    path = next((p for p in candidates if host.file(str(p)).exists), None)
    expect(
        path,
        f"There is no {ARCHIVE}.",
        f"{S['VM_PROJECT_DIR']}/{ARCHIVE}",
        "no such file",
        ["cd ~/docker-workshop", SAVE],
    )
    if host.backend.NAME == "local":
        with tarfile.open(path) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        tags = [tag for entry in manifest for tag in entry.get("RepoTags") or []]
        expect(
            S["DB_COMMIT_IMAGE"] in tags,
            f"{path} does not hold {S['DB_COMMIT_IMAGE']}.",
            S["DB_COMMIT_IMAGE"],
            ", ".join(tags) or "no tag",
            ["cd ~/docker-workshop", SAVE],
        )


def test_db_image_is_loaded(host):
    expect(
        image(host, S["DB_COMMIT_IMAGE"]),
        f"There is no image {S['DB_COMMIT_IMAGE']}.",
        S["DB_COMMIT_IMAGE"],
        "none",
        ["cd ~/docker-workshop", f"docker load -i {ARCHIVE}"],
    )
