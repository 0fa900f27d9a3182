"""The venue kit (issue 11): provisioning/kit.sh packages the provisioned VM into a box,
and a fresh VM booted from that box, with its networks cut off from everything beyond
this machine, provisions with nothing to download and changes nothing.

Runs after test_vagrant_up.py (file order), on its VM (tests/realvm/conftest.py: `kit`,
`kit_vm`); test_vm_replay.py then replays the first steps in the kit's VM, offline.
"""

import os
import shlex
import subprocess
import sys

import pytest

from settings import PROJECT, S

pytestmark = pytest.mark.realvm


def test_kit_sh_builds_the_box_and_its_checksum(kit, say):
    assert kit.returncode == 0, kit.output[-6000:]
    recap = kit.recap  # the provisioning with WORKSHOP_KIT=yes
    assert recap.get("failed") == 0, kit.output[-6000:]
    assert "Build the web image once, to fill Docker's build cache" in kit.output
    size = kit.box.stat().st_size
    assert f"done: {kit.box}, {size // 2**20} MiB" in kit.output, kit.output[-2000:]
    checked = subprocess.run(["sha256sum", "-c", f"{kit.box.name}.sha256"], cwd=kit.box.parent,
                             capture_output=True, text=True)
    assert checked.returncode == 0 and f"{kit.box.name}: OK" in checked.stdout, checked
    say(f"kit: {kit.box.name}, {size / 2**20:.0f} MiB, built in {kit.seconds:.0f} s")


def test_kit_sh_refuses_to_overwrite_a_kit(kit):
    """A second run with the same file name stops before it touches any VM."""
    result = subprocess.run(["sh", "provisioning/kit.sh", str(kit.box)], cwd=PROJECT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result
    assert f"{kit.box} exists already" in result.stdout, result.stdout


def pip_index():
    """The package index pip uses on this machine: its configuration (PIP_INDEX_URL or
    `pip config`), else pip's own default, asked of pip itself (no host is written here)."""
    listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                            capture_output=True, text=True).stdout
    configured = [line.split("=", 1)[1].strip("'\" ") for line in listed.splitlines()
                  if line.split("=", 1)[0].endswith(".index-url")]
    if os.environ.get("PIP_INDEX_URL") or configured:
        return os.environ.get("PIP_INDEX_URL") or configured[0]
    from pip._internal.models.index import PyPI  # pip's default index

    return PyPI.simple_url


def test_the_kits_vm_has_no_way_out(kit_vm):
    """The proof that what follows is offline: the VM reaches neither Debian's mirror nor
    the package index (the mirror its apt uses, read from its own sources; the index
    this machine's pip uses)."""
    mirror = kit_vm.ssh("sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources "
                        "| head -n 1").stdout.strip()
    for url in (mirror, pip_index()):
        tried = kit_vm.ssh(f"curl -sS --max-time 20 -o /dev/null {shlex.quote(url)}",
                           check=False)
        assert tried.returncode != 0, f"the kit's VM reached {url}"


def test_vagrant_up_from_the_kit_needs_no_network_and_changes_nothing(kit_vm):
    """The kit's VM was provisioned before it was packaged: this `vagrant up` provisions
    it a second time, with nothing to download, and must change nothing (idempotence)."""
    run = kit_vm.first_up
    assert run.returncode == 0, f"`vagrant up` exited {run.returncode}:\n{run.output[-6000:]}"
    assert "Ansible is installed: ansible-playbook" in run.output, run.output[-3000:]
    assert run.recap.get("failed") == 0 and run.recap.get("unreachable") == 0, run.output
    assert run.recap.get("changed") == 0, "changed from the kit:\n" + "\n".join(
        run.changed_tasks())


def test_workshop_status_in_the_kits_vm(kit_vm):
    run = kit_vm.vagrant("ssh", "-c", "workshop status", timeout=300)
    assert run.returncode == 0, run.output
    assert "Progress: 0/" in run.output, run.output


def test_the_kit_holds_the_images_and_no_learner_state(kit_vm):
    images = kit_vm.ssh("docker image ls --format '{{.Repository}}:{{.Tag}}'").stdout.split()
    for image in (S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"], S["REGISTRY_IMAGE"]):
        assert image in images, images
    assert S["WEB_IMAGE"] not in images, "the kit holds step 1's image: check 1 would pass"
    assert kit_vm.ssh("docker ps -aq").stdout.strip() == ""
