"""The registry image's contract that step 8 relies on, observed on a container.

Here the image is the offline stand-in (tests/standins/registry/) when no registry is
reachable, the official registry:2 elsewhere: both must pass. Pushes go to 127.0.0.1,
which the engine talks to over plain HTTP without any setting, as in the VM.
"""

import io
import json
import subprocess
import tarfile
import urllib.request

import pytest

from dockertools import docker, unique, wait_for
from pg import free_port
from settings import S

pytestmark = [pytest.mark.docker, pytest.mark.replay_engine]  # conftest.py
IMAGE = S["REGISTRY_IMAGE"]


@pytest.fixture
def made_images(engine):
    """Image references a test tags; removed afterwards, pass or fail."""
    refs = []
    yield refs
    if refs:
        docker("image", "rm", "-f", *refs, check=False)


@pytest.fixture
def start(engine, made_images):
    """start(*options, port=5000) runs the registry published on a free port of
    127.0.0.1; (container, its address). Removed afterwards with its volume."""
    if docker("image", "inspect", IMAGE, check=False).returncode:
        pytest.skip(f"image {IMAGE} missing: run `tests/standins/build.sh`")
    started = []

    def run(*options, port=5000):
        name, host_port = unique("dwregistry"), free_port()
        started.append(name)
        docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{host_port}:{port}",
               *options, IMAGE)
        address = f"127.0.0.1:{host_port}"
        wait_for(f"{name} to answer", lambda: get(address, "/v2/")[0] == 200, timeout=30)
        return name, address

    yield run
    for name in started:
        docker("rm", "-f", "-v", name, check=False)


def get(address, path):
    """(status, headers, body) of GET http://address/path."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=5) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except OSError:
        return None, {}, ""


def tiny_image(ref, made_images, content="hello\n"):
    """A one-file image (docker import), quick to push; its layer's diff ID."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content.encode())
        tar.addfile(info, io.BytesIO(content.encode()))
    subprocess.run(["docker", "import", "-", ref], input=data.getvalue(), check=True,
                   capture_output=True, timeout=60)
    made_images.append(ref)
    return docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref).stdout.strip()


def test_serves_the_registry_api_v2_on_port_5000(start):
    _, address = start()
    status, headers, body = get(address, "/v2/")
    assert status == 200 and json.loads(body) == {}
    assert headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_push_and_pull_back_the_same_layers(start, made_images):
    """Q8.1 and Q8.4: push, remove the local copy, pull it back from the registry; a
    second push sends no layer again."""
    _, address = start()
    repo = unique("dwclaim")
    ref = f"{address}/{repo}:1.0"
    layers = tiny_image(ref, made_images)
    docker("push", ref)
    assert json.loads(get(address, "/v2/_catalog")[2]) == {"repositories": [repo]}
    assert json.loads(get(address, f"/v2/{repo}/tags/list")[2])["tags"] == ["1.0"]
    assert "Layer already exists" in docker("push", ref).stdout
    docker("image", "rm", ref)
    assert docker("image", "inspect", ref, check=False).returncode
    docker("pull", ref)
    pulled = docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", ref).stdout.strip()
    assert pulled == layers


def test_storage_is_the_volume_var_lib_registry(start, made_images):
    name, address = start()
    volumes = docker("image", "inspect", "-f", "{{json .Config.Volumes}}", IMAGE).stdout
    assert list(json.loads(volumes)) == ["/var/lib/registry"]
    repo = unique("dwclaim")
    tiny_image(f"{address}/{repo}:1.0", made_images)
    docker("push", f"{address}/{repo}:1.0")
    stored = docker("exec", name, "ls", "/var/lib/registry/docker/registry/v2/repositories")
    assert stored.stdout.split() == [repo]


def test_registry_variables_override_the_configuration(start, made_images):
    name, address = start("-e", "REGISTRY_HTTP_ADDR=:5001",
                          "-e", "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/elsewhere",
                          port=5001)
    repo = unique("dwclaim")
    tiny_image(f"{address}/{repo}:1.0", made_images)
    docker("push", f"{address}/{repo}:1.0")
    stored = docker("exec", name, "ls", "/elsewhere/docker/registry/v2/repositories")
    assert stored.stdout.split() == [repo]


def test_arguments_as_the_official_entrypoint_takes_them(engine):
    if docker("image", "inspect", IMAGE, check=False).returncode:
        pytest.skip(f"image {IMAGE} missing: run `tests/standins/build.sh`")
    version = docker("run", "--rm", IMAGE, "--version").stdout  # an option: `registry --version`
    assert "github.com/docker/distribution" in version
    major = IMAGE.rsplit(":", 1)[1].split(".")[0]
    assert f" v{major}." in version or f" {major}." in version
    assert docker("run", "--rm", IMAGE, "echo", "as given").stdout == "as given\n"
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", IMAGE).stdout)
    assert config["Cmd"] == ["/etc/docker/registry/config.yml"]
    assert "5000/tcp" in config["ExposedPorts"]
