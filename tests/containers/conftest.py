"""Fixtures for the tests on the real Docker engine. Everything a test creates has a
unique name (never a learner's name from .env) and is removed afterwards, pass or fail.

Two engines. The claims the exercises make (modules marked `replay_engine`: the tests a
`<!-- proof: -->` names) are proven on the learner's engine, the replay's: Debian sid's
Docker (SID_ENGINE or newer, containerd's image store, BuildKit) in a stand-in VM of
their own. The rest (the compose file with Compose v1 and v2, the stand-ins' build, the
test machinery) runs on this machine's engine, which only carries the tests.
"""

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys

import pytest

from dockertools import ADMIN_PASSWORD, docker, unique, wait_until_ready
from settings import PROJECT, S

# The images the claims use, copied into the claims' VM (no registry here).
IMAGES = [S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"], S["REGISTRY_IMAGE"]]
CLONE_NEWNET = 0x40000000  # setns(2): join another network namespace
# TEST ONLY: the `docker` a claim runs is the replay engine's own CLI (with its BuildKit
# and Compose), in the claims' VM, in the same folder (shared with the VM), with the
# settings a test gives Compose.
SHIM = """#!{python}
import os, sys
given = [f"--env={{name}}={{value}}" for name, value in os.environ.items()
         if name in {names!r} or name.startswith(("COMPOSE_", "BUILDKIT"))]
os.execv({docker!r}, [{docker!r}, "exec", "-i", "-w", os.getcwd(), *given, {vm!r},
                      "docker", *sys.argv[1:]])
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("replay_engine"):
            item.add_marker(pytest.mark.vm)  # it boots a stand-in VM


class ReplayEngine:
    """The claims' engine: a fresh stand-in VM with Debian sid's Docker. `active()` makes
    `docker` (on PATH) its CLI and puts this process in the VM's network namespace, so
    that 127.0.0.1 and a published port are the VM's, as a learner's curl sees them."""

    def __init__(self, vm, bin_dir):
        self.vm, self.version = vm, vm.use_debian_sid_engine()
        vm.load_images(*IMAGES)
        self.host_docker = shutil.which("docker")  # this machine's, found before the shim
        shim = bin_dir / "docker"
        shim.write_text(SHIM.format(python=sys.executable, names=sorted(S),
                                    docker=self.host_docker, vm=vm.name))
        shim.chmod(0o755)
        self.path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        self.pid = docker("inspect", "-f", "{{.State.Pid}}", vm.name).stdout.strip()
        self.store = vm.run("docker info -f '{{.DriverStatus}}'").stdout.strip()

    def restart_docker(self):
        """Restart the VM's engine, as a restart of the VM does to it (`docker` on PATH may
        be the VM's own CLI here: the VM is reached with this machine's)."""
        subprocess.run([self.host_docker, "exec", self.vm.name, "systemctl", "restart",
                        "docker"], check=True, capture_output=True, timeout=300)

    @contextlib.contextmanager
    def active(self):
        libc = ctypes.CDLL(None, use_errno=True)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(f"/proc/{self.pid}/ns/net", os.O_RDONLY)
        path = os.environ["PATH"]
        try:
            if libc.setns(there, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns into the claims' VM")
            os.environ["PATH"] = self.path
            yield self
        finally:
            os.environ["PATH"] = path
            libc.setns(home, CLONE_NEWNET)
            os.close(home)
            os.close(there)


@pytest.fixture(scope="session")
def replay_engine(vm_factory, tmp_path_factory, request):
    """The claims' engine, for the session; its version and image store are printed."""
    shares = [PROJECT, tmp_path_factory.getbasetemp()]
    with vm_factory.fresh(shares=shares) as vm:
        engine = ReplayEngine(vm, tmp_path_factory.mktemp("replay-engine-bin"))
        reporter = request.config.pluginmanager.getplugin("terminalreporter")
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"  claims: on Docker {engine.version} ({engine.store})")
        yield engine


@pytest.fixture(autouse=True)
def on_the_engine_it_needs(request):
    """A claim (marker replay_engine) runs on the replay's engine; the rest on this
    machine's."""
    if not request.node.get_closest_marker("replay_engine"):
        yield
        return
    with request.getfixturevalue("replay_engine").active():
        yield


@pytest.fixture(scope="session")
def engine():
    """A Docker engine that answers, with the two base images present."""
    try:
        answers = subprocess.run(["docker", "info"], capture_output=True,
                                 timeout=30).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        answers = False
    if not answers:
        pytest.skip("no Docker engine answers: run `tests/engine.sh start`")
    for image in (S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"]):
        if docker("image", "inspect", image, check=False).returncode != 0:
            pytest.skip(f"image {image} missing: run `tests/standins/build.sh`")


class Made:
    """What a test created; the `made` fixture removes it all afterwards."""

    def __init__(self):
        self.things = []

    def container(self):
        return self._add("container", unique())

    def image(self):
        return self._add("image", f"{unique()}:test")

    def volume(self):
        return self._add("volume", unique())

    def _add(self, kind, name):
        self.things.append((kind, name))
        return name

    def remove(self):
        """Containers first (they hold images and volumes), then images, then volumes."""
        commands = {"container": ["rm", "-f", "-v"], "image": ["image", "rm", "-f"],
                    "volume": ["volume", "rm", "-f"]}
        for kind in commands:
            for thing, name in reversed(self.things):
                if thing == kind:
                    docker(*commands[kind], name, check=False)


@pytest.fixture
def made(engine):
    made = Made()
    yield made
    made.remove()


@pytest.fixture
def name(engine):
    """A unique name prefix; every container, image and volume named with it is removed
    afterwards, pass or fail (for tests that make several things from one name)."""
    prefix = unique("dwclaim")
    yield prefix
    for kind, listing in [("container", ["ls", "-aq", "--filter", f"name={prefix}"]),
                          ("image", ["ls", "-q", "--filter", f"reference={prefix}*"]),
                          ("volume", ["ls", "-q", "--filter", f"name={prefix}"])]:
        ids = docker(kind, *listing, check=False).stdout.split()
        if ids:
            docker(kind, "rm", "-f", *ids, check=False)


@pytest.fixture
def run_db(made):
    """Start a postgres container (md5 passwords, as in the workshop) and wait until it
    answers over TCP. Extra `docker run` options go before the image."""

    def run(*options, command=("postgres", "-c", "password_encryption=md5"), name=None):
        name = name or made.container()
        docker("run", "-d", "--name", name, "-e", f"POSTGRES_PASSWORD={ADMIN_PASSWORD}",
               *options, S["POSTGRES_IMAGE"], *command)
        wait_until_ready(name)
        return name

    return run


@pytest.fixture(scope="session")
def web_image(replay_engine):
    """The workshop's web image built from the Dockerfile, under a unique tag, on the
    replay's engine (the claims use it)."""
    tag = f"{unique()}:test"
    with replay_engine.active():
        docker("build", "-q", "--build-arg", f"PYTHON_IMAGE={S['PYTHON_IMAGE']}", "-t", tag,
               str(PROJECT))
    yield tag
