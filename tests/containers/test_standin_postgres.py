"""The postgres image's contract that the workshop relies on, observed on a container.

Here the image is the offline stand-in (tests/standins/) when no registry is reachable,
the official postgres:17 elsewhere: both must pass.
"""

import psycopg2
import pytest

from dockertools import (
    ADMIN_PASSWORD,
    docker,
    inspect_field,
    ip_of,
    sql,
    wait_for,
    wait_until_ready,
)
from settings import S

pytestmark = [pytest.mark.docker, pytest.mark.replay_engine]  # conftest.py
IMAGE = S["POSTGRES_IMAGE"]


def exit_code(container, timeout=60):
    wait_for(f"{container} to exit",
             lambda: inspect_field(container, "{{.State.Running}}") == "false", timeout)
    return int(inspect_field(container, "{{.State.ExitCode}}"))


def logs(container):
    result = docker("logs", container)
    return result.stdout + result.stderr


def hba_host_method(container):
    """The method of the `host all all all` line the entrypoint appends to pg_hba.conf."""
    hba = docker("exec", container, "sh", "-c", 'cat "$PGDATA/pg_hba.conf"').stdout
    return [line.split()[-1] for line in hba.splitlines()
            if line.split()[:4] == ["host", "all", "all", "all"]]


def test_refuses_to_start_without_postgres_password(made):
    name = made.container()
    docker("run", "-d", "--name", name, IMAGE)
    assert exit_code(name) == 1
    assert "superuser password is not specified" in logs(name)
    assert '"-e POSTGRES_PASSWORD=password"' in logs(name)


def test_host_auth_method_trust_starts_without_password(made):
    name = made.container()
    docker("run", "-d", "--name", name, "-e", "POSTGRES_HOST_AUTH_METHOD=trust", IMAGE)
    wait_until_ready(name)
    assert hba_host_method(name) == ["trust"]
    assert sql(ip_of(name), "SELECT current_user", "postgres", "", "postgres") == [
        ("postgres",)]


def test_postgres_user_and_db_create_a_superuser_and_its_database(run_db):
    name = run_db("-e", "POSTGRES_USER=alice", "-e", "POSTGRES_DB=shop")
    rows = sql(ip_of(name), "SELECT current_user, current_database(), rolsuper "
               "FROM pg_roles WHERE rolname = current_user", "alice", ADMIN_PASSWORD, "shop")
    assert rows == [("alice", "shop", True)]


def test_host_connections_need_the_password(run_db):
    ip = ip_of(run_db())
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        sql(ip, "SELECT 1", "postgres", "wrong", "postgres")


def test_host_auth_follows_password_encryption(run_db):
    assert hba_host_method(run_db()) == ["md5"]  # postgres -c password_encryption=md5
    assert hba_host_method(run_db(command=())) == ["scram-sha-256"]  # PostgreSQL 17's default


def test_pgdata_chooses_the_data_directory(run_db):
    name = run_db("-e", "PGDATA=/pg_data")
    assert docker("exec", name, "cat", "/pg_data/PG_VERSION").stdout.strip() == "17"
    assert docker("exec", name, "ls", "-A", "/var/lib/postgresql/data").stdout == ""


def test_default_pgdata_is_a_declared_volume(run_db):
    name = run_db()
    assert inspect_field(IMAGE, "{{json .Config.Volumes}}") == '{"/var/lib/postgresql/data":{}}'
    assert docker("exec", name, "sh", "-c", 'echo "$PGDATA"').stdout.strip() == \
        "/var/lib/postgresql/data"
    assert inspect_field(name, '{{range .Mounts}}{{.Type}} {{.Destination}}{{end}}') == \
        "volume /var/lib/postgresql/data"


def test_initdb_scripts_run_once_in_order_on_first_init_only(run_db, tmp_path):
    # Each script records itself; $0 tells an executed script from a sourced one.
    record = 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "INSERT INTO runs VALUES (\'$0\')"\n'
    (tmp_path / "1-table.sql").write_text("CREATE TABLE runs (script text);\n")
    (tmp_path / "2-executed.sh").write_text("#!/bin/sh\n" + record)
    (tmp_path / "2-executed.sh").chmod(0o755)
    (tmp_path / "3-sourced.sh").write_text(record)
    (tmp_path / "3-sourced.sh").chmod(0o644)
    (tmp_path / "4-notes.txt").write_text("ignored\n")
    tmp_path.chmod(0o755)  # readable by the container's postgres user
    name = run_db("-e", "POSTGRES_DB=shop", "-v", f"{tmp_path}:/docker-entrypoint-initdb.d:ro")

    def runs():
        rows = sql(ip_of(name), "SELECT script FROM runs", "postgres", ADMIN_PASSWORD, "shop")
        return [script.rsplit("/", 1)[-1] for (script,) in rows]

    assert runs() == ["2-executed.sh", "docker-entrypoint.sh"]
    docker("restart", name)
    wait_until_ready(name)
    assert runs() == ["2-executed.sh", "docker-entrypoint.sh"]
    assert "Skipping initialization" in logs(name)


def test_listens_on_all_addresses_port_5432(run_db):
    name = run_db()
    assert inspect_field(IMAGE, "{{json .Config.ExposedPorts}}") == '{"5432/tcp":{}}'
    # From the host, through the container's own IP on the bridge network.
    assert sql(ip_of(name), "SHOW listen_addresses", "postgres", ADMIN_PASSWORD,
               "postgres") == [("*",)]


def test_postgres_is_pid_1_as_user_postgres(run_db):
    name = run_db()
    cmdline = docker("exec", name, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert cmdline[0] in ("postgres", "/usr/lib/postgresql/17/bin/postgres")
    status = docker("exec", name, "cat", "/proc/1/status").stdout
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    assert docker("exec", name, "id", "-u", "postgres").stdout.strip() == uid != "0"


@pytest.mark.parametrize("signal", ["TERM", "INT"])
def test_stops_cleanly_on_signal(run_db, signal):
    name = run_db()
    docker("kill", "--signal", signal, name)
    assert exit_code(name) == 0
    assert logs(name).rstrip().endswith("database system is shut down")


def test_arguments_starting_with_a_dash_go_to_postgres(run_db):
    name = run_db(command=("-c", "max_connections=42"))
    assert sql(ip_of(name), "SHOW max_connections", "postgres", ADMIN_PASSWORD,
               "postgres") == [("42",)]


def test_psql_and_pg_isready_are_on_path(engine):
    for tool in ("psql", "pg_isready"):
        out = docker("run", "--rm", IMAGE, tool, "--version").stdout
        assert f"{tool} (PostgreSQL) 17." in out
