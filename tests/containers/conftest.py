"""Fixtures for the tests on the real Docker engine. Everything a test creates has a
unique name (never a learner's name from .env) and is removed afterwards, pass or fail."""

import subprocess

import pytest

from dockertools import ADMIN_PASSWORD, docker, unique, wait_until_ready
from settings import PROJECT, S


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
def web_image(engine):
    """The workshop's web image built from the Dockerfile, under a unique tag."""
    tag = f"{unique()}:test"
    docker("build", "-q", "--build-arg", f"PYTHON_IMAGE={S['PYTHON_IMAGE']}", "-t", tag,
           str(PROJECT))
    yield tag
    docker("image", "rm", "-f", tag, check=False)
