"""The linters the project promises to be clean with: ruff, yamllint, ansible-lint
(hadolint: tests/containers/test_container_files.py). Each runs on the real files;
a missing linter fails (tests/run installs them)."""

import shutil
import subprocess
import sys
from pathlib import Path

from settings import PROJECT

VENV_BIN = Path(sys.executable).parent


def run(tool, *args, cwd=PROJECT):
    path = shutil.which(tool, path=str(VENV_BIN)) or shutil.which(tool)
    assert path, f"{tool} is not installed: run tests/run"
    return subprocess.run([path, *map(str, args)], cwd=cwd, capture_output=True, text=True)


def tracked(*patterns):
    done = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                           *patterns], cwd=PROJECT, capture_output=True, text=True, check=True)
    return [PROJECT / name for name in done.stdout.split()]


def test_ruff_is_clean():
    done = run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_yamllint_is_clean():
    files = tracked("*.yml", "*.yaml", ".yamllint")
    assert any(f.name == "docker-compose.yml" for f in files)
    done = run("yamllint", "--strict", *files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_yamllint_would_catch_a_problem(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("key: yes\nkey: no\n")
    assert run("yamllint", "-c", PROJECT / ".yamllint", bad).returncode != 0


def test_ansible_lint_is_clean():
    done = run("ansible-lint", "--offline", "provisioning/", cwd=PROJECT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
