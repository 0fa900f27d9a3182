"""Docker behaviours the exercises' answers state, each observed on the real engine of
this machine. Everything made here has a unique name and is removed, pass or fail
(the `name` fixture). tests/replay/test_claims_map.py says which test backs which answer."""

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from vm.standin_vm import SID_ENGINE, version_tuple

from dockertools import docker, wait_for
from pg import free_port
from settings import PROJECT, S

pytestmark = [pytest.mark.docker, pytest.mark.replay_engine]  # conftest.py
PYTHON = S["PYTHON_IMAGE"]
SERVE = ["python", "-m", "http.server", "8080"]  # any HTTP server on port 8080 will do



def answers(url, seconds=20):
    """True once `url` answers HTTP within `seconds`, else False."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def test_the_claims_run_on_the_replay_engine():
    """Every claim here is proven on the learner's engine, not on this machine's older
    one: Debian sid's Docker (SID_ENGINE or newer), containerd's image store, BuildKit."""
    server = docker("version", "-f", "{{.Server.Version}}").stdout.strip()
    assert version_tuple(server) >= version_tuple(SID_ENGINE), server
    assert "io.containerd.snapshotter" in docker("info", "-f", "{{.DriverStatus}}").stdout
    assert docker("buildx", "version").returncode == 0


def test_rebuild_after_changing_server_py_reuses_every_layer(engine, name, tmp_path):
    """Q1.2: no instruction copies server.py, so the rebuild is all cache hits: every
    step CACHED, the same layers. The image ID still moves: BuildKit attaches a
    provenance attestation (how and when it built) to the image; without it the ID stays
    the same. With containerd's image store, the tag's old image is gone, not left
    untagged."""
    for path in ("Dockerfile", ".dockerignore", "requirements.txt", "server.py"):
        shutil.copy(PROJECT / path, tmp_path / path)

    def build(*options, tag=f"{name}:1"):
        output = docker("build", "--progress=plain", *options, "--build-arg",
                        f"PYTHON_IMAGE={PYTHON}", "-t", tag, tmp_path, timeout=900).stderr
        return json.loads(docker("image", "inspect", tag).stdout)[0], output

    first, _ = build()
    (tmp_path / "server.py").write_text((tmp_path / "server.py").read_text() + "# a change\n")
    second, output = build()
    steps = re.findall(r"^#(\d+) \[(\d+)/\d+\] (\w+)", output, re.M)
    assert {"COPY", "RUN"} <= {kind for _, _, kind in steps}  # the pip install among them
    cached = set(re.findall(r"^#(\d+) CACHED$", output, re.M))
    assert [kind for number, _, kind in steps if kind != "FROM" and number not in cached] == []
    assert second["RootFS"]["Layers"] == first["RootFS"]["Layers"]
    assert second["Id"] != first["Id"]
    assert docker("image", "inspect", first["Id"], check=False).returncode  # gone
    without = [build("--provenance=false", tag=f"{name}:2")[0]["Id"] for _ in range(2)]
    assert without[0] == without[1]


def test_dockerignore_sends_only_requirements_txt(engine, name, tmp_path):
    """Q1.3: what .dockerignore excludes never reaches the engine (COPY . cannot see it)."""
    probe = tmp_path / "probe.Dockerfile"
    probe.write_text(f"FROM {PYTHON}\nCOPY . /context\n")
    docker("build", "-q", "-f", probe, "-t", f"{name}:probe", PROJECT, timeout=900)
    listed = docker("run", "--rm", f"{name}:probe", "ls", "-A", "/context").stdout.split()
    assert listed == ["requirements.txt"]


def test_rm_removes_a_failed_container_and_without_it_it_stays_exited_2(engine, name):
    """Q2.2: --rm removes the container whatever its exit code; without it, Exited (2)."""
    missing = ["python", "/app/server.py"]
    assert docker("run", "--rm", "--name", name, PYTHON, *missing, check=False).returncode == 2
    assert docker("ps", "-aq", "--filter", f"name=^{name}$").stdout.strip() == ""
    assert docker("run", "--name", name, PYTHON, *missing, check=False).returncode == 2
    state = json.loads(docker("inspect", "-f", "{{json .State}}", name).stdout)
    assert (state["Status"], state["ExitCode"]) == ("exited", 2)


def test_publish_maps_host_port_to_container_port(engine, name):
    """Q3.2: -p HOST:CONTAINER; only the host port is reachable from the host."""
    host_port, other = free_port(), free_port()
    docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{host_port}:8080", PYTHON, *SERVE)
    assert answers(f"http://127.0.0.1:{host_port}/")
    assert not answers(f"http://127.0.0.1:{other}/", seconds=1)


def test_localhost_in_a_container_is_the_container(engine, name):
    """Q3.3: a server on the host's localhost is not the container's localhost."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        probe = f"import socket; socket.create_connection(('localhost', {port}), timeout=2)"
        assert docker("run", "--rm", PYTHON, "python", "-c", probe, check=False).returncode
        # ... and a server inside the container is reached there on localhost.
        inside = f'{" ".join(SERVE)} & sleep 1; python -c "{probe.replace(str(port), "8080")}"'
        assert docker("run", "--rm", PYTHON, "sh", "-c", inside, check=False).returncode == 0


def test_bind_mount_is_the_same_file_not_a_copy(engine, name, tmp_path):
    """Step 3: an edit on the host shows inside the running container at once."""
    shared = tmp_path / "server.py"
    shared.write_text("before\n")
    docker("run", "-d", "--name", name, "-v", f"{shared}:/app/server.py", PYTHON, "sleep", "60")
    shared.write_text("after\n")
    assert docker("exec", name, "cat", "/app/server.py").stdout == "after\n"


def test_docker_top_shows_the_container_process_with_a_host_pid(engine, name):
    """Step 3: a container is a process of the host: `docker top` shows its host PID."""
    docker("run", "-d", "--name", name, PYTHON, "sleep", "60")
    host_pid = docker("inspect", "-f", "{{.State.Pid}}", name).stdout.strip()
    top = docker("top", name, "-o", "pid,args").stdout.splitlines()[1:]
    assert [line.split(None, 1) for line in top] == [[host_pid, "sleep 60"]]
    assert docker("exec", name, "cat", "/proc/1/cmdline").stdout.startswith("sleep")


def test_link_sets_postgres_port_5432_tcp_addr(engine, name):
    """Step 4: the legacy `--link db:postgres` sets POSTGRES_PORT_5432_TCP_ADDR."""
    docker("run", "-d", "--name", name, "--expose", "5432", PYTHON, "sleep", "60")
    on_bridge = "{{.NetworkSettings.Networks.bridge.IPAddress}}"
    address = docker("inspect", "-f", on_bridge, name).stdout.strip()
    env = docker("run", "--rm", "--link", f"{name}:postgres", PYTHON, "env").stdout
    assert f"POSTGRES_PORT_5432_TCP_ADDR={address}" in env.splitlines()
    assert f"POSTGRES_PORT=tcp://{address}:5432" in env.splitlines()


def test_docker_diff_lists_new_files_as_added(engine, name):
    """Step 5: `docker diff` marks what the container created with A."""
    docker("run", "--name", name, PYTHON, "sh", "-c", "mkdir /pg_data && touch /pg_data/x")
    assert {"A /pg_data", "A /pg_data/x"} <= set(docker("diff", name).stdout.splitlines())


def test_commit_adds_one_layer_and_keeps_env_and_command(engine, name):
    """Q5.3 and step 5: commit = the base's layers + one; env and command are kept."""
    docker("run", "--name", name, "-e", "PGDATA=/pg_data", PYTHON, "sh", "-c", "touch /x")
    docker("commit", name, f"{name}:committed")
    base, committed = (
        json.loads(docker("image", "inspect", ref).stdout)[0]
        for ref in (PYTHON, f"{name}:committed")
    )
    assert committed["RootFS"]["Layers"][:-1] == base["RootFS"]["Layers"]
    assert "PGDATA=/pg_data" in committed["Config"]["Env"]
    assert committed["Config"]["Cmd"] == ["sh", "-c", "touch /x"]


def test_two_containers_cannot_publish_the_same_host_port(engine, name):
    """Q7.1: a host port belongs to one container: the second gets an error."""
    port = free_port()
    docker("run", "-d", "--name", f"{name}-a", "-p", f"127.0.0.1:{port}:8080", PYTHON, *SERVE)
    second = docker(
        "run",
        "-d",
        "--name",
        f"{name}-b",
        "-p",
        f"127.0.0.1:{port}:8080",
        PYTHON,
        *SERVE,
        check=False,
    )
    assert second.returncode != 0 and "port is already allocated" in second.stderr


def test_compose_scale_with_a_published_port_runs_one_and_fails(engine, name, tmp_path):
    """Q7.1: three replicas of a service that publishes a fixed port: one runs, the
    others fail on the port, and `docker compose up` exits with an error."""
    port = free_port()
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: {PYTHON}\n    command: {' '.join(SERVE)}\n"
        f"    ports: ['127.0.0.1:{port}:8080']\n")
    compose = ["docker", "compose", "-p", name, "--project-directory", str(tmp_path)]
    try:
        up = subprocess.run([*compose, "up", "-d", "--scale", "web=3"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=180)
        assert up.returncode != 0
        assert "port is already allocated" in up.stderr or "address already in use" in up.stderr
        running = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={name}")
        assert len(running.stdout.split()) == 1
    finally:
        subprocess.run([*compose, "down"], cwd=tmp_path, capture_output=True)


def test_save_and_load_restore_the_same_image_and_tag(engine, name, tmp_path):
    """Q7.3: `docker save` holds layers, config and tags; `docker load` restores the same ID."""
    docker("run", "--name", name, PYTHON, "touch", "/x")
    image_id = docker("commit", name, f"{name}:saved").stdout.strip()
    archive = tmp_path / "image.tar"
    docker("save", "-o", archive, f"{name}:saved")
    docker("rmi", f"{name}:saved")
    assert docker("image", "inspect", f"{name}:saved", check=False).returncode
    docker("load", "-i", archive)
    assert docker("image", "inspect", "-f", "{{.Id}}", f"{name}:saved").stdout.strip() == image_id


def test_compose_down_keeps_named_volumes_and_down_v_removes_them(engine, name, tmp_path):
    """Q6.1 and Q6.2, with Compose v2 (`docker compose`), as in the VM."""
    (tmp_path / "docker-compose.yml").write_text(
        f"services:\n  app:\n    image: {PYTHON}\n    command: sleep 60\n"
        "    volumes: [data:/data]\nvolumes:\n  data:\n"
    )
    compose = ["docker", "compose", "-p", name, "--project-directory", str(tmp_path)]

    def run(*args):
        return subprocess.run(
            [*compose, *args], capture_output=True, text=True, timeout=120, cwd=tmp_path, check=True
        )

    def volume_exists():
        return docker("volume", "inspect", f"{name}_data", check=False).returncode == 0

    try:
        run("up", "-d")
        app = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={name}").stdout
        docker("exec", app.strip(), "touch", "/data/kept")
        run("down")
        assert volume_exists()
        run("up", "-d")
        app = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={name}").stdout
        assert docker("exec", app.strip(), "ls", "/data").stdout.split() == ["kept"]
        run("down", "-v")
        assert not volume_exists()
    finally:
        subprocess.run([*compose, "down", "-v"], capture_output=True, cwd=tmp_path)


def test_compose_scale_file_spreads_requests_over_three_web_containers(engine, name):
    """Step 7 and Q7.1: compose-scale.yml runs web=3 behind lb, the one published port."""
    docker(
        "build",
        "-q",
        "--build-arg",
        f"PYTHON_IMAGE={PYTHON}",
        "-t",
        f"{name}:web",
        PROJECT,
        timeout=900,
    )
    port = free_port()
    env = {**os.environ, "WEB_IMAGE": f"{name}:web", "WEB_PORT": str(port)}
    compose = [
        "docker",
        "compose",
        "-p",
        name,
        "-f",
        str(PROJECT / "docker-compose.yml"),
        "-f",
        str(PROJECT / "exercises/files/compose-scale.yml"),
    ]
    try:
        subprocess.run(
            [*compose, "up", "-d", "--scale", "web=3"],
            env=env,
            cwd=PROJECT,
            check=True,
            capture_output=True,
            timeout=300,
        )
        backends, deadline = set(), time.monotonic() + 90
        while len(backends) < 3 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    backends.add(answer.headers["X-Backend"])
            except OSError:
                time.sleep(1)
        assert len(backends) == 3, backends
        published = docker(
            "ps",
            "--filter",
            f"label=com.docker.compose.project={name}",
            "--format",
            '{{.Label "com.docker.compose.service"}} {{.Ports}}',
        )
        assert sorted(
            line.split()[0] for line in published.stdout.splitlines() if "->" in line
        ) == ["lb"]
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, cwd=PROJECT, capture_output=True)


def test_only_run_copy_and_add_add_filesystem_layers(engine, name, tmp_path):
    """Step 1: settings (ENV, LABEL, USER, EXPOSE, HEALTHCHECK, CMD) add no layer and
    0 bytes; RUN and COPY each add one layer."""
    (tmp_path / "file.txt").write_text("content\n")
    settings = (f"FROM {PYTHON}\nENV A=1\nLABEL a=b\nUSER 1000\nEXPOSE 9\n"
                'HEALTHCHECK CMD ["true"]\nCMD ["true"]\n')
    (tmp_path / "Dockerfile").write_text(settings)
    docker("build", "-q", "-t", f"{name}:settings", tmp_path, timeout=900)
    (tmp_path / "Dockerfile").write_text(settings + "RUN echo x > /tmp/x\nCOPY file.txt /\n")
    docker("build", "-q", "-t", f"{name}:files", tmp_path, timeout=900)

    def layers(ref):
        return json.loads(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref).stdout)

    assert layers(f"{name}:settings") == layers(PYTHON)
    assert layers(f"{name}:files")[:-2] == layers(PYTHON)
    history = docker("history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}",
                     f"{name}:settings").stdout.splitlines()[:6]
    assert [size for size, _ in (line.split("\t", 1) for line in history)] == ["0B"] * 6


def test_a_failed_container_keeps_its_logs_exit_code_and_state(engine, web_image, name):
    """Step 2: without --rm, `docker ps -a`, `docker logs` and `docker inspect` tell why."""
    failed = docker("run", "--name", name, web_image, "python", "server.py", check=False)
    assert failed.returncode == 2
    listed = docker("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Status}}")
    assert listed.stdout.startswith("Exited (2)")
    logs = docker("logs", name)
    assert "can't open file '/app/server.py'" in logs.stdout + logs.stderr
    assert docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "2"
    state = json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)
    assert (state["Status"], state["Running"], state["OOMKilled"]) == ("exited", False, False)


def test_entrypoint_sh_replaces_the_image_command(engine, web_image, name):
    """Step 2: `--entrypoint sh` runs a shell instead, without the image's CMD; what
    follows the image name goes to the shell."""
    docker("create", "--name", name, "--entrypoint", "sh", web_image)
    config = json.loads(docker("inspect", "--format", "{{json .Config}}", name).stdout)
    assert (config["Entrypoint"], config["Cmd"]) == (["sh"], None)
    looked = docker("run", "--rm", "--entrypoint", "sh", web_image, "-c", "pwd; ls -A").stdout
    assert looked.split() == ["/app", "requirements.txt"]


def test_i_keeps_stdin_open_and_t_gives_a_terminal(engine, name):
    """Steps 2 and 3: -i passes your input to the container, -t gives it a terminal."""
    def run(*options, script="import sys; print(repr(sys.stdin.read()))"):
        return subprocess.run(["docker", "run", "--rm", *options, PYTHON, "python", "-c",
                               script], input="typed", capture_output=True, text=True,
                              timeout=120).stdout.strip()

    assert run() == "''"  # without -i, your input does not reach the container
    assert run("-i") == "'typed'"
    is_a_terminal = "import os; print(os.isatty(0), os.isatty(1))"
    assert run(script=is_a_terminal) == "False False"
    assert run("-t", "--name", name, script=is_a_terminal) == "True True"


def test_rm_without_v_orphans_the_anonymous_volume_with_its_data(engine, name):
    """Q4.2 and step 5: postgres declares its data directory a VOLUME, so each container
    gets an anonymous volume there; `docker rm -f` leaves it, data included, used by no
    container (`docker volume ls --filter dangling=true`); `docker rm -v` removes it."""
    data = "/var/lib/postgresql/data"
    docker("run", "--name", name, "--entrypoint", "sh", S["POSTGRES_IMAGE"], "-c",
           f"echo kept > {data}/probe")
    mounts = json.loads(docker("inspect", "--format", "{{json .Mounts}}", name).stdout)
    (volume,) = [m["Name"] for m in mounts if m["Destination"] == data]
    try:
        docker("rm", "-f", name)
        dangling = docker("volume", "ls", "-q", "--filter", "dangling=true").stdout.split()
        assert volume in dangling
        kept = docker("run", "--rm", "-v", f"{volume}:/old", PYTHON, "cat", "/old/probe")
        assert kept.stdout == "kept\n"
        docker("create", "--name", name, "--entrypoint", "true", S["POSTGRES_IMAGE"])
        mounts = json.loads(docker("inspect", "--format", "{{json .Mounts}}", name).stdout)
        (second,) = [m["Name"] for m in mounts if m["Destination"] == data]
        docker("rm", "-v", name)
        assert docker("volume", "inspect", second, check=False).returncode
    finally:
        docker("volume", "rm", "-f", volume, check=False)


def test_the_web_image_healthcheck_shows_in_docker_ps(engine, web_image, name):
    """Step 6: the image's HEALTHCHECK asks the server for /health; Docker runs it and
    shows the result in `docker ps`. (Here /health is any page answering 200, and the
    checks run every second instead of every 10 s.)"""
    check = json.loads(docker("image", "inspect", "--format", "{{json .Config.Healthcheck}}",
                              web_image).stdout)
    assert check["Test"][:3] == ["CMD", "python", "-c"] and "/health" in check["Test"][3]
    assert check["Interval"] == 10 * 10**9
    serve_health = f"mkdir /tmp/w && echo ok > /tmp/w/health && cd /tmp/w && {' '.join(SERVE)}"
    docker("run", "-d", "--name", name, "--health-interval", "1s", web_image,
           "sh", "-c", serve_health)
    wait = time.monotonic() + 60
    while "(healthy)" not in (status := docker("ps", "--filter", f"name=^{name}$",
                                              "--format", "{{.Status}}").stdout):
        assert time.monotonic() < wait, status
        time.sleep(1)


def test_restart_runs_an_edit_that_the_running_server_does_not_see(engine, name, tmp_path):
    """Step 6: a running server keeps the code it started with; an edit the way an editor
    or `sed -i` saves it (a new file in place of the old) reaches the container at its
    next start, through the bind mount of that path."""
    code = tmp_path / "server.py"
    code.write_text("print('before')\n")
    docker("run", "-d", "--name", name, "-v", f"{code}:/app/server.py", PYTHON, "sh", "-c",
           "python /app/server.py; sleep 60")
    subprocess.run(["sed", "-i", "s/before/after/", code], check=True)
    assert docker("exec", name, "cat", "/app/server.py").stdout == "print('before')\n"
    docker("restart", "-t", "0", name)
    assert docker("exec", name, "cat", "/app/server.py").stdout == "print('after')\n"
    assert docker("logs", name).stdout.split() == ["before", "after"]


def test_container_prune_removes_stopped_containers_not_running_ones(engine, name):
    """Step 8: `docker container prune` removes every stopped container, no running one.
    (Here only the ones with this test's label: the engine is shared.)"""
    label = f"{name}=1"
    docker("run", "-d", "--name", f"{name}-running", "--label", label, PYTHON, "sleep", "60")
    docker("run", "--name", f"{name}-stopped", "--label", label, PYTHON, "true")
    docker("create", "--name", f"{name}-created", "--label", label, PYTHON, "true")
    docker("container", "prune", "-f", "--filter", f"label={name}")
    left = docker("ps", "-a", "--filter", f"label={name}", "--format", "{{.Names}}").stdout
    assert left.split() == [f"{name}-running"]


def test_image_prune_removes_only_dangling_images(engine, name, tmp_path):
    """Step 8: `docker image prune` removes images without a tag (what `docker build`
    without -t makes), never a tagged one; a rebuild that moves a tag leaves none with
    containerd's image store. (Only this test's label: shared engine.)"""
    (tmp_path / "Dockerfile").write_text(f"FROM {PYTHON}\nLABEL {name}=1\nRUN echo 1 > /x\n")
    tagged = docker("build", "-q", "-t", f"{name}:v", tmp_path, timeout=900).stdout.strip()
    (tmp_path / "Dockerfile").write_text(f"FROM {PYTHON}\nLABEL {name}=1\nRUN echo 2 > /x\n")
    docker("build", "-q", "-t", f"{name}:v", tmp_path, timeout=900)  # the tag moves
    assert docker("image", "inspect", tagged, check=False).returncode  # the old one: gone
    tagged = docker("image", "inspect", "-f", "{{.Id}}", f"{name}:v").stdout.strip()
    (tmp_path / "Dockerfile").write_text(f"FROM {PYTHON}\nLABEL {name}=1\nRUN echo 3 > /x\n")
    untagged = docker("build", "-q", tmp_path, timeout=900).stdout.strip()  # no -t
    dangling = docker("images", "-q", "--no-trunc", "--filter", "dangling=true",
                      "--filter", f"label={name}").stdout.split()
    try:
        assert dangling == [untagged]
        docker("image", "prune", "-f", "--filter", f"label={name}")
        assert docker("image", "inspect", untagged, check=False).returncode
        assert docker("image", "inspect", "-f", "{{.Id}}", f"{name}:v").stdout.strip() == tagged
    finally:
        docker("image", "rm", "-f", untagged, check=False)


# A program that writes a file, then runs until SIGTERM (`docker stop`), and ends with 0.
SERVES_UNTIL_STOPPED = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "open('/kept', 'w').write('kept\\n')\n"
    "time.sleep(600)\n"
)


def test_only_a_restart_policy_starts_a_container_again_with_docker(replay_engine, name):
    """Q6.4: when Docker starts again (as with the VM), a container with `--restart
    unless-stopped` runs again; one without a policy stays Exited (0), files kept, until
    `docker start`; one that was stopped by hand stays stopped."""
    for suffix, policy in (("plain", "no"), ("policy", "unless-stopped"),
                           ("stopped", "unless-stopped")):
        docker("run", "-d", "--name", f"{name}-{suffix}", "--restart", policy, PYTHON,
               "python", "-c", SERVES_UNTIL_STOPPED)
    for suffix in ("plain", "policy", "stopped"):  # its SIGTERM handler is in place
        wait_for(f"{name}-{suffix} to start", lambda suffix=suffix: docker(
            "exec", f"{name}-{suffix}", "cat", "/kept", check=False).returncode == 0)
    docker("stop", f"{name}-stopped")
    replay_engine.restart_docker()

    def state(suffix):
        return docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                      f"{name}-{suffix}").stdout.split()

    assert state("policy")[0] == "running"
    assert state("stopped")[0] == "exited"
    assert state("plain") == ["exited", "0"]  # stopped cleanly by the restart: not broken
    docker("start", f"{name}-plain")
    assert docker("exec", f"{name}-plain", "cat", "/kept").stdout == "kept\n"
