"""Small helpers for the tests that drive the real Docker engine (docker CLI, psycopg2)."""

import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import psycopg2
import pytest

from settings import PROJECT, S

ADMIN_PASSWORD = "test-admin-secret"  # the postgres superuser's, in test containers


def docker(*args, check=True, timeout=600, **kwargs):
    """Run `docker ARGS...`; output as text. check=True raises with docker's stderr."""
    args = [str(arg) for arg in args]
    result = subprocess.run(["docker", *args], capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}{result.stderr}")
    return result


def inspect_field(name, template):
    return docker("inspect", "-f", template, name).stdout.strip()


def unique(prefix="dwtest"):
    """A name no learner and no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"



def wait_for(what, check, timeout=60, every=0.5):
    """Call check() until it returns something truthy; fail naming `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except AssertionError:  # a definite failure: no point waiting
            raise
        except Exception as error:  # not there yet: retry until the deadline
            value, last = None, error
        else:
            last = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last})" if last else ""))
        time.sleep(every)


def ip_of(container):
    return inspect_field(container, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")


def ready_over_tcp(container):
    """pg_isready over TCP inside the container: true only after any first init."""
    return docker("exec", container, "pg_isready", "-q", "-h", "127.0.0.1",
                  check=False).returncode == 0


def wait_until_ready(container):
    """Wait until a postgres container answers over TCP; fail at once if it stopped."""
    def ready():
        if inspect_field(container, "{{.State.Running}}") != "true":
            logs = docker("logs", container)
            raise AssertionError(f"{container} stopped:\n{logs.stdout}{logs.stderr}")
        return ready_over_tcp(container)

    wait_for(f"{container} to accept TCP connections", ready)


def sql(host, query, user, password, dbname, port=5432, params=None):
    """Run one statement over TCP with a password (autocommit); the rows, if any."""
    with psycopg2.connect(host=host, port=port, user=user, password=password,
                          dbname=dbname, connect_timeout=5) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else None


def setup_workshop_db(container, admin_password=ADMIN_PASSWORD):
    """Create the workshop's role, database and table the way step 4 does: psql run from
    a postgres:15 container, with the sql/ files mounted, against the db's IP."""
    ip = ip_of(container)
    for user, password, dbname, script in [
        ("postgres", admin_password, "postgres", "create_db.sql"),
        (S["DB_USER"], S["DB_PASSWORD"], S["DB_NAME"], "create_schema_and_fixtures.sql"),
    ]:
        docker("run", "--rm", "-e", f"PGPASSWORD={password}",
               "-v", f"{PROJECT / 'sql'}:/sql:ro", S["POSTGRES_IMAGE"],
               "psql", "-h", ip, "-U", user, "-f", f"/sql/{script}", dbname)


def stored_messages(host, port=5432):
    """The stored messages, read as the workshop's role (md5 over TCP)."""
    rows = sql(host, "SELECT content FROM messages ORDER BY id",
               S["DB_USER"], S["DB_PASSWORD"], S["DB_NAME"], port=port)
    return [content for (content,) in rows]


def add_message(host, content):
    sql(host, "INSERT INTO messages (content) VALUES (%s)",
        S["DB_USER"], S["DB_PASSWORD"], S["DB_NAME"], params=(content,))


def http_request(method, url, body=None, timeout=5):
    """One HTTP request; (status, text), whatever the status."""
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for_http(url, status=200, timeout=60):
    return wait_for(f"{url} to answer {status}",
                    lambda: http_request("GET", url)[0] == status, timeout)


# Both Composes: v2 (`docker compose`) is what learners have in the VM; v1.29 is Debian
# 12's docker-compose. tests/run installs both (v2 with tests/compose-v2.sh).
COMPOSE = {"v2": ["docker", "compose"], "v1": ["docker-compose"]}


def compose_command(version):
    """The Compose command of that version; a skip (a failure in CI) when it is missing."""
    command = COMPOSE[version]
    if not shutil.which(command[0]) or subprocess.run(
            [*command, "version"], capture_output=True).returncode != 0:
        pytest.skip(f"Compose {version} (`{' '.join(command)}`) is not installed: run tests/run")
    return command
