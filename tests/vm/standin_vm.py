"""The stand-in VM: what `vagrant up` gives a learner, as a container on this machine.

VirtualBox cannot run here, so the VM is a Debian 13 container with systemd as PID 1
and its own Docker engine inside, provisioned by the real playbook exactly as the
Vagrantfile's ansible_local provisioner does it: the project copied into VM_PROJECT_DIR
(the synced folder), Ansible installed by provisioning/install-ansible.sh (the shell
provisioner), then `ansible-playbook` run by the vagrant user from the project folder.

    with booted_vm() as vm:              # a fresh, unprovisioned VM
        vm.copy_project()
        vm.install_ansible()
        run = vm.provision()             # -> PlaybookRun (recap, seconds, output)
        vm.learner("python3 server.py")  # as vagrant, login shell, in the project

Fixtures (import them into a conftest.py: `from vm.standin_vm import standin_vm`):
- standin_vm: one provisioned VM for the whole session (read-only use, please).
- vm_factory: `with vm_factory.fresh() as vm:` boots a clone of the provisioned VM that a
  test may change at will (the exercises' replay); it is removed afterwards.

The VM's facts (paths, addresses) are the playbook's own: `playbook_var(name)` reads them
from provisioning/vars/main.yml, so that the tests never re-declare them.
"""

import contextlib
import hashlib
import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass

import jinja2
import jinja2.meta
import pytest
import yaml

from dockertools import docker
from settings import PROJECT, S, load

IMAGE_DIR = PROJECT / "tests" / "vm" / "image"
# The stand-in base (Debian 13), which tests/standins/build.sh makes: its name is kept in
# tests/standins/standins.env, read by every script and test that needs it.
BASE_IMAGE = load(PROJECT / "tests" / "standins" / "standins.env")["STANDIN_BASE"]
PLAYBOOK_VARS = PROJECT / "provisioning" / "vars" / "main.yml"
IMAGE_REPO = "docker-workshop-vm-standin"
LABEL = "org.docker-workshop.vm-standin"  # on everything made here, for cleanup

# systemd as PID 1 (--privileged fails on this machine), plus seccomp=unconfined: the
# VM's own Docker engine starts containers with runc, which needs the keyctl calls
# that Docker's default seccomp profile blocks ("unable to join session keyring").
SYSTEMD_FLAGS = [
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--cgroupns=host",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
    "--security-opt", "seccomp=unconfined",
]
# The playbook's offline mode: Debian's docker.io, docker-buildx and docker-compose instead
# of Docker's repository, and no image pulls (no registry answers here). As the Vagrantfile
# passes them for WORKSHOP_DOCKER_SOURCE=debian WORKSHOP_PULL_IMAGES=no: strings.
OFFLINE_VARS = {"workshop_docker_source": "debian", "workshop_pull_images": "no"}
# What ansible_local writes into the VM and runs (Vagrant 2.3's plugins/provisioners/ansible).
INVENTORY = "/tmp/vagrant-ansible/inventory/vagrant_ansible_local_inventory"
SHARED = "/mnt/host"  # where StandinVM(shares=...) mounts this machine's folders first
NOT_SYNCED = {".git", ".venv", ".vagrant", "__pycache__", ".pytest_cache", ".ruff_cache"}


# The engine the replay and the claims run on (use_debian_sid_engine): at least this.
SID_ENGINE = "28.5.2"


def version_tuple(version):
    """(28, 5, 2) from "28.5.2" (or "28.5.2+dfsg1"), for comparing versions."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


def playbook_var(name):
    """A value of provisioning/vars/main.yml, with its {{ references }} to other values of
    the file rendered, e.g. playbook_var("postgresql_config_dir") -> "/etc/postgresql/17/main".
    Values that need Ansible itself (lookups of .env) are not for here: read settings.S."""
    values = yaml.safe_load(PLAYBOOK_VARS.read_text())
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)

    def render(value):
        if not (isinstance(value, str) and "{{" in value):
            return value
        names = jinja2.meta.find_undeclared_variables(env.parse(value))
        return env.from_string(value).render({n: render(values[n]) for n in names}).strip()

    return render(values[name])


def image_exists(name):
    return docker("image", "inspect", name, check=False).returncode == 0


def vm_image():
    """The stand-in VM's image, built only when its inputs changed (cached by their hash)."""
    if not image_exists(BASE_IMAGE):
        raise RuntimeError(f"{BASE_IMAGE} is missing: run tests/standins/build.sh")
    digest = hashlib.sha256(docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE).stdout
                            .encode())
    for path in sorted(IMAGE_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(IMAGE_DIR).as_posix().encode() + path.read_bytes())
    image = f"{IMAGE_REPO}:{digest.hexdigest()[:16]}"
    if not image_exists(image):
        docker("build", "--build-arg", f"BASE={BASE_IMAGE}", "--label", LABEL, "-t", image,
               IMAGE_DIR, timeout=900)
        # Older builds are of no use any more (one still in use stays: rmi refuses).
        for old in docker("images", "-q", "--filter", f"reference={IMAGE_REPO}:*",
                          "--filter", f"before={image}").stdout.split():
            docker("rmi", old, check=False)
    return image


@dataclass
class PlaybookRun:
    returncode: int
    output: str
    seconds: float

    @property
    def recap(self):
        """The PLAY RECAP counters of the host, e.g. {"ok": 40, "changed": 0, "failed": 0}."""
        line = re.search(r"^default\s*:\s*(ok=.*)$", self.output, re.M)
        if not line:
            return {}
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.group(1))}

    def changed_tasks(self):
        """Names of the tasks that reported `changed` (for a readable assertion message)."""
        names, task = [], None
        for line in self.output.splitlines():
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:"):
                names.append(f"{task}: {line}")
        return names


class StandinVM:
    def __init__(self, image, shares=()):
        self.image = image
        # Folders of this machine that the VM sees at the same paths (the claims' engine:
        # tests/containers/conftest.py), bind-mounted once systemd has booted: Debian 13
        # mounts a tmpfs over /tmp at boot, which would hide them.
        self.shares = [str(path) for path in shares]
        suffix = uuid.uuid4().hex[:8]
        self.name = f"workshop-vm-{suffix}"
        self.network = f"workshop-vm-net-{suffix}"
        # The VM's disk for Docker's data and containerd's (its image store): volumes,
        # where the VM's engine can use overlayfs (not on the container's own overlay).
        self.volumes = {f"workshop-vm-docker-{suffix}": "/var/lib/docker",
                        f"workshop-vm-containerd-{suffix}": "/var/lib/containerd"}
        self.project_dir = S["VM_PROJECT_DIR"]
        self.runs = []  # every PlaybookRun, in order

    # -- life cycle -------------------------------------------------------------------
    def start(self, timeout=120):
        # Its own network: the host's docker0 has 172.17.0.0/16, which the VM's own
        # engine needs for its docker0 (172.17.0.1, where PostgreSQL listens).
        docker("network", "create", "--label", LABEL, self.network)
        mounts = []
        for volume, path in self.volumes.items():
            docker("volume", "create", "--label", LABEL, volume)
            mounts += ["-v", f"{volume}:{path}"]
        for path in self.shares:
            mounts += ["-v", f"{path}:{SHARED}{path}"]
        docker("run", "-d", "--name", self.name, "--hostname", "docker-workshop",
               "--label", LABEL, "--network", self.network, *SYSTEMD_FLAGS, *mounts,
               self.image)
        self.wait_for_boot(timeout)
        for path in self.shares:
            self.run(f"mkdir -p {path} && mount --bind {SHARED}{path} {path}")
        return self

    def reboot(self, timeout=120):
        """Restart the VM (the container): systemd shuts down cleanly (up to 2 minutes, as
        `vagrant halt` lets it), then boots it again, services and all."""
        docker("restart", "-t", "120", self.name)
        return self.wait_for_boot(timeout)

    def wait_for_boot(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:  # until systemd has started every unit (or gave up on some)
            result = self.run("systemctl is-system-running --wait", check=False, timeout=timeout)
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stand-in VM did not boot ({state} {result.stderr}):"
                                   f"\n{self.logs()}")
            time.sleep(0.5)

    def remove(self):
        docker("rm", "-f", "-v", self.name, check=False)
        for volume in self.volumes:
            docker("volume", "rm", "-f", volume, check=False)
        docker("network", "rm", self.network, check=False)

    def logs(self):
        return self.run("journalctl -b --no-pager | tail -n 60", check=False).stdout

    @property
    def ip(self):
        """The VM's address on its network (the private network of the real VM)."""
        return docker("inspect", "-f",
                      "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                      self.name).stdout.strip()

    # -- running commands -----------------------------------------------------------
    def run(self, command, user="root", workdir=None, check=True, timeout=600, input=None):
        """Run a shell command in the VM in a login shell (as `vagrant ssh -c` does)."""
        args = ["exec", *(["-i"] if input is not None else []), "-u", user]
        if workdir:
            args += ["-w", workdir]
        result = docker(*args, self.name, "bash", "-lc", command, check=False,
                        timeout=timeout, input=input)
        if check and result.returncode:
            raise AssertionError(f"`{command}` as {user} in the VM exited "
                                 f"{result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def learner(self, command, **kwargs):
        """Run a command as the learner does after `vagrant ssh` and `cd docker-workshop`."""
        return self.run(command, user="vagrant", workdir=self.project_dir, **kwargs)

    def host(self, user=None):
        """A testinfra host for this VM (its docker backend)."""
        import testinfra

        return testinfra.get_host(f"docker://{user + '@' if user else ''}{self.name}")

    # -- what Vagrant does at `vagrant up` ------------------------------------------
    def copy_project(self, source=PROJECT):
        """Copy the project into VM_PROJECT_DIR, owned by vagrant, as the synced folder."""
        excludes = [f"--exclude=./{name}" for name in sorted(NOT_SYNCED)]
        excludes += ["--exclude=__pycache__", "--exclude=*.pyc"]
        tar = subprocess.run(["tar", "-C", source, *excludes, "-cf", "-", "."],
                             check=True, capture_output=True)
        self.run(f"mkdir -p {self.project_dir}", user="vagrant")
        subprocess.run(["docker", "exec", "-i", "-u", "vagrant", self.name,
                        "tar", "-C", self.project_dir, "-xf", "-"],
                       input=tar.stdout, check=True, capture_output=True)

    def install_ansible(self):
        """Ansible as the Vagrantfile installs it: its shell provisioner runs
        provisioning/install-ansible.sh as root, before ansible_local."""
        self.run(f"sh {self.project_dir}/provisioning/install-ansible.sh", timeout=900)

    def provision(self, extra_vars=None, timeout=1500):
        """Run the playbook as ansible_local does: as vagrant, from the project folder."""
        extra_vars = OFFLINE_VARS if extra_vars is None else extra_vars
        self.run(f"mkdir -p {INVENTORY.rsplit('/', 1)[0]} && "
                 f"echo 'default ansible_connection=local' > {INVENTORY}", user="vagrant")
        command = ("PYTHONUNBUFFERED=1 ansible-playbook --limit=default "
                   f"--inventory-file={INVENTORY} "
                   f"--extra-vars='{json.dumps(extra_vars)}' provisioning/playbook.yml")
        start = time.monotonic()
        result = self.learner(command, check=False, timeout=timeout)
        run = PlaybookRun(result.returncode, result.stdout + result.stderr,
                          time.monotonic() - start)
        self.runs.append(run)
        return run

    # -- TEST ONLY: a newer engine than the playbook installs ------------------------
    def use_debian_sid_engine(self):
        """Replace the VM's Docker (Debian 13's docker.io, the playbook's offline variant)
        with Debian sid's docker.io, docker-buildx and docker-compose: the newest engine
        this machine can reach (28.5.2 in November 2026), for the replay. Learners never
        get this: their VMs take Docker's own packages (provisioning/vars/main.yml).
        Only those packages (and what they need) come from sid, pinned low otherwise.
        sid's Release file is valid for a week only, and a mirror may be a dated snapshot:
        its date is not checked (its signature is)."""
        self.run(
            f". {self.project_dir}/tests/apt-mirror.sh && mirror=$(apt_mirror) && "
            "printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            "Check-Valid-Until: no\n' \"$mirror\" "
            "> /etc/apt/sources.list.d/sid-test-only.sources && "
            "printf 'Package: *\nPin: release n=sid\nPin-Priority: 100\n' "
            "> /etc/apt/preferences.d/sid-test-only.pref && "
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            "-o Dpkg::Options::=--force-confold "
            "docker.io/sid docker-cli/sid docker-buildx/sid docker-compose/sid "
            "containerd/sid runc/sid", timeout=900)
        self.run("systemctl restart docker && docker info > /dev/null")
        version = self.run("docker version --format '{{.Server.Version}}'").stdout.strip()
        if version_tuple(version) < version_tuple(SID_ENGINE):
            raise AssertionError(f"Debian sid's docker.io is {version}, older than "
                                 f"{SID_ENGINE}: the proofs would run on an older engine")
        return version

    # -- for the exercises ----------------------------------------------------------
    def load_images(self, *names):
        """Copy images from this machine's engine into the VM's engine (no registry here)."""
        for name in names:
            save = subprocess.Popen(["docker", "save", name], stdout=subprocess.PIPE)
            load = subprocess.run(["docker", "exec", "-i", self.name, "docker", "load"],
                                  stdin=save.stdout, capture_output=True, text=True)
            save.stdout.close()
            if save.wait() or load.returncode:
                raise RuntimeError(f"could not load {name} into the VM: {load.stderr}")

    def snapshot(self):
        """Commit the VM's disk (not its Docker volume) to an image; returns its name."""
        image = f"{IMAGE_REPO}-snapshot:{uuid.uuid4().hex[:8]}"
        self.run("apt-get clean")  # downloaded .debs: 300 MB less to commit and boot from
        docker("commit", "-c", "LABEL " + LABEL + "=snapshot", self.name, image)
        return image


@contextlib.contextmanager
def booted_vm(image=None, shares=()):
    """A running stand-in VM, removed on exit even when the test fails."""
    vm = StandinVM(image or vm_image(), shares)
    try:
        yield vm.start()
    finally:
        vm.remove()


def provisioned(vm):
    """Do what `vagrant up` does to a booted VM: sync the folder, install Ansible, provision."""
    vm.copy_project()
    vm.install_ansible()
    return vm.provision()


@pytest.fixture(scope="session")
def standin_vm():
    """One VM, provisioned once (its first PlaybookRun is `standin_vm.runs[0]`)."""
    if docker("info", check=False).returncode:
        pytest.skip("no Docker engine answers (tests/run starts one: tests/engine.sh)")
    if not image_exists(BASE_IMAGE):
        pytest.skip(f"{BASE_IMAGE} is missing (tests/run builds it: tests/standins/build.sh)")
    with booted_vm() as vm:
        run = provisioned(vm)
        if run.returncode:
            pytest.fail(f"the first provisioning run failed:\n{run.output[-6000:]}")
        yield vm


class VMFactory:
    def __init__(self, source):
        self.source = source
        self.snapshot = None

    @contextlib.contextmanager
    def fresh(self, shares=()):
        """A new VM booted from the provisioned VM's disk; removed on exit."""
        if self.snapshot is None:
            self.snapshot = self.source.snapshot()
        with booted_vm(self.snapshot, shares) as vm:
            yield vm


@pytest.fixture(scope="session")
def vm_factory(standin_vm):
    factory = VMFactory(standin_vm)
    yield factory
    if factory.snapshot:
        docker("rmi", "-f", factory.snapshot, check=False)
