"""`vagrant up` for real: the project's Vagrantfile, Vagrant's ansible_local provisioner,
a Debian VM under qemu. What a learner runs first, and what the stand-in VM (a container)
can only imitate: the box, the boot, Vagrant's own steps (key, hostname, networks,
synced folder, forwarded port), Ansible installed before ansible_local runs. A second
provisioning, which must change nothing, is the `vagrant up` of the venue kit's VM
(test_venue_kit.py).

Tests in this module run in file order on one VM (tests/realvm/conftest.py)."""

import shlex
import subprocess

import pytest
import vagrant_vm

from settings import S

pytestmark = pytest.mark.realvm


def test_offline_rules_left_by_a_killed_run_are_deleted():
    """A run killed while the kit's VM was offline leaves its REJECT rules: the next VM
    would reach no mirror. The session deletes them first (conftest.py, `real_vm`); here
    on a documentation subnet, before any VM of this run is offline."""
    rule = ["FORWARD", "-s", "192.0.2.0/24", "-m", "comment", "--comment",
            vagrant_vm.OFFLINE_COMMENT, "-j", "REJECT"]
    subprocess.run(["iptables", "-I", "FORWARD", "1", *rule[1:]], check=True)  # as offline()
    deleted = vagrant_vm.stale_offline_rules()
    assert [line for line in deleted if "192.0.2.0/24" in line], deleted
    assert subprocess.run(["iptables", "-C", *rule], capture_output=True).returncode == 1


def test_vagrant_up_provisions_the_vm_with_ansible_local(real_vm):
    run = real_vm.first_up
    assert run.returncode == 0, f"`vagrant up` exited {run.returncode}:\n{run.output[-6000:]}"
    # The box has no Ansible: the shell provisioner (provisioning/install-ansible.sh)
    # installs Debian's ansible-core, so ansible_local has nothing to install.
    assert "Installing Debian's ansible-core (apt)" in run.output, run.output[-3000:]
    assert "Installing Ansible..." not in run.output, run.output[-3000:]
    assert "Running ansible-playbook..." in run.output, run.output[-3000:]
    recap = run.recap
    assert recap.get("failed") == 0 and recap.get("unreachable") == 0, run.output[-6000:]
    assert recap.get("changed", 0) > 0, "the first run changed nothing on a fresh box?"
    assert real_vm.ssh("ansible-playbook --version").returncode == 0


def test_the_project_folder_is_copied_with_rsync_when_there_is_no_nfs(provisioned_vm):
    # This machine has no NFS server (no nfsd): the Vagrantfile says rsync then.
    assert "Rsyncing folder:" in provisioned_vm.first_up.output
    project = S["VM_PROJECT_DIR"]
    files = provisioned_vm.ssh(f"cd {project} && ls -A").stdout.split()
    assert {"server.py", "Vagrantfile", ".env", "exercises"} <= set(files), files
    assert ".vagrant" not in files, "Vagrant's own state was copied into the VM"
    owner = provisioned_vm.ssh(f"stat -c %U {project}/server.py").stdout.strip()
    assert owner == "vagrant", f"the learner does not own the project's files ({owner})"


def test_the_private_network_has_the_vm_address(provisioned_vm):
    addresses = provisioned_vm.ssh("ip -4 -o addr show").stdout
    assert f"inet {S['VM_IP']}/" in addresses, addresses
    assert provisioned_vm.ssh("hostname").stdout.strip() == "docker-workshop"


def test_workshop_status_over_vagrant_ssh(provisioned_vm):
    run = provisioned_vm.vagrant("ssh", "-c", "workshop status", timeout=300)
    assert run.returncode == 0, run.output
    assert "Progress: 0/" in run.output, run.output
    assert "not yet: `workshop check 0`" in run.output, run.output


def test_docker_runs_containers_as_the_learner(learner_images):
    image = shlex.quote(S["PYTHON_IMAGE"])
    result = learner_images.ssh(f"docker run --rm {image} python3 -c 'print(6 * 7)'")
    assert result.stdout.strip() == "42", result
    # Swarm's routing mesh needs IPVS: the VM's kernel has it (this machine's has not).
    assert learner_images.ssh("sudo modprobe ip_vs && lsmod | grep -q '^ip_vs '").returncode == 0
