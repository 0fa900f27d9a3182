"""Step 3: the web container runs with server.py mounted, port 8080 published and the
database's address in its environment; the VM's own py-postgresql is gone."""

import pytest

from course import command, posted
from settings import S
from steplib import (
    GO_TO_PROJECT,
    WEB_URL,
    Mistake,
    body,
    container,
    db_host_of,
    expect,
    expect_not_stopped,
    fail,
    http,
    listener,
    mount_at,
    no_answer,
    published,
    published_port,
    running,
    said,
    state,
)

NAME, PORT = S["WEB_CONTAINER"], S["WEB_PORT"]
POSTED = posted(3)
RUN = command(3, f"docker run -d --name={NAME}")
REDO = [f"docker rm -f {NAME}", GO_TO_PROJECT, RUN]
SERVER_PY = f"{S['VM_PROJECT_DIR']}/server.py"
MOUNT = '-v "$PWD"/server.py:/app/server.py '

# The replay restarts the VM after this step (as a lunch break does): see TAKE_A_BREAK
# in tests/replay/replayer.py.
TAKE_A_BREAK = True
MISTAKES = [
    Mistake(
        "the container stopped (docker stop, or a restart)",
        make=[f"docker stop {NAME}"],
        says=f"{NAME} is stopped, not broken",
    ),
    Mistake(
        "the check run the moment the container starts",  # the server is still starting
        make=[f"docker rm -f {NAME}", RUN],
        says=None,  # accepted: the check waits for the server (steplib.STARTING_S)
        undo=[f"docker ps --filter name={NAME}"],
    ),
    Mistake(
        "a server that never starts",  # the container runs, but something else
        make=[f"docker rm -f {NAME}", RUN.replace("python server.py", "sleep 600")],
        says=f"no answer; {NAME} is running but its last log line",
    ),
    Mistake(
        "the wrong port",
        make=[f"docker rm -f {NAME}", RUN.replace(f"-p {PORT}:8080", "-p 8081:8080")],
        says="Found: 8081->8080/tcp",
    ),
    Mistake(
        "no bind mount",
        make=[f"docker rm -f {NAME}", RUN.replace(MOUNT, "")],
        says="exit code 2; its last log line: python: can't open file",
    ),
    Mistake(
        "run from the home folder instead of the project's",
        make=["cd ~", f"docker rm -f {NAME}", RUN],
        says="mounts /home/vagrant/server.py",
    ),
    Mistake(
        "no POSTGRES_HOST",
        make=[f"docker rm -f {NAME}", RUN.replace("-e POSTGRES_HOST=host.docker.internal ", "")],
        says="Found: no POSTGRES_HOST",
    ),
    Mistake(
        "port 8080 already taken on the VM",
        make=[
            f"docker rm -f {NAME}",
            f"(python3 -m http.server {PORT} >/dev/null 2>&1 &)",
            # until it listens (bounded: half a minute at most)
            f"timeout 30 sh -c 'until ss -Hltn \"sport = :{PORT}\" | grep -q .; "
            "do sleep 0.2; done'",
            f"{RUN} || true",
        ],
        says=f"port {PORT} is taken by python3",
    ),
]


@pytest.fixture
def web(host):
    info = container(host, NAME)
    if running(info):
        return info
    expect_not_stopped(host, info, NAME, [NAME])
    fix = REDO
    mount = mount_at(info, "/app/server.py") if info else None
    if mount and mount["Source"] != SERVER_PY:  # `docker run` made a folder there
        fix = [f"docker rm -f {NAME}", f"sudo rmdir {mount['Source']}", *REDO[1:]]
        fail(
            f"{NAME} mounts {mount['Source']}, not the project's server.py: "
            "`docker run` ran outside ~/docker-workshop.",
            f"{SERVER_PY} at /app/server.py",
            state(host, info, NAME),
            fix,
        )
    program, pid = listener(host, PORT)
    if info and pid:
        fix = [
            f"kill {pid}   # {program}: if it is the step 0 server, Ctrl+C in its terminal",
            *REDO,
        ]
        fail(
            f"{NAME} is not running: port {PORT} is taken by {program} (pid {pid}).",
            f"{NAME} running, port {PORT} free for it",
            state(host, info, NAME),
            fix,
        )
    fail(f"{NAME} is not running.", "running", state(host, info, NAME), fix)


def test_web_container_runs_the_web_image(web):
    expect(
        web["Config"]["Image"] == S["WEB_IMAGE"],
        f"{NAME} runs another image.",
        S["WEB_IMAGE"],
        web["Config"]["Image"],
        REDO,
    )


def test_server_py_is_bind_mounted(web):
    mount = mount_at(web, "/app/server.py")
    expect(
        mount and mount["Type"] == "bind" and mount["Source"] == SERVER_PY,
        f"{NAME} does not mount the project's server.py at /app/server.py.",
        f"{SERVER_PY} (bind mount)",
        f"{mount['Type']} {mount['Source']}" if mount else "no mount at /app/server.py",
        REDO,
    )


def expect_port_published(web):
    expect(
        PORT in published_port(web),
        f"{NAME} does not publish its port 8080 on the VM's port {PORT}.",
        f"{PORT}->8080/tcp (-p {PORT}:8080)",
        published(web),
        REDO,
    )


def test_port_8080_is_published(web):
    expect_port_published(web)


def test_database_address_is_set(web):
    expect(
        db_host_of(web),
        f"{NAME} does not say where its database is.",
        "POSTGRES_HOST=host.docker.internal (the VM, seen from the container)",
        "no POSTGRES_HOST: server.py then tries localhost, the container itself",
        REDO,
    )


def test_server_answers_with_its_database(host, web):
    expect_port_published(web)  # else nothing answers: the same message, shown once
    status, answer = http(host, "/health")
    expect(
        status == 200,
        f"{WEB_URL}/health does not answer 200.",
        "200: the server reaches its database",
        said(status, answer, NAME),
        [f"docker logs {NAME}   # the server says why", *REDO],
    )


def test_vm_py_postgresql_is_uninstalled(host):
    result = host.run('python3 -c "import postgresql"')
    expect(
        result.rc != 0,
        "py-postgresql is still installed in the VM's Python.",
        "no module postgresql outside the container",
        "import postgresql works",
        ["pip uninstall -y py-postgresql"],
    )


def test_message_posted_through_the_container(host, web):
    expect_port_published(web)
    status, answer = http(host)
    expect(
        POSTED in answer,
        f'No "{POSTED}" message.',
        f'"{POSTED}" in GET {WEB_URL}',
        f"{status}: {len(body(answer).splitlines())} lines, not that one"
        if status else no_answer(NAME),
        [f'curl -XPOST {WEB_URL} -d "{POSTED}"'],
    )
