"""The replay runs in a fresh stand-in VM (tests/vm/standin_vm.py), a clone of the
provisioned one, with its own Docker engine: the learner's names cannot collide with
anything else on this machine."""

import shlex
import sys
from pathlib import Path

import pytest

from settings import PROJECT, S

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shell import Shell  # noqa: E402

SHIM = PROJECT / "tests" / "replay" / "docker-compose-shim.sh"
PLUGIN = "/usr/local/lib/docker/cli-plugins/docker-compose"
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
        vm.load_images(S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"])
        vm.run(HOST_ONLY_NIC)
        if vm.run("docker compose version", user="vagrant", check=False).returncode:
            # The test machine has Compose v1 only: see the shim's first lines.
            vm.run(
                f"mkdir -p {shlex.quote(str(Path(PLUGIN).parent))} && "
                f"cat > {PLUGIN} && chmod 0755 {PLUGIN}",
                input=SHIM.read_text(),
            )
        yield vm


@pytest.fixture(scope="module")
def terminal(learner_vm):
    """The learner's terminal after `vagrant ssh`: a login shell as vagrant, at home."""
    login = "docker exec -i -u vagrant -w /home/vagrant -e HOME=/home/vagrant".split()
    shell = Shell([*login, learner_vm.name, "bash", "-l"])
    yield shell
    shell.close()
