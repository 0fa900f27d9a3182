"""The real VM for the whole session: built box, `vagrant up`, destroyed at the end.

Every test here carries the `realvm` marker: `bash tests/run -m realvm` runs only these,
`-m "not realvm"` everything else. tests/run starts libvirtd (tests/libvirt.sh)."""

import fcntl
import os
import platform
import shutil
import subprocess
import time

import pytest
import vagrant_vm

from settings import PROJECT, S, load

# REALVM_KEEP=1 leaves the VM running after the tests, to look into a failure (never in CI).
KEEP = os.environ.get("REALVM_KEEP") == "1" and os.environ.get("CI") != "true"
# The workshop's images (provisioning pulls them on a learner's VM).
IMAGES = [S["PYTHON_IMAGE"], S["POSTGRES_IMAGE"], S["REGISTRY_IMAGE"]]
KIT = vagrant_vm.CACHE / "kit"   # the venue kit the tests build (removed at the end)
# The processor type, as provisioning/kit.sh and the Vagrantfile (HOST_ARCH) name it: the
# kit's file and box carry it, and the Vagrantfile refuses a kit of the other type.
ARCH = "arm64" if platform.machine() in ("aarch64", "arm64") else "amd64"
KIT_BOX = f"docker-workshop-{ARCH}"   # its name, as INSTRUCTORS.md and README add it
# Held by tests/standins/build.sh while it builds the stand-ins.
STANDINS_LOCK = load(PROJECT / "tests" / "standins" / "standins.env")["STANDINS_LOCK"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/realvm/" in str(item.path):
            item.add_marker(pytest.mark.realvm)


@pytest.fixture(scope="session")
def say(request):
    """Print a progress line now, past pytest's capture (a VM under TCG takes minutes)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")

    def say(line):
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"  realvm: {line}")

    return say


@pytest.fixture(scope="session")
def real_vm(say):
    """The VM after the first `vagrant up` (its Run is `real_vm.first_up`), provisioned by
    ansible_local in the offline mode; destroyed, with its networks, at the end."""
    for tool in ("vagrant", "virsh", "qemu-system-x86_64", "qemu-img", "debootstrap"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is missing (tests/run installs the real-VM packages)")
    if not vagrant_vm.libvirt_answers():
        pytest.skip("libvirtd does not answer (tests/run starts it: tests/libvirt.sh start)")
    pools = vagrant_vm.pools()
    if killed := vagrant_vm.stale_forwards():
        say(f"killed the port forwards of VMs gone before: ssh pids {killed}")
    if rules := vagrant_vm.stale_offline_rules():
        say("deleted the iptables rules of a run killed offline: " + "; ".join(rules))
    box = vagrant_vm.build_box(say)
    vm = vagrant_vm.RealVM(box).create()
    try:
        say(f"vagrant up --provider=libvirt ({box}, under qemu TCG: minutes)")
        vm.first_up = vm.up(say=say)
        say(f"vagrant up: {vm.first_up.seconds:.0f} s, exit {vm.first_up.returncode}, "
            f"recap {vm.first_up.recap}")
        yield vm
    finally:
        if KEEP:
            say(f"REALVM_KEEP: the VM stays: cd {vm.project} && VAGRANT_HOME="
                f"{vagrant_vm.VAGRANT_HOME} vagrant ssh (then vagrant destroy -f)")
        else:
            say("vagrant destroy -f")
            vm.destroy()
            # What vagrant-libvirt keeps after a destroy: the box's volume, networks it
            # did not create, the storage pool it defined.
            removed = vagrant_vm.leftovers() + vagrant_vm.remove_networks()
            removed += vagrant_vm.remove_pools(keep=pools)
            say("removed from libvirt: " + (", ".join(removed) or "nothing left"))


@pytest.fixture(scope="session")
def provisioned_vm(real_vm):
    """The VM, only if the first `vagrant up` provisioned it."""
    run = real_vm.first_up
    if run.returncode or run.recap.get("failed", 1):
        pytest.fail("the first `vagrant up` did not provision the VM:\n" + run.output[-6000:])
    return real_vm


@pytest.fixture(scope="session")
def learner_images(provisioned_vm, say):
    """The images provisioning pulls on a learner's VM, copied from this machine's engine
    (the stand-ins where no registry answers: tests/standins/build.sh)."""
    say("docker save | docker load: the workshop's images into the VM")
    started = time.monotonic()
    # tests/run starts these tests while tests/standins/build.sh may still build them.
    with open(STANDINS_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        provisioned_vm.load_images(*IMAGES)
    say(f"images loaded in {time.monotonic() - started:.0f} s")
    # TEST ONLY. A learner's VM has Docker's Compose and buildx plugins (2.4x, 0.2x); this
    # machine reaches only Debian's packages, and Debian 13's docker-compose (2.26) does
    # not restart a service for a change to a bind-mounted file, as step 6's `docker
    # compose watch` does. The closest ones here are Debian sid's, each checked against
    # its signed index (Compose 2.40 needs buildx 0.17 or later).
    for package in ("docker-buildx", "docker-compose"):
        deb = vagrant_vm.CACHE / f"{package}-sid.deb"
        subprocess.run(["bash", "tests/compose-v2.sh", "--deb", str(deb), package],
                       cwd=PROJECT, env={**os.environ, "SUITE": "sid"}, check=True, timeout=600)
        provisioned_vm.install_deb(deb)
        deb.unlink()
    say("in the VM: " + provisioned_vm.ssh("docker compose version; docker buildx version")
        .stdout.strip().replace("\n", "; "))
    return provisioned_vm


@pytest.fixture(scope="session")
def kit(learner_images, say):
    """The venue kit, built as an instructor builds it: provisioning/kit.sh in the VM's
    project (it provisions with WORKSHOP_KIT=yes, then `vagrant package`s the VM). The
    images are in the VM already, so provisioning pulls nothing. Its Run carries `box`
    (the file). The VM it packaged is destroyed then: the kit's VM replaces it."""
    vm = learner_images
    KIT.mkdir(parents=True, exist_ok=True)
    box = KIT / f"docker-workshop-{time.strftime('%Y-%m-%d')}-{ARCH}.box"   # kit.sh's name
    for old in KIT.glob("*.box*"):
        old.unlink()
    say("provisioning/kit.sh (WORKSHOP_KIT=yes vagrant provision, vagrant package)")
    run = vm.command(["sh", "provisioning/kit.sh", str(box)], timeout=3600, say=say,
                     env={"WORKSHOP_PULL_IMAGES": "yes"})
    run.box, run.test_box = box, vm.box
    say(f"kit.sh: {run.seconds:.0f} s, exit {run.returncode}")
    if not KEEP:
        vm.destroy()
    yield run
    for old in KIT.glob("*.box*"):
        old.unlink()


@pytest.fixture(scope="session")
def kit_vm(kit, say):
    """A fresh VM from the kit's box, as a learner starts it (`vagrant box add --name
    docker-workshop-ARCH FILE`, then `WORKSHOP_BOX=docker-workshop-ARCH vagrant up`), with
    the VM's networks cut off from everything beyond this machine. Its Run is `kit_vm.first_up`."""
    if kit.returncode or not kit.box.exists():
        pytest.fail("provisioning/kit.sh did not build the kit:\n" + kit.output[-6000:])
    say(f"vagrant box add --name {KIT_BOX} {kit.box.name}")
    seconds = vagrant_vm.add_box(kit.box, KIT_BOX)
    say(f"box added in {seconds:.0f} s")
    # The kit's VM is provisioned as it was built (Debian's Docker here), pulls allowed.
    vm = vagrant_vm.RealVM(KIT_BOX, env={
        "WORKSHOP_DOCKER_SOURCE": vagrant_vm.OFFLINE["WORKSHOP_DOCKER_SOURCE"],
        "REALVM_KERNEL_DIR": str(vagrant_vm.kernel_dir(kit.test_box))})
    vm.create()
    try:
        with vagrant_vm.offline(vagrant_vm.MANAGEMENT_SUBNET, S["VM_IP"].rsplit(".", 1)[0]
                                + ".0/24"):
            say("vagrant up from the kit, offline")
            vm.first_up = vm.up(say=say)
            say(f"vagrant up from the kit: {vm.first_up.seconds:.0f} s, exit "
                f"{vm.first_up.returncode}, recap {vm.first_up.recap}")
            yield vm
    finally:
        if not KEEP:
            vm.destroy()
            vagrant_vm.remove_box(KIT_BOX)
