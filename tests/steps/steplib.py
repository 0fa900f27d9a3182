"""What the step checks look at, through testinfra's `host` (local in the VM, or any
--hosts): Docker objects with `docker inspect`, HTTP with curl, the database with
psycopg2 (run on the host under test, where the containers' addresses are reachable).
Every name comes from .env (settings.S)."""

import json
import shlex
import sys
from dataclasses import dataclass, field

from settings import S

WEB_URL = f"http://localhost:{S['WEB_PORT']}"
DB_DATA_DIR = "/var/lib/postgresql/data"  # the postgres image's default PGDATA


def inspect(host, *names, kind=""):
    """`docker inspect` of one object (container by default) as a dict, or None."""
    command = ["docker", *([kind] if kind else []), "inspect", *names]
    result = host.run(shlex.join(command))
    return json.loads(result.stdout)[0] if result.rc == 0 else None


def image(host, ref):
    return inspect(host, ref, kind="image")


def container(host, name):
    return inspect(host, name, kind="container")


def running(info):
    return bool(info) and info["State"]["Status"] == "running"


def compose_containers(host, service):
    """Running containers of a Compose service, found by label (v1 and v2 name them
    differently)."""
    ids = host.run(
        "docker ps -q --filter label=com.docker.compose.service=" + shlex.quote(service)
    ).stdout.split()
    return [container(host, cid) for cid in ids]


def env(info):
    """A container's environment as a dict."""
    return dict(item.partition("=")[::2] for item in info["Config"]["Env"] or [])


def db_host_of(info):
    """Where server.py in this container looks for its database."""
    variables = env(info)
    return variables.get("POSTGRES_HOST") or variables.get("POSTGRES_PORT_5432_TCP_ADDR")


def networks(info):
    """{network: its settings} of a container. Only these per-network fields: Docker
    Engine 29 removed the old top-level address fields (docker_deprecated.py)."""
    return info["NetworkSettings"]["Networks"] or {}


def ip_address(info):
    """The container's address on its (first) network."""
    return next(iter(networks(info).values()), {}).get("IPAddress") or None


def names_on(info, network):
    """The names a container answers to on a network: its own, and its aliases."""
    settings = networks(info).get(network) or {}
    names = [*(settings.get("Aliases") or []), *(settings.get("DNSNames") or [])]
    return {info["Name"].lstrip("/"), *names}


def own_networks(web, db):
    """The networks of their own (not the default bridge, where names do not resolve)
    that two containers share."""
    return sorted(set(networks(web)) & set(networks(db)) - {"bridge", "host", "none"})


def finds_by_name(web, db):
    """True if the name in web's POSTGRES_HOST is db's, on a network they share."""
    wanted = db_host_of(web)
    return any(wanted in names_on(db, network) for network in own_networks(web, db))


def published_port(info, port="8080/tcp"):
    bindings = info["NetworkSettings"]["Ports"].get(port) or []
    return {binding["HostPort"] for binding in bindings}


def mount_at(info, destination):
    return next((m for m in info["Mounts"] if m["Destination"] == destination), None)


def http(host, path="/", method="GET", data=None, headers=()):
    """(status, headers and body as text) of a request made with curl on the host."""
    command = ["curl", "-sS", "-i", "--max-time", "5", "-X", method]
    for header in headers:
        command += ["-H", header]
    if data is not None:
        command += ["--data-binary", data]
    result = host.run(shlex.join([*command, WEB_URL + path]))
    if result.rc != 0:
        return None, ""
    status = int(result.stdout.split(None, 2)[1])
    return status, result.stdout


def query(host, sql, address="localhost"):
    """Rows of `sql` run as the workshop's role, or the error's text as a string."""
    script = (
        "import json, sys, psycopg2\n"
        "try:\n"
        "    c = psycopg2.connect(host=sys.argv[1], port=sys.argv[2], dbname=sys.argv[3],"
        " user=sys.argv[4], password=sys.argv[5], connect_timeout=3)\n"
        "    cur = c.cursor(); cur.execute(sys.argv[6]); print(json.dumps(cur.fetchall()))\n"
        "except Exception as e:\n"
        "    print(json.dumps(str(e).strip()))\n"
    )
    python = sys.executable if host.backend.NAME == "local" else "python3"
    args = [address, S["DB_PORT"], S["DB_NAME"], S["DB_USER"], S["DB_PASSWORD"], sql]
    result = host.run(shlex.join([python, "-c", script, *args]))
    return json.loads(result.stdout) if result.stdout.strip() else result.stderr


def messages(host, address="localhost"):
    """The stored messages' contents, or the error's text as a string."""
    rows = query(host, "SELECT content FROM messages ORDER BY id", address)
    return [row[0] for row in rows] if isinstance(rows, list) else rows


@dataclass
class Mistake:
    """A mistake learners make at this step, declared in the step's check file (MISTAKES).
    The replay (tests/replay) makes it after the step: it runs `make`, then
    `workshop check N` must fail and its message must contain `says`; then `undo` puts
    the machine back, and the check must pass again."""

    what: str
    make: list
    says: str
    undo: list = field(default_factory=list)
