"""tests/engine.sh, run for real in a Debian container (the stand-in base) that has no
Docker at first (the host's engine must never be stopped by a test). The container gets
the capabilities a nested dockerd needs and its own volume for /var/lib/docker."""

import pytest

from dockertools import docker
from settings import PROJECT, load

pytestmark = pytest.mark.docker
# The stand-in base image, built by tests/standins/build.sh (its name: standins.env).
BASE = load(PROJECT / "tests" / "standins" / "standins.env")["STANDIN_BASE"]
FAKE_DOCKERD = "#!/bin/sh\nwhile :; do sleep 1; done\n"  # runs, never answers


@pytest.fixture
def machine(made):
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        pytest.skip(f"{BASE} missing: run tests/standins/build.sh")
    name = made.container()
    docker("run", "-d", "--init", "--name", name, "--cap-add", "ALL", "--cap-drop",
           "SYS_RESOURCE", "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
           "--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", f"{made.volume()}:/var/lib/docker",
           "-v", f"{PROJECT / 'tests' / 'engine.sh'}:/engine.sh:ro", BASE, "sleep", "infinity")
    return name


def sh(machine, command, env=()):
    result = docker("exec", *[f"--env={e}" for e in env], machine, "bash", "-c", command,
                    check=False)
    return result.returncode, result.stdout + result.stderr


def engine_answers(machine):
    return sh(machine, "timeout 10 docker info")[0] == 0


def dockerd_runs(machine):
    return sh(machine, "grep -qx dockerd /proc/[0-9]*/comm")[0] == 0


def test_engine_sh_fails_clearly_when_dockerd_never_answers(machine):
    sh(machine, f"printf '{FAKE_DOCKERD}' > /usr/local/bin/dockerd; "
                "chmod +x /usr/local/bin/dockerd")
    code, out = sh(machine, "/engine.sh start", env=["ENGINE_TIMEOUT=3"])
    assert code == 1
    assert "dockerd did not answer within 3s" in out
    assert not dockerd_runs(machine)  # what it started, it stopped


def test_engine_sh_installs_starts_and_stops_only_its_own_engine(machine):
    assert sh(machine, "/engine.sh stop") == (
        0, "engine: not started by this script, nothing to stop\n")

    code, out = sh(machine, "/engine.sh start")  # dockerd missing: installs docker.io
    assert code == 0, out
    assert "installing docker.io" in out
    assert engine_answers(machine)
    code, out = sh(machine, "/engine.sh start")
    assert (code, out) == (0, "engine: a Docker engine answers already, not starting one\n")

    code, out = sh(machine, "/engine.sh stop")
    assert code == 0, out
    assert not engine_answers(machine)

    # An engine someone else started is left alone.
    sh(machine, "setsid dockerd > /var/tmp/other.log 2>&1 < /dev/null &")
    code, out = sh(machine, "for i in $(seq 60); do docker info && exit; sleep 1; done; exit 1")
    assert code == 0, out
    assert "not starting one" in sh(machine, "/engine.sh start")[1]
    assert "nothing to stop" in sh(machine, "/engine.sh stop")[1]
    assert engine_answers(machine)
