"""`vagrant validate` on the Vagrantfile, with Debian's vagrant (2.3.4).

VirtualBox cannot run here: Vagrant's VirtualBox provider is given a stand-in
VBoxManage that only reports a version, so that the provider block is validated too
(`--ignore-provider` would skip it). Everything else is the real Vagrant.
"""

import os
import shutil
import subprocess

import pytest

from settings import PROJECT, S

pytestmark = pytest.mark.vm

FAKE_VBOXMANAGE = """#!/bin/sh
# Stands in for VirtualBox's VBoxManage: Vagrant asks it for its version only.
[ "$1" = --version ] && echo 7.0.20r163906
"""


@pytest.fixture
def vagrant_dir(tmp_path):
    """A copy of the Vagrantfile, .env and the script it runs: Vagrant's state stays out
    of the project."""
    if not shutil.which("vagrant"):
        pytest.skip("vagrant is not installed (tests/run installs Debian's vagrant)")
    (tmp_path / "provisioning").mkdir()
    for name in ("Vagrantfile", ".env", "provisioning/install-ansible.sh"):
        shutil.copy(PROJECT / name, tmp_path / name)
    return tmp_path


def validate(directory, provider="virtualbox", env=None):
    bin_dir = directory / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "VBoxManage").write_text(FAKE_VBOXMANAGE)
    (bin_dir / "VBoxManage").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "VAGRANT_DEFAULT_PROVIDER": provider, "VAGRANT_HOME": str(directory / "home"),
           "VAGRANT_CHECKPOINT_DISABLE": "1", **(env or {})}
    return subprocess.run(["vagrant", "validate"], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=120)


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
])
def test_learner_settings_from_the_environment(vagrant_dir, variable, value):
    result = validate(vagrant_dir, env={variable: value})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variable, value, says", [
    ("WORKSHOP_PULL_IMAGES", "nope", 'WORKSHOP_PULL_IMAGES must be yes'),
    ("WORKSHOP_DOCKER_SOURCE", "ubuntu", 'WORKSHOP_DOCKER_SOURCE must be docker'),
    ("WORKSHOP_KIT", "true!", 'WORKSHOP_KIT must be yes'),
])
def test_a_wrong_learner_setting_stops_vagrant_with_its_name(vagrant_dir, variable, value,
                                                              says):
    """A typo in WORKSHOP_* stops `vagrant up` before anything boots, naming it."""
    result = validate(vagrant_dir, env={variable: value})
    assert result.returncode != 0
    assert says in result.stdout + result.stderr
    assert f'not "{value}"' in result.stdout + result.stderr
