"""The replay runs in a fresh stand-in VM (tests/vm/standin_vm.py), a clone of the
provisioned one, with its own Docker engine: the learner's names cannot collide with
anything else on this machine."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from settings import S

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shell import Shell  # noqa: E402

# Compose v2, as a docker CLI plugin: tests/compose-v2.sh installed it on this machine.
PLUGIN = Path("/usr/local/lib/docker/cli-plugins/docker-compose")
# VirtualBox's host-only adapter, which a container has not: a second interface with
# VM_IP, so that `docker swarm init --advertise-addr VM_IP` meets what it meets in a VM.
HOST_ONLY_NIC = (
    "ip link add eth1 type veth peer name vbox-hostonly && "
    f"ip addr add {S['VM_IP']}/24 dev eth1 && ip link set eth1 up && "
    "ip link set vbox-hostonly up"
)


@pytest.fixture(scope="module")
def learner_vm(vm_factory):
    """A fresh VM as after `vagrant up`, with the images provisioning pulls in a real VM."""
    with vm_factory.fresh() as vm:
        vm.load_images(S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"], S["REGISTRY_IMAGE"])
        vm.run(HOST_ONLY_NIC)
        if vm.run("docker compose version", user="vagrant", check=False).returncode:
            # Offline, the playbook installs Debian's docker.io, which has no Compose v2;
            # a real VM gets it from Docker's repository. Give the VM this machine's v2.
            assert PLUGIN.exists(), "Compose v2 is missing here: run tests/compose-v2.sh"
            vm.run(f"mkdir -p {shlex.quote(str(PLUGIN.parent))}")
            subprocess.run(["docker", "cp", str(PLUGIN), f"{vm.name}:{PLUGIN}"], check=True)
            vm.run("docker compose version", user="vagrant")
        yield vm


@pytest.fixture(scope="module")
def terminal(learner_vm):
    """The learner's terminal after `vagrant ssh`: a login shell as vagrant, at home."""
    login = "docker exec -i -u vagrant -w /home/vagrant -e HOME=/home/vagrant".split()
    shell = Shell([*login, learner_vm.name, "bash", "-l"])
    yield shell
    shell.close()
