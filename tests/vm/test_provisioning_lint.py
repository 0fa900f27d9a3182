"""ansible-lint catches a broken playbook (tests/test_lint.py runs it on the real one), and
the playbook takes the workshop's names from .env only."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from settings import PROJECT, S

PROVISIONING = PROJECT / "provisioning"
VENV_BIN = Path(sys.executable).parent


def tool(name):
    path = VENV_BIN / name
    if not path.exists():
        path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (tests/run installs requirements-dev.txt)")
    return str(path)


def run(*command):
    return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300)


def test_ansible_lint_catches_a_short_module_name(tmp_path):
    """The lint test can fail: a task without its fully qualified module name."""
    copy = tmp_path / "provisioning"
    shutil.copytree(PROVISIONING, copy)
    (tmp_path / ".env").write_text((PROJECT / ".env").read_text())
    tasks = copy / "tasks" / "base.yml"
    tasks.write_text(tasks.read_text().replace("ansible.builtin.apt:", "apt:"))
    result = subprocess.run([tool("ansible-lint"), "--offline", "provisioning/playbook.yml"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "fqcn" in result.stdout + result.stderr


@pytest.mark.parametrize("key", ["PYTHON_IMAGE", "POSTGRES_IMAGE", "WEB_PORT", "DB_PORT",
                                 "DB_NAME", "DB_PASSWORD", "VM_PROJECT_DIR"])
def test_names_come_from_env(key):
    """No value of .env is copied into provisioning/: the vars file looks each one up."""
    for path in PROVISIONING.rglob("*"):
        if path.is_file():
            assert S[key] not in path.read_text(), f"{path} copies {key}'s value from .env"
    assert f"'{key}'" in (PROVISIONING / "vars" / "main.yml").read_text()
