"""A checkout as Windows git makes it (core.autocrlf=true): .gitattributes keeps LF in
what the VM and the containers read, so the database's first-init hook, `docker compose
config` and `. ./.env` work from it. Without .gitattributes the same checkout gets CRLF
(the test can fail)."""

import subprocess

import pytest
from test_initdb_hook import start_db

from dockertools import ip_of, stored_messages
from dockertools import wait_until_ready as wait_ready
from settings import PROJECT, S

pytestmark = pytest.mark.docker
READ_IN_THE_VM = ["sql/initdb.sh", "sql/create_db.sql", "sql/create_schema_and_fixtures.sql",
                  ".env", "server.py", "docker-compose.yml", "Dockerfile", "requirements.txt"]


def git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def windows_clone(source, target):
    """Clone as git for Windows does by default (core.autocrlf=true)."""
    git("-c", "core.autocrlf=true", "clone", "-q", "--no-local", str(source), str(target))
    git("config", "core.autocrlf", "true", cwd=target)
    return target


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return windows_clone(PROJECT, tmp_path_factory.mktemp("windows") / "docker-workshop")


def crlf_files(folder):
    return [name for name in READ_IN_THE_VM if b"\r\n" in (folder / name).read_bytes()]


def test_nothing_the_vm_reads_gets_crlf(checkout):
    assert crlf_files(checkout) == []


def test_without_gitattributes_the_same_checkout_gets_crlf(checkout, tmp_path):
    plain = tmp_path / "plain"
    git("clone", "-q", "--no-local", str(checkout), str(plain))
    git("rm", "-q", ".gitattributes", cwd=plain)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "no attributes", cwd=plain)
    assert set(crlf_files(windows_clone(plain, tmp_path / "windows"))) == set(READ_IN_THE_VM)


def test_dot_env_sources_in_bash_with_exact_values(checkout):
    done = subprocess.run(["bash", "-c", 'set -a; . ./.env; set +a; printf %s "$WEB_IMAGE"'],
                          cwd=checkout, capture_output=True, text=True, check=True)
    assert done.stdout == S["WEB_IMAGE"]


def test_compose_config_reads_the_checkout(checkout, engine):
    done = subprocess.run(["docker", "compose", "config", "--format", "json"], cwd=checkout,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f'"image": "{S["WEB_IMAGE"]}"' in done.stdout.replace('":"', '": "')


def test_initdb_hook_from_the_checkout_creates_the_database(checkout, made):
    db = start_db(made, checkout / "sql")
    wait_ready(db)
    assert stored_messages(ip_of(db))[0] == "Welcome to the Docker workshop!"
