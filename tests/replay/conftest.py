"""The replay runs in a fresh stand-in VM (tests/vm/standin_vm.py), a clone of the
provisioned one, with its own Docker engine: the learner's names cannot collide with
anything else on this machine."""

import os
import sys
from pathlib import Path

import pytest

from settings import S

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shell import Shell  # noqa: E402

# The engine the replay runs on (TEST ONLY; learners get Docker's own packages, pinned to
# the major that this proves: provisioning/vars/main.yml):
#   sid       the newest engine this machine's Debian mirror has: Debian sid's docker.io
#             (28.5.2), docker-buildx and docker-compose, installed over the provisioned VM;
#   debian13  what the playbook's offline variant installs: Debian 13's docker.io (26.1.5).
ENGINE = os.environ.get("REPLAY_ENGINE", "sid")
# VirtualBox's host-only adapter, which a container has not: a second interface with
# VM_IP, so that `docker swarm init --advertise-addr VM_IP` meets what it meets in a VM.
HOST_ONLY_NIC = (
    "ip link add eth1 type veth peer name vbox-hostonly && "
    f"ip addr add {S['VM_IP']}/24 dev eth1 && ip link set eth1 up && "
    "ip link set vbox-hostonly up"
)


@pytest.fixture(scope="module")
def learner_vm(vm_factory):
    """A fresh VM as after `vagrant up`, with the images provisioning pulls in a real VM.
    Its Compose v2 and BuildKit are the VM's own (Debian's docker-compose, docker-buildx)."""
    if ENGINE not in ("sid", "debian13"):
        pytest.fail(f"REPLAY_ENGINE={ENGINE!r}: use sid or debian13")
    with vm_factory.fresh() as vm:
        if ENGINE == "sid":
            vm.use_debian_sid_engine()
        vm.load_images(S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"], S["REGISTRY_IMAGE"])
        vm.run(HOST_ONLY_NIC)
        yield vm


@pytest.fixture(scope="module")
def terminal(learner_vm):
    """The learner's terminal after `vagrant ssh`: a login shell as vagrant, at home."""
    login = "docker exec -i -u vagrant -w /home/vagrant -e HOME=/home/vagrant".split()
    shell = Shell([*login, learner_vm.name, "bash", "-l"])
    yield shell
    shell.close()


@pytest.fixture(scope="module")
def restart_vm(learner_vm):
    """Restart the learner's VM as `vagrant halt` and `vagrant up` do (its second network
    card comes back with it)."""

    def restart():
        learner_vm.reboot()
        learner_vm.run(HOST_ONLY_NIC)

    return restart
