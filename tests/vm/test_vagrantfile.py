"""`vagrant validate` on the Vagrantfile, with Debian's vagrant (2.3.4).

VirtualBox cannot run here: Vagrant's VirtualBox provider is given a stand-in
VBoxManage that only reports a version, so that the provider block is validated too
(`--ignore-provider` would skip it). Everything else is the real Vagrant.
"""

import json
import os
import platform
import re
import shutil
import socket
import subprocess

import pytest

from settings import PROJECT, S

pytestmark = pytest.mark.vm
PREFLIGHT = PROJECT / "provisioning" / "preflight.rb"  # the Vagrantfile loads it

FAKE_VBOXMANAGE = """#!/bin/sh
# Stands in for VirtualBox's VBoxManage: it reports a version and a VM's state, and fails
# at anything else.
case "$1" in
    --version) echo {version} ;;
    showvminfo) echo 'VMState="{state}"' ;;
    *) exit 1 ;;
esac
"""
# A VirtualBox that Debian's Vagrant (2.3.4) runs.
VIRTUALBOX_OK = "7.0.20r163906"


@pytest.fixture
def vagrant_dir(tmp_path):
    """A copy of the Vagrantfile, .env and the script it runs: Vagrant's state stays out
    of the project."""
    if not shutil.which("vagrant"):
        pytest.skip("vagrant is not installed (tests/run installs Debian's vagrant)")
    (tmp_path / "provisioning").mkdir()
    for name in ("Vagrantfile", ".env", "provisioning/install-ansible.sh",
                 "provisioning/preflight.rb"):
        shutil.copy(PROJECT / name, tmp_path / name)
    return tmp_path


def fake_program(directory, name, text):
    """A stand-in program on the PATH `vagrant` gets (see vagrant())."""
    bin_dir = directory / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / name).write_text(text)
    (bin_dir / name).chmod(0o755)


def vagrant(directory, *args, provider="virtualbox", env=None, virtualbox=VIRTUALBOX_OK,
            vm_state="poweroff"):
    """Debian's vagrant, with a VBoxManage that reports `virtualbox` (None: no VBoxManage),
    and `vm_state` for a VM created before. Vagrant Cloud is a closed port on loopback: a
    box is never downloaded."""
    fake_program(directory, "VBoxManage",
                 FAKE_VBOXMANAGE.format(version=virtualbox, state=vm_state))
    if virtualbox is None:
        (directory / "fake-bin" / "VBoxManage").unlink()
    env = {**os.environ, "PATH": f"{directory / 'fake-bin'}:{os.environ['PATH']}",
           "VAGRANT_DEFAULT_PROVIDER": provider, "VAGRANT_HOME": str(directory / "home"),
           "VAGRANT_CHECKPOINT_DISABLE": "1", "VAGRANT_SERVER_URL": "http://127.0.0.1:9",
           **(env or {})}
    return subprocess.run(["vagrant", *args], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=120)


def validate(directory, provider="virtualbox", env=None, virtualbox=VIRTUALBOX_OK):
    return vagrant(directory, "validate", provider=provider, env=env, virtualbox=virtualbox)


@pytest.mark.parametrize("provider", ["virtualbox", "libvirt"])
def test_vagrantfile_validates(vagrant_dir, provider):
    if provider == "libvirt":
        plugins = subprocess.run(["vagrant", "plugin", "list"], capture_output=True, text=True)
        if "vagrant-libvirt" not in plugins.stdout:
            pytest.skip("the vagrant-libvirt plugin is missing (Debian: vagrant-libvirt)")
    result = validate(vagrant_dir, provider)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


@pytest.mark.parametrize("typo, error", [
    # A misspelt setting, in the machine's config and in a provider's block.
    ('config.vm.hostname = "docker-workshop"', "hostnam"),
    ("vb.memory = 2048", "memroy"),
    # Broken Ruby.
    ('config.vm.box = BOX\n', "syntax"),
])
def test_a_typo_fails_validation(vagrant_dir, typo, error):
    vagrantfile = vagrant_dir / "Vagrantfile"
    text = vagrantfile.read_text()
    assert typo in text
    broken = {"hostnam": 'config.vm.hostnam = "docker-workshop"',
              "memroy": "vb.memroy = 2048",
              "syntax": "config.vm.box = BOX do\n"}[error]
    vagrantfile.write_text(text.replace(typo, broken, 1))
    result = validate(vagrant_dir)
    assert result.returncode != 0
    assert error in (result.stdout + result.stderr).lower()


def test_names_come_from_env():
    """The address, port and folder live in .env only (the single source)."""
    text = (PROJECT / "Vagrantfile").read_text()
    for key in ("VM_IP", "WEB_PORT", "VM_PROJECT_DIR"):
        assert S[key] not in text, f"{key}'s value is copied into the Vagrantfile"
        assert f'"{key}"' in text, f"the Vagrantfile does not read {key} from .env"


def test_env_values_reach_vagrant(vagrant_dir):
    """A .env without VM_IP is an error: the Vagrantfile really reads the file."""
    env_file = vagrant_dir / ".env"
    env_file.write_text("".join(line for line in env_file.read_text().splitlines(True)
                                if not line.startswith("VM_IP=")))
    result = validate(vagrant_dir)
    assert result.returncode != 0
    assert "VM_IP" in result.stdout + result.stderr


@pytest.mark.parametrize("variable, value", [
    ("WORKSHOP_PULL_IMAGES", "no"), ("WORKSHOP_PULL_IMAGES", "yes"),
    ("WORKSHOP_DOCKER_SOURCE", "debian"), ("WORKSHOP_DOCKER_SOURCE", "docker"),
    ("WORKSHOP_KIT", "yes"), ("WORKSHOP_KIT", "no"),
    ("WORKSHOP_HOST_PORT", "8081"),
])
def test_learner_settings_from_the_environment(vagrant_dir, variable, value):
    result = validate(vagrant_dir, env={variable: value})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variable, value, says", [
    ("WORKSHOP_PULL_IMAGES", "nope", 'WORKSHOP_PULL_IMAGES must be yes'),
    ("WORKSHOP_DOCKER_SOURCE", "ubuntu", 'WORKSHOP_DOCKER_SOURCE must be docker'),
    ("WORKSHOP_KIT", "true!", 'WORKSHOP_KIT must be yes'),
    ("WORKSHOP_HOST_PORT", "80 80", 'WORKSHOP_HOST_PORT must be a port number'),
    ("WORKSHOP_HOST_PORT", "70000", 'WORKSHOP_HOST_PORT must be a port number'),
])
def test_a_wrong_learner_setting_stops_vagrant_with_its_name(vagrant_dir, variable, value,
                                                              says):
    """A typo in WORKSHOP_* stops `vagrant up` before anything boots, naming it."""
    result = validate(vagrant_dir, env={variable: value})
    assert result.returncode != 0
    assert says in result.stdout + result.stderr
    assert f'not "{value}"' in result.stdout + result.stderr


# The preflight: what stops a learner's first `vagrant up`, said before anything boots.

@pytest.mark.parametrize("virtualbox, needed", [
    ("7.1.4r165100", "2.4.2"),   # hashicorp/vagrant GH-13513
    ("7.2.4r170995", "2.4.9"),   # hashicorp/vagrant GH-13709
])
def test_a_virtualbox_too_new_for_this_vagrant_is_named_with_what_to_install(
        vagrant_dir, virtualbox, needed):
    result = validate(vagrant_dir, virtualbox=virtualbox)
    assert result.returncode != 0
    found = virtualbox.split("r")[0]
    have = subprocess.run(["vagrant", "--version"], capture_output=True,
                          text=True).stdout.split()[-1]
    assert (f"VirtualBox {found} needs Vagrant {needed} or newer, and this is Vagrant {have}. "
            f"Install Vagrant {needed} or newer") in result.stderr, result.stderr
    # Debian's Vagrant 2.3.4 runs VirtualBox 7.0 at most.
    assert "or VirtualBox 7.0 (the newest this Vagrant runs)" in result.stderr


@pytest.mark.parametrize("provider, virtualbox", [
    ("libvirt", "7.2.4r170995"),   # VirtualBox installed, but not the provider used
    ("virtualbox", None),          # no VBoxManage: nothing to compare
])
def test_the_virtualbox_check_only_judges_a_virtualbox_in_use(vagrant_dir, provider,
                                                              virtualbox):
    result = validate(vagrant_dir, provider=provider, virtualbox=virtualbox)
    assert "needs Vagrant" not in result.stdout + result.stderr


def test_commands_that_never_touch_the_vm_are_not_stopped(vagrant_dir):
    """`vagrant global-status` loads the Vagrantfile too, but needs no VirtualBox."""
    result = vagrant(vagrant_dir, "global-status", virtualbox="7.2.4r170995")
    assert result.returncode == 0, result.stderr
    assert "cannot start yet" not in result.stderr


def test_provider_on_the_command_line_wins(vagrant_dir):
    """`vagrant up --provider=libvirt` skips the VirtualBox check, whatever the default."""
    held = hold_a_port()
    with held:
        result = vagrant(vagrant_dir, "up", "--provider=libvirt", virtualbox="7.2.4r170995",
                         env={"WORKSHOP_HOST_PORT": str(held.getsockname()[1])})
    assert "needs Vagrant" not in result.stderr
    assert "is taken by another program" in result.stderr   # the preflight did run


def hold_a_port():
    """A socket listening on a free loopback port, as Jenkins would hold 8080."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_taken_laptop_port_stops_vagrant_up_with_the_setting_in_every_shell(vagrant_dir):
    with hold_a_port() as held:
        port = held.getsockname()[1]
        result = vagrant(vagrant_dir, "up", env={"WORKSHOP_HOST_PORT": str(port)})
    assert result.returncode != 0
    said = result.stderr
    assert f"Port {port} on this computer is taken by another program" in said, said
    assert f"inside the VM the server keeps port {S['WEB_PORT']}" in said
    other = re.search(r"WORKSHOP_HOST_PORT=(\d+) vagrant up", said)
    assert other and int(other[1]) != port, said
    for shell in (f"WORKSHOP_HOST_PORT={other[1]} vagrant up",
                  f'$env:WORKSHOP_HOST_PORT="{other[1]}"; vagrant up',
                  f"set WORKSHOP_HOST_PORT={other[1]}   then   vagrant up"):
        assert shell in said
    assert "Bringing machine" not in result.stdout   # stopped before anything started


def test_a_free_laptop_port_passes_the_preflight(vagrant_dir):
    """Nothing wrong: `vagrant up` goes on to the provider (which the stand-in
    VBoxManage then fails, with no box downloaded)."""
    result = vagrant(vagrant_dir, "up", env={"WORKSHOP_HOST_PORT": str(free_port()),
                                             "WORKSHOP_BOX": "preflight/no-such-box"})
    assert "cannot start yet" not in result.stderr, result.stderr
    assert "Bringing machine 'default' up with 'virtualbox' provider" in result.stdout


@pytest.mark.parametrize("dotfiles", [".vagrant", "elsewhere"])
@pytest.mark.parametrize("vm_state, checked", [("running", False), ("poweroff", True)])
def test_the_port_is_not_checked_while_our_own_vm_holds_it(vagrant_dir, vm_state, checked,
                                                            dotfiles):
    """A VM created before (its id in .vagrant/, or in VAGRANT_DOTFILE_PATH): while it runs,
    its own forward holds the port, and `vagrant up` or `vagrant reload` must not call that
    taken."""
    machine = vagrant_dir / dotfiles / "machines" / "default" / "virtualbox"
    machine.mkdir(parents=True)
    (machine / "id").write_text("0a1b2c3d-stand-in\n")
    env = {} if dotfiles == ".vagrant" else {"VAGRANT_DOTFILE_PATH": dotfiles}
    with hold_a_port() as held:
        result = vagrant(vagrant_dir, "reload", vm_state=vm_state,
                         env={**env, "WORKSHOP_HOST_PORT": str(held.getsockname()[1])})
    assert ("is taken by another program" in result.stderr) == checked, result.stderr


def test_the_port_is_only_checked_for_up_and_reload(vagrant_dir):
    with hold_a_port() as held:
        result = validate(vagrant_dir, env={"WORKSHOP_HOST_PORT": str(held.getsockname()[1])})
    assert result.returncode == 0, result.stderr


DF_OUTPUT = """#!/bin/sh
echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
echo "/dev/stand-in 209715200 208666624 {kib} 99% /"
"""


@pytest.mark.parametrize("free_gib, stops", [(1, True), (50, False)])
def test_too_little_free_disk_stops_the_first_vagrant_up(vagrant_dir, free_gib, stops):
    """A stand-in df reports the free space; the rest of the preflight passes."""
    fake_program(vagrant_dir, "df", DF_OUTPUT.format(kib=free_gib * 2**20))
    result = vagrant(vagrant_dir, "up", env={"WORKSHOP_HOST_PORT": str(free_port()),
                                             "WORKSHOP_BOX": "preflight/no-such-box"})
    said = f"Only {free_gib:.1f} GiB of disk are free"
    assert (said in result.stderr) == stops, result.stderr
    assert ("Bringing machine" in result.stdout) != stops


@pytest.mark.parametrize("kit_arch, stops", [
    ("amd64", "arm64"), ("arm64", "amd64"),
])
def test_a_kit_of_the_other_processor_type_is_refused(vagrant_dir, kit_arch, stops):
    host = "arm64" if platform.machine() in ("aarch64", "arm64") else "amd64"
    result = validate(vagrant_dir, env={"WORKSHOP_BOX": f"docker-workshop-{kit_arch}"})
    if kit_arch == host:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode != 0
    assert (f"The venue kit docker-workshop-{kit_arch} was built for {kit_arch} processors, "
            f"and this computer has an {host} one") in result.stderr, result.stderr
    assert f"--name docker-workshop-{host} docker-workshop-<date>-{host}.box" in result.stderr
    assert f'$env:WORKSHOP_BOX="docker-workshop-{host}"; vagrant up' in result.stderr


FAKE_POWERSHELL = """#!/bin/sh
# Stands in for Windows PowerShell, asked whether Windows runs its hypervisor.
case "$*" in *HypervisorPresent*) echo {present} ;; esac
"""


@pytest.mark.parametrize("present", ["True", "False"])
def test_hyper_v_in_use_is_a_warning(vagrant_dir, present):
    """A warning, not a stop: the held port stops this `vagrant up` after the preflight."""
    fake_program(vagrant_dir, "powershell", FAKE_POWERSHELL.format(present=present))
    with hold_a_port() as held:
        result = vagrant(vagrant_dir, "up", env={"WORKSHOP_HOST_PORT": str(held.getsockname()[1])})
    warned = "Warning: Windows is running its Hyper-V hypervisor" in result.stderr
    assert warned == (present == "True"), result.stderr
    assert "is taken by another program" in result.stderr
    if warned:
        assert "bcdedit /set hypervisorlaunchtype off" in result.stderr


# The machine's synced folders as Vagrant resolves them for a provider (the provider's
# overrides merged in), printed by Vagrant's own Ruby library.
SYNCED_FOLDERS = """
require "json"
require "vagrant"
machine = Vagrant::Environment.new(cwd: Dir.pwd).machine(:default, ARGV.fetch(0).to_sym)
puts JSON.generate(machine.config.vm.synced_folders)
"""


@pytest.mark.parametrize("provider, mount_options", [
    ("virtualbox", ["dmode=755", "fmode=644"]),
    ("libvirt", None),   # rsync or NFS copy the real modes, and take no such options
])
def test_the_synced_folder_has_fixed_modes_with_virtualbox_only(vagrant_dir, provider,
                                                                 mount_options):
    """vboxsf shows the laptop's modes (0777 from Windows) unless told otherwise. The owner
    stays vagrant: Vagrant's VirtualBox provider appends uid= and gid= of the ssh user to
    these options (plugins/providers/virtualbox/cap/mount_options.rb); a boot shows it."""
    if provider == "libvirt":
        plugins = subprocess.run(["vagrant", "plugin", "list"], capture_output=True, text=True)
        if "vagrant-libvirt" not in plugins.stdout:
            pytest.skip("the vagrant-libvirt plugin is missing (Debian: vagrant-libvirt)")
    (vagrant_dir / "folders.rb").write_text(SYNCED_FOLDERS)
    fake_program(vagrant_dir, "VBoxManage",
                 FAKE_VBOXMANAGE.format(version=VIRTUALBOX_OK, state="poweroff"))
    env = {**os.environ, "PATH": f"{vagrant_dir / 'fake-bin'}:{os.environ['PATH']}",
           "VAGRANT_HOME": str(vagrant_dir / "home"), "VAGRANT_CHECKPOINT_DISABLE": "1"}
    result = subprocess.run(["ruby", "folders.rb", provider], cwd=vagrant_dir, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    folders = json.loads(result.stdout.splitlines()[-1])
    project = folders[S["VM_PROJECT_DIR"]]
    assert project["hostpath"] == "." and not project["disabled"]
    assert project.get("mount_options") == mount_options


def vagrantfile_constant(name):
    return re.search(rf"^{name} = (.+)$", PREFLIGHT.read_text(), re.M)[1]


def test_readme_and_instructors_name_the_vagrantfiles_version_pairs_and_disk():
    """The preflight's VAGRANT_FOR_VIRTUALBOX and DISK_NEEDED_GIB are the home; README
    and INSTRUCTORS.md copy them for learners (listed in .env's header)."""
    pairs = dict(re.findall(r'"(\d+\.\d+)" => "(\d+\.\d+\.\d+)"',
                            vagrantfile_constant("VAGRANT_FOR_VIRTUALBOX")))
    assert pairs, "VAGRANT_FOR_VIRTUALBOX lists no pair"
    readme = (PROJECT / "README.md").read_text()
    instructors = (PROJECT / "exercises" / "INSTRUCTORS.md").read_text()
    rows = dict(re.findall(r"^  \| (\d+\.\d+) \| (\d+\.\d+\.\d+) or newer \|", readme, re.M))
    assert rows == pairs, "README's table of VirtualBox and Vagrant versions"
    instructors = " ".join(instructors.split())   # its lines wrapped anywhere
    for virtualbox in ("7.1", "7.2"):
        assert f"VirtualBox {virtualbox} needs Vagrant {pairs[virtualbox]}+" in instructors
    disk = vagrantfile_constant("DISK_NEEDED_GIB")
    assert f"About {disk} GiB of free disk" in readme
    assert f"about {disk} GiB of free disk" in instructors
