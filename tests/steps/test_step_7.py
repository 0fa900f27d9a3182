"""Step 7: the Swarm stack runs 3 web replicas behind the load balancer, and the committed
database image went through `docker save` and `docker load`."""

import json
import re
import shlex
import tarfile
from pathlib import Path

import pytest

from settings import S
from steplib import WEB_URL, Mistake, http, image

ARCHIVE = S["DB_COMMIT_IMAGE"].split(":")[0] + ".tar"  # docker-workshop-db.tar
DEPLOY = "run `docker stack deploy -c exercises/files/stack.yml docker-workshop` (step 7)"
MISTAKES = [
    Mistake(
        "a replica missing",
        make=["docker service scale --detach docker-workshop_web=2", "sleep 5"],
        says="has 2 running tasks, not 3",
        undo=[
            "docker service scale --detach docker-workshop_web=3",
            "test \"$(docker service ls --filter name=docker-workshop_web "
            "--format '{{.Replicas}}')\" = 3/3",
        ],
    ),
]


def stack_service(host, role):
    """The `docker service inspect` of the stack's web or lb service, or None."""
    names = host.run(
        "docker service ls --filter label=com.docker.stack.namespace --format '{{.Name}}'"
    ).stdout.split()
    name = next((n for n in names if n.endswith("_" + role)), None)
    if name is None:
        return None
    return json.loads(host.run(f"docker service inspect {shlex.quote(name)}").stdout)[0]


def running_tasks(host, service):
    result = host.run(
        "docker service ps --filter desired-state=running --format '{{.CurrentState}}' "
        + shlex.quote(service["Spec"]["Name"])
    )
    return [line for line in result.stdout.splitlines() if line.startswith("Running")]


def test_swarm_is_active(host):
    state = host.run("docker info --format '{{.Swarm.LocalNodeState}}'").stdout.strip()
    assert state == "active", (
        f"This engine is not in Swarm mode ({state}): run "
        f"`docker swarm init --advertise-addr {S['VM_IP']}`."
    )


@pytest.fixture
def web(host):
    service = stack_service(host, "web")
    assert service, f"No stack runs a web service: {DEPLOY}."
    return service


def test_web_has_three_running_replicas(host, web):
    tasks = running_tasks(host, web)
    assert len(tasks) == 3, (
        f"The stack's web service has {len(tasks)} running tasks, not 3: read "
        f"`docker service ps {web['Spec']['Name']}`."
    )


def test_load_balancer_spreads_requests(host, web):
    backends = set()
    for _ in range(6):
        status, answer = http(host)
        assert status == 200, f"GET {WEB_URL} answers {status}, not 200: {DEPLOY}."
        backends.update(re.findall(r"(?im)^x-backend: *(\S+)", answer))
    assert len(backends) == 3, (
        f"Six requests to {WEB_URL} reached {len(backends)} web servers, not 3: "
        "check `docker stack services docker-workshop` and the lb service's logs."
    )


def test_db_image_was_saved_to_a_file(host):
    archive = Path(host.run("pwd").stdout.strip(), ARCHIVE)
    candidates = [archive, Path(S["VM_PROJECT_DIR"], ARCHIVE)]
    path = next((p for p in candidates if host.file(str(p)).exists), None)
    assert path, f"There is no {ARCHIVE}: run `docker save -o {ARCHIVE} {S['DB_COMMIT_IMAGE']}`."
    if host.backend.NAME == "local":
        with tarfile.open(path) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        tags = [tag for entry in manifest for tag in entry.get("RepoTags") or []]
        assert S["DB_COMMIT_IMAGE"] in tags, (
            f"{path} does not hold {S['DB_COMMIT_IMAGE']}: save it again with "
            f"`docker save -o {ARCHIVE} {S['DB_COMMIT_IMAGE']}`."
        )


def test_db_image_is_loaded(host):
    assert image(host, S["DB_COMMIT_IMAGE"]), (
        f"There is no image {S['DB_COMMIT_IMAGE']}: load it with `docker load -i {ARCHIVE}`."
    )
