"""The real VM: the project's own Vagrantfile, driven by the real `vagrant up
--provider=libvirt`, on a Debian box built here (tests/realvm/box.sh), under qemu.

    vm = RealVM(box).create()            # a copy of the project, nothing in the clone
    run = vm.up()                        # -> Run (output, seconds, recap of the playbook)
    vm.vagrant("ssh", "-c", "workshop status")
    vm.ssh("docker info")                # plain ssh with `vagrant ssh-config`: faster
    vm.destroy()                         # `vagrant destroy -f`, the copy removed

Everything the tests give Vagrant that a learner's laptop does not have comes from the
environment (WORKSHOP_BOX, the offline settings) and from the tests' own VAGRANT_HOME
(its Vagrantfile names the VM and its network for cleanup), never from the project's
Vagrantfile. The VM is named PREFIX + a random suffix; its management network MANAGEMENT_NETWORK.
"""

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from settings import PROJECT

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("REALVM_CACHE", "/var/cache/docker-workshop/realvm"))
VAGRANT_HOME = CACHE / "vagrant-home"
LOGS = CACHE / "logs"  # every vagrant command's output, timed: <VM name>-<command>.log
PREFIX = "docker-workshop-realvm-"
MANAGEMENT_NETWORK = "docker-workshop-realvm"
LIBVIRT = ["virsh", "-c", "qemu:///system"]
# The offline provisioning settings (the Vagrantfile reads them from the environment):
# no registry and no Docker repository answer here.
OFFLINE = {"WORKSHOP_DOCKER_SOURCE": "debian", "WORKSHOP_PULL_IMAGES": "no"}
# Not copied (a learner's clone has none of them but .git, which the VM does not need).
NOT_COPIED = [".git", ".venv", ".vagrant", "__pycache__", ".pytest_cache", ".ruff_cache",
              ".hypothesis", "*.pyc"]
# Vagrant with the tests' own home (boxes, the Vagrantfile below), never the user's.
HOME_ENV = {**os.environ, "VAGRANT_HOME": str(VAGRANT_HOME), "VAGRANT_CHECKPOINT_DISABLE": "1"}
MANAGEMENT_SUBNET = "192.168.121.0/24"  # vagrant-libvirt's default, named here
# The tests' VAGRANT_HOME Vagrantfile: loaded before the project's, test settings only.
HOME_VAGRANTFILE = f"""\
# The real-VM tests' own settings (tests/realvm/vagrant_vm.py writes it): names
# that say what to clean up. Learners' Vagrant has none of this.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.default_prefix = ENV.fetch("REALVM_PREFIX", "{PREFIX}")
    lv.management_network_name = "{MANAGEMENT_NETWORK}"
    lv.management_network_address = "{MANAGEMENT_SUBNET}"
  end
  # A box packaged here (the venue kit) has vagrant-libvirt's own Vagrantfile (KVM):
  # boot it as the test box boots (tests/realvm/box.sh), with the same kernel.
  if ENV["REALVM_KERNEL_DIR"]
    config.vm.provider :libvirt do |lv|
      lv.driver = "qemu"
      lv.cpu_mode = "custom"
      lv.cpu_model = "qemu64"
      lv.kernel = File.join(ENV["REALVM_KERNEL_DIR"], "vmlinuz")
      lv.initrd = File.join(ENV["REALVM_KERNEL_DIR"], "initrd.img")
      lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    end
  end
end
"""
# Vagrant's lines not worth a progress line: the domain's settings, the box's version.
QUIET = re.compile(r"^==> \w+:  -- |No version detected|local metadata|boxes/format")
PROGRESS = re.compile(r"\x1b\[K|Progress: \d+%[^\n\r]*")


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float

    @property
    def recaps(self):
        """The PLAY RECAP counters of every playbook run in the output, in order."""
        return [{key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
                for line in re.findall(r"^\s*default\s*:\s*(ok=.*)$", self.output, re.M)]

    @property
    def recap(self):
        return self.recaps[-1] if self.recaps else {}

    def changed_tasks(self):
        """The tasks that reported `changed` (for a readable assertion message)."""
        names, task = [], None
        for line in self.output.splitlines():
            line = line.strip()
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:"):
                names.append(f"{task}: {line}")
        return names


def libvirt_answers():
    return subprocess.run([*LIBVIRT, "version"], capture_output=True, timeout=30).returncode == 0


def build_box(say=print):
    """Build (or find cached) the test box; its name. box.sh's progress goes to `say`."""
    process = subprocess.Popen(["bash", str(HERE / "box.sh")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        line = PROGRESS.sub("", line).rstrip()
        if line:
            lines.append(line)
            if line.startswith(("box:", "==> box")):
                say(line)
    if process.wait():
        raise RuntimeError("tests/realvm/box.sh failed:\n" + "\n".join(lines[-30:]))
    return lines[-1]


class RealVM:
    def __init__(self, box, env=OFFLINE):
        self.box = box
        self.prefix = f"{PREFIX}{uuid.uuid4().hex[:6]}-"
        self.env = {**HOME_ENV, **env, "WORKSHOP_BOX": box, "REALVM_PREFIX": self.prefix,
                    "VAGRANT_DEFAULT_PROVIDER": "libvirt", "VAGRANT_NO_COLOR": "1",
                    # `vagrant package` runs virt-sysprep: TCG, as the VMs (KVM here
                    # cannot boot libguestfs' stock kernel).
                    "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg"}
        self.workdir = None
        self.ssh_config = None

    @property
    def project(self):
        # vagrant-libvirt names the private network after this folder: docker-workshop-realvm0
        return self.workdir / "docker-workshop-realvm"

    # -- life cycle -------------------------------------------------------------------
    def create(self):
        """A copy of the project to run Vagrant in: .vagrant/ and all land there."""
        VAGRANT_HOME.mkdir(parents=True, exist_ok=True)
        (VAGRANT_HOME / "Vagrantfile").write_text(HOME_VAGRANTFILE)
        self.workdir = Path(tempfile.mkdtemp(prefix="docker-workshop-realvm-", dir="/var/tmp"))
        self.workdir.chmod(0o755)
        self.project.mkdir()
        excludes = [f"--exclude={name}" for name in NOT_COPIED]
        tar = subprocess.run(["tar", "-C", PROJECT, *excludes, "-cf", "-", "."],
                             check=True, capture_output=True)
        subprocess.run(["tar", "-C", self.project, "-xf", "-"], input=tar.stdout, check=True)
        return self

    def vagrant(self, *args, **options):
        """Run `vagrant ARGS` in the project's copy; a Run. Lines go to `say` as they come."""
        return self.command(["vagrant", *args], **options)

    def command(self, argv, timeout=600, say=None, check=False, env=None):
        """Run a command (vagrant, or a script that runs it) in the project's copy, with
        the VM's environment (and `env` over it); a Run, its output logged and timed."""
        label = argv[1] if argv[0] == "vagrant" else Path(argv[1]).stem  # the log's name
        started = time.monotonic()
        process = subprocess.Popen(argv, cwd=self.project, env={**self.env, **(env or {})},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        lines = []
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{self.prefix}{label}.log", "a")  # noqa: SIM115
        try:
            deadline = started + timeout
            for line in process.stdout:
                line = PROGRESS.sub("", line).rstrip("\n")
                if not line.strip() and lines and not lines[-1].strip():
                    continue  # what is left of a progress bar
                lines.append(line)
                log.write(f"[{time.monotonic() - started:7.1f}s] {line}\n")
                log.flush()
                if say and line.startswith(("==> ", "kit: ")) and not QUIET.search(line):
                    say(line)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"`{' '.join(argv)}` took over {timeout} s")
            process.wait(timeout=max(1, deadline - time.monotonic()))
        except (TimeoutError, subprocess.TimeoutExpired):
            os.killpg(process.pid, 15)
            process.wait()
            raise TimeoutError(f"`{' '.join(argv)}` took over {timeout} s (log: "
                               f"{log.name}):\n" + "\n".join(lines[-40:])) from None
        finally:
            log.close()
        run = Run(process.returncode, "\n".join(lines), time.monotonic() - started)
        if check and run.returncode:
            raise AssertionError(f"`{' '.join(argv)}` exited {run.returncode}:\n"
                                 + run.output[-6000:])
        return run

    def up(self, say=None, timeout=3600):
        return self.vagrant("up", "--provider=libvirt", timeout=timeout, say=say)

    def destroy(self):
        """`vagrant destroy -f`, then whatever it left of this VM in libvirt; the copy."""
        if self.workdir is None:
            return
        try:
            self.vagrant("destroy", "-f", timeout=300)
        finally:
            leftovers(self.prefix)
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # -- in the VM ----------------------------------------------------------------------
    def ssh_argv(self):
        """ssh to the VM with the settings `vagrant ssh-config` prints (no Ruby start-up)."""
        if self.ssh_config is None:
            config = self.vagrant("ssh-config", timeout=120, check=True).output
            self.ssh_config = self.workdir / "ssh_config"
            self.ssh_config.write_text(config)
        return ["ssh", "-F", str(self.ssh_config), "-o", "LogLevel=ERROR",
                "-o", "ServerAliveInterval=15", "default"]

    def ssh(self, command, check=True, timeout=600, input=None):
        """Run a command in the VM as vagrant, in a login shell (as `vagrant ssh -c`)."""
        result = subprocess.run([*self.ssh_argv(), "bash -lc " + shlex.quote(command)],
                                capture_output=True, text=input is None or isinstance(input, str),
                                timeout=timeout, input=input)
        if check and result.returncode:
            raise AssertionError(f"`{command}` in the VM exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def load_images(self, *names):
        """Copy images from this machine's engine into the VM's (no registry answers here),
        in one `docker save`: the layers they share travel once."""
        save = subprocess.Popen(["docker", "save", *names], stdout=subprocess.PIPE)
        load = subprocess.run([*self.ssh_argv(), "docker load"], stdin=save.stdout,
                              capture_output=True, text=True, timeout=1200)
        save.stdout.close()
        if save.wait() or load.returncode:
            raise RuntimeError(f"could not load {names} into the VM: {load.stderr}")

    def install_deb(self, path):
        """`dpkg -i` a Debian package from this machine in the VM."""
        with open(path, "rb") as package:
            self.ssh("cat > /tmp/test-only.deb && sudo dpkg -i /tmp/test-only.deb "
                     "&& rm /tmp/test-only.deb", input=package.read(), timeout=600)


def add_box(path, name):
    """`vagrant box add --name NAME PATH` in the tests' VAGRANT_HOME (as the README says)."""
    started = time.monotonic()
    subprocess.run(["vagrant", "box", "add", "--force", "--name", name, str(path)], env=HOME_ENV,
                   check=True, capture_output=True, timeout=1200)
    return time.monotonic() - started


def remove_box(name):
    """The box, from the tests' VAGRANT_HOME and from libvirt's pool (vagrant-libvirt's copy
    of its image, named after the box)."""
    subprocess.run(["vagrant", "box", "remove", "--force", "--all", name], env=HOME_ENV,
                   capture_output=True, timeout=300)
    for volume in volumes("default"):
        if volume.startswith(name.replace("/", "-VAGRANTSLASH-") + "_vagrant_box_image_"):
            subprocess.run([*LIBVIRT, "vol-delete", volume, "--pool", "default"],
                           capture_output=True)


def kernel_dir(box):
    """Where box.sh keeps the test box's kernel and initrd (the box's name ends in its key)."""
    release, key = box.rsplit("/debian-", 1)[1].split("-", 1)
    return CACHE / f"box-{release}-{key}"


OFFLINE_COMMENT = "docker-workshop-realvm offline"  # on the rules offline() adds


@contextlib.contextmanager
def offline(*subnets):
    """No route out for the VMs' networks: what they send beyond this machine is rejected
    (iptables, first in FORWARD). This machine itself (ssh, DNS, the forwarded port) still
    answers them."""
    rules = [["FORWARD", "-s", subnet, "-m", "comment", "--comment", OFFLINE_COMMENT,
              "-j", "REJECT"] for subnet in subnets]
    for rule in rules:
        subprocess.run(["iptables", "-I", rule[0], "1", *rule[1:]], check=True)
    try:
        yield
    finally:
        for rule in rules:
            subprocess.run(["iptables", "-D", *rule], capture_output=True)


def stale_offline_rules():
    """Delete the rules `offline` left behind (a run killed while the kit's VM ran): with
    them, the next VM reaches no mirror, and its `vagrant up` fails on an apt error that
    does not name them. The rules deleted, as `iptables -S` shows them."""
    listed = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True)
    stale = [line for line in listed.stdout.splitlines() if OFFLINE_COMMENT in line]
    for line in stale:  # "-A FORWARD -s ... -j REJECT ...": delete that very rule
        subprocess.run(["iptables", "-D", *shlex.split(line)[1:]], check=True)
    return stale


def stale_forwards():
    """Kill the ssh processes that forward ports (vagrant-libvirt's forwarded ports) for a
    test VM that no longer runs (a run killed before `vagrant destroy`, a REALVM_KEEP VM
    removed by hand): such a process keeps 127.0.0.1:WEB_PORT, and the next VM's forward
    cannot bind it. A test VM's forward names its project copy, or for a VM booted from
    the kit, the tests' VAGRANT_HOME (the box's key). Their pids."""
    alive = running_addresses()
    killed = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = [arg.decode(errors="replace")
                    for arg in (proc / "cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        if not args or Path(args[0]).name != "ssh" or "-L" not in args[:-1]:
            continue
        line = " ".join(args)
        if "/var/tmp/docker-workshop-realvm-" not in line and str(VAGRANT_HOME) not in line:
            continue
        # -L HOST_IP:HOST_PORT:GUEST_IP:GUEST_PORT
        forward = args[args.index("-L") + 1].split(":")
        if len(forward) == 4 and forward[2] not in alive:
            os.kill(int(proc.name), 15)
            killed.append(int(proc.name))
    return killed


def running_addresses(prefix=PREFIX):
    """The IPv4 addresses of the running test VMs (from libvirt's DHCP leases)."""
    names = subprocess.run([*LIBVIRT, "list", "--state-running", "--name"],
                           capture_output=True, text=True).stdout.split()
    addresses = set()
    for name in names:
        if name.startswith(prefix):
            leases = subprocess.run([*LIBVIRT, "domifaddr", name, "--source", "lease"],
                                    capture_output=True, text=True).stdout
            addresses.update(re.findall(r"ipv4\s+([0-9.]+)/", leases))
    return addresses


def domains(prefix=PREFIX):
    names = subprocess.run([*LIBVIRT, "list", "--all", "--name"], capture_output=True,
                           text=True).stdout.split()
    return [name for name in names if name.startswith(prefix)]


def leftovers(prefix=PREFIX):
    """Remove what VMs named `prefix`* left in libvirt (a failed `vagrant up` or destroy):
    domains and volumes (with PREFIX: the box's volume too). The names removed."""
    removed = []
    for name in domains(prefix):
        subprocess.run([*LIBVIRT, "destroy", name], capture_output=True)
        subprocess.run([*LIBVIRT, "undefine", name, "--remove-all-storage", "--nvram"],
                       capture_output=True)
        removed.append(name)
    for volume in volumes("default"):
        if volume.startswith(prefix):
            subprocess.run([*LIBVIRT, "vol-delete", volume, "--pool", "default"],
                           capture_output=True)
            removed.append(volume)
    return removed


def volumes(pool):
    """The names of the volumes in a storage pool (vol-list has no --name)."""
    listing = subprocess.run([*LIBVIRT, "vol-list", pool], capture_output=True, text=True)
    lines = listing.stdout.splitlines()[2:]  # under the header and its dashes
    return [line.split()[0] for line in lines if line.strip()]


def remove_networks():
    """The libvirt networks the VMs used (management and private): once no VM of the tests
    is left. vagrant-libvirt keeps a network it did not create, and the management one."""
    if domains():
        return []
    removed = []
    for name in networks():
        subprocess.run([*LIBVIRT, "net-destroy", name], capture_output=True)
        subprocess.run([*LIBVIRT, "net-undefine", name], capture_output=True)
        removed.append(name)
    return removed


def networks():
    """The libvirt networks the tests' VMs use: the management network (named here) and the
    private network vagrant-libvirt makes for VM_IP."""
    from settings import S

    names = subprocess.run([*LIBVIRT, "net-list", "--all", "--name"], capture_output=True,
                           text=True).stdout.split()
    found = []
    subnet = S["VM_IP"].rsplit(".", 1)[0] + "."
    for name in names:
        xml = subprocess.run([*LIBVIRT, "net-dumpxml", name], capture_output=True,
                             text=True).stdout
        if name == MANAGEMENT_NETWORK or f"address='{subnet}" in xml:
            found.append(name)
    return found


def pools():
    return subprocess.run([*LIBVIRT, "pool-list", "--all", "--name"], capture_output=True,
                          text=True).stdout.split()


def remove_pools(keep):
    """The storage pools vagrant-libvirt defined during the tests (not those in `keep`),
    once no volume is left in them."""
    removed = []
    for name in pools():
        if name in keep:
            continue
        if not volumes(name):
            subprocess.run([*LIBVIRT, "pool-destroy", name], capture_output=True)
            subprocess.run([*LIBVIRT, "pool-undefine", name], capture_output=True)
            removed.append(f"pool {name}")
    return removed
