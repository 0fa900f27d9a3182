"""Step 7: the Swarm stack runs 3 web replicas behind one virtual IP, its port on the
routing mesh, and the committed database image went through `docker save` and
`docker load`."""

import json
import shlex
import tarfile
import uuid
from pathlib import Path

import pytest

from course import command
from settings import S
from steplib import GO_TO_PROJECT, Mistake, engine, expect, fail, http, image

ARCHIVE = S["DB_COMMIT_IMAGE"].split(":")[0] + ".tar"  # docker-workshop-db.tar
SAVE = command(7, "docker save")
DEPLOY = [GO_TO_PROJECT, command(7, "set -a"), command(7, "docker stack deploy")]
WEB_SERVICE = "docker-workshop_web"
# Swarm's routing mesh needs the kernel's IPVS: a learner's VM has it, this project's
# stand-in VM (a container on the test machine's kernel) has not. So this step is
# replayed in the real VM only (tests/realvm/test_vm_replay.py).
REAL_VM_ONLY = True
# 127.0.0.1, not localhost: engines before 29.8 also hold [::1]:8080 for the mesh and
# never answer there (moby/moby#53091), and curl tries ::1 first.
MESH_URLS = [f"http://127.0.0.1:{S['WEB_PORT']}", f"http://{S['VM_IP']}:{S['WEB_PORT']}"]
MISTAKES = [
    Mistake(
        "a replica missing",
        make=[f"docker service scale {WEB_SERVICE}=2"],  # waits until 2 run
        says="has 2 running tasks, not 3",
    ),
    Mistake(
        "the port published in host mode",  # the aside's fallback, used on the VM
        make=[
            f"docker service update --detach --publish-rm 8080 "
            f"--publish-add mode=host,published={S['WEB_PORT']},target=8080 {WEB_SERVICE}",
            # until the swarm's endpoint no longer publishes on the mesh (a minute at most)
            "timeout 60 sh -c 'while docker service inspect -f \"{{json .Endpoint.Ports}}\" "
            f"{WEB_SERVICE} | grep -q ingress; do sleep 1; done'",
        ],
        says="does not publish port 8080 on the routing mesh",
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
    status, services = engine(host, "/services", label=["com.docker.stack.namespace"])
    if status != 200:  # not a swarm manager: the engine answers 503 with a message
        return None
    return next((s for s in services if s["Spec"]["Name"].endswith("_" + role)), None)


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


def test_web_publishes_its_port_on_the_routing_mesh(web):
    # docker service inspect docker-workshop_web: .Endpoint.Ports. First, because a port
    # in host mode also leaves replicas without a place to run (one port, one task).
    ports = [
        p for p in (web.get("Endpoint") or {}).get("Ports") or [] if p.get("TargetPort") == 8080
    ]
    found = (
        f"{ports[0].get('PublishedPort')}, {ports[0].get('PublishMode')} mode" if ports else "none"
    )
    expect(
        found == f"{S['WEB_PORT']}, ingress mode",
        "The stack's web service does not publish port 8080 on the routing mesh: "
        'exercises/files/stack.yml gives web `ports: - "${WEB_PORT}:8080"`, then deploy it.',
        f"{S['WEB_PORT']}, ingress mode",
        found,
        DEPLOY,
    )


def test_web_has_a_virtual_ip(web):
    # docker service inspect docker-workshop_web: .Endpoint
    endpoint = web.get("Endpoint") or {}
    mode = (endpoint.get("Spec") or {}).get("Mode") or "vip"
    expect(
        mode == "vip" and endpoint.get("VirtualIPs"),
        "The stack's web service has no virtual IP: exercises/files/stack.yml gives web "
        "no `endpoint_mode`, then deploy it.",
        "endpoint mode vip, with a virtual IP",
        f"endpoint mode {mode}",
        DEPLOY,
    )


def test_web_has_three_running_replicas(host, web):
    tasks = running_tasks(host, web)
    expect(
        len(tasks) == 3,
        f"The stack's web service has {len(tasks)} running tasks, not 3.",
        "3 running tasks",
        f"{len(tasks)}: `docker service ps {WEB_SERVICE}` says why",
        [f"docker service scale {WEB_SERVICE}=3"],
    )


def test_web_answers_on_every_address_of_the_vm(host, web):
    for url in MESH_URLS:  # the mesh listens on every address of every machine
        status, _ = http(host, "/health", base=url)
        if status != 200:
            fail(
                f"GET {url}/health does not answer 200.",
                "200 from one of web's tasks",
                status or "no answer",
                [f"docker service logs {WEB_SERVICE}   # what do the tasks say?", *DEPLOY],
            )


def test_requests_are_spread_over_every_web_task(host, web):
    """Six new connections: IPVS takes turns, so each of the 3 tasks serves 2. Each task's
    server logs its requests, and `docker service logs` says which task wrote a line."""
    marker = uuid.uuid4().hex
    for _ in range(6):
        http(host, f"/health?from=check7-{marker}", base=MESH_URLS[0])
    tasks = set()
    for _ in range(10):  # the logs reach the manager within a moment
        logs = host.run(f"docker service logs {shlex.quote(web['Spec']['Name'])} 2>&1").stdout
        tasks = {line.split()[0] for line in logs.splitlines() if marker in line}
        if len(tasks) >= 3:
            break
        host.run("sleep 1")
    expect(
        len(tasks) == 3,
        f"Six requests to {MESH_URLS[0]} reached {len(tasks)} of web's tasks, not 3.",
        "3 tasks",
        ", ".join(sorted(t.split("@")[0] for t in tasks)) or "none",
        [f"docker service ps {WEB_SERVICE}   # are 3 running?", *DEPLOY],
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
        [GO_TO_PROJECT, SAVE],
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
            [GO_TO_PROJECT, SAVE],
        )


def test_db_image_is_loaded(host):
    expect(
        image(host, S["DB_COMMIT_IMAGE"]),
        f"There is no image {S['DB_COMMIT_IMAGE']}.",
        S["DB_COMMIT_IMAGE"],
        "none",
        [GO_TO_PROJECT, f"docker load -i {ARCHIVE}"],
    )
