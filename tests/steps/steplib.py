"""What the step checks look at, through testinfra's `host` (local in the VM, or any
--hosts): Docker objects through the Docker Engine API (`engine`: what `docker inspect`
and `docker ps` print), HTTP with curl, the database with psycopg2 (run on the host
under test, where the containers' addresses are reachable). Every name comes from .env
(settings.S).

Every check says what is wrong in the same shape (`fail`): what was expected, what was
found, and under `Fix:` the exact commands that put it right, one per line. The replay
runs those commands, as they are, and the check must then pass.
"""

import http.client
import json
import os
import re
import shlex
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from settings import S

WEB_URL = f"http://localhost:{S['WEB_PORT']}"
DB_DATA_DIR = "/var/lib/postgresql/data"  # the postgres image's default PGDATA
# A Fix's first command when it needs the project folder: `cd ~/docker-workshop`.
GO_TO_PROJECT = "cd " + re.sub(r"^/home/[^/]+", "~", S["VM_PROJECT_DIR"])


def fail(what, expected, found, fix):
    """Stop the check: what is wrong, what was expected, what was found, the fix."""
    lines = [what, f"Expected: {expected}", f"Found: {found}", "Fix:"]
    raise AssertionError("\n".join(lines + [f"  {command}" for command in fix]))


def expect(ok, what, expected, found, fix):
    if not ok:
        fail(what, expected, found, fix)


DOCKER_SOCKET = "/var/run/docker.sock"


class EngineConnection(http.client.HTTPConnection):
    """HTTP over the Docker engine's socket, where the `docker` command sends its requests."""

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(DOCKER_SOCKET)


def engine(host, path, method="GET", body=None, **filters):
    """(HTTP status, JSON answer or None) of a Docker Engine API request: what `docker
    inspect`, `docker ps` and the others print is its answer. Asked directly because a
    `docker` command takes about 40 ms to start, and a check asks up to 20 questions: in
    the VM through the socket, elsewhere (--hosts) with curl. `filters` are those of
    `docker ps --filter` and the like, e.g. status=["exited", "dead"]."""
    if filters:
        path += ("&" if "?" in path else "?") + "filters=" + quote(json.dumps(filters))
    data = None if body is None else json.dumps(body)
    if host.backend.NAME == "local":
        connection = EngineConnection("localhost")
        try:
            connection.request(method, path, data, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            status, text = answer.status, answer.read()
        except OSError:  # no engine, or no right to use it
            return None, None
        finally:
            connection.close()
    else:
        command = ["curl", "-s", "--unix-socket", DOCKER_SOCKET, "-w", "\n%{http_code}"]
        command += ["--head"] if method == "HEAD" else ["-X", method]
        if data is not None:
            command += ["-H", "Content-Type: application/json", "-d", data]
        result = host.run(shlex.join([*command, "http://docker" + path]))
        text, _, status = result.stdout.rpartition("\n")
        status = int(status) if status.isdigit() else None
    try:
        return status, json.loads(text)
    except ValueError:  # no body, or not JSON
        return status, None


def inspect(host, kind, name):
    """What `docker <kind> inspect NAME` prints (one object) as a dict, or None."""
    path = {"container": "/containers/{}/json", "image": "/images/{}/json",
            "volume": "/volumes/{}"}[kind]
    status, found = engine(host, path.format(name))
    return found if status == 200 else None


def image(host, ref):
    return inspect(host, "image", ref)


def container(host, name):
    return inspect(host, "container", name)


def volume(host, name):
    return inspect(host, "volume", name)


def holds_file(host, ref, path):
    """Whether image `ref` holds `path`: a container made from it (never started: a run
    takes 10 times longer) is asked for the file, then removed."""
    status, made = engine(
        host, "/containers/create", "POST", {"Image": ref, "Entrypoint": ["ls"], "Cmd": [path]}
    )
    if status != 201:
        return False
    try:
        found, _ = engine(host, f"/containers/{made['Id']}/archive?path={quote(path)}", "HEAD")
        return found == 200
    finally:
        engine(host, f"/containers/{made['Id']}?force=1", "DELETE")


def running(info):
    return bool(info) and info["State"]["Status"] == "running"


def stopped(info):
    """Stopped, not broken: it exited 0, as its program does when `docker stop`, or a
    restart of Docker or of the VM, asks it to end (PostgreSQL: "database system is shut
    down"). Its files and volumes are as they were: `docker start` runs it again."""
    return bool(info) and info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0


def expect_not_stopped(host, info, name, names):
    """Fail with `docker start` for every one of `names` (in that order) that is stopped,
    when the container `name` is: nothing is made anew, nothing is deleted."""
    if stopped(info):
        again = [each for each in names if stopped(container(host, each))]
        fail(
            f"{name} is stopped, not broken: `docker stop`, or a restart of Docker or of "
            "the VM, ended it.",
            "running",
            state(host, info, name),
            [f"docker start {' '.join(again)}"],
        )


def log_line(host, name):
    """The line of a container's log that says why it stopped: its last error line (a
    program's explanation often goes on for lines after it), else its last line."""
    lines = host.run(f"docker logs --tail 20 {shlex.quote(name)} 2>&1").stdout.splitlines()
    lines = [line.strip() for line in lines if line.strip()]
    errors = [line for line in lines if line.lower().startswith(("error", "fatal"))]
    if errors:
        return f"its log says: {errors[-1]}"
    return f"its last log line: {lines[-1] if lines else '(no output)'}"


def state(host, info, name):
    """What a container is doing, in words a learner can act on."""
    if not info:
        return f"no container named {name} (`docker ps -a` lists none)"
    status = info["State"]["Status"]
    if status == "running":
        return "running"
    if status == "created":
        problem = info["State"].get("Error") or "never started"
        return f"created but not running: {problem}"
    code = info["State"]["ExitCode"]
    return f"{status} with exit code {code}; {log_line(host, name)}"


# A check run right after `docker run -d` or `docker compose up -d` must not take a
# program that is still starting for a broken one: it waits for it, for a while.
STARTING_S = 20  # a container started less than this ago may still be starting up
WAIT_S = 90  # the longest a check waits for one (a busy laptop starts slowly)
LATE = {}  # {container: its last log line}: running, but not up after WAIT_S


def no_answer(name):
    """What a check says when nothing answers: the container's last log line if it never
    came up, else only that."""
    return f"no answer; {name} is running but {LATE[name]}" if name in LATE else "no answer"


def seconds_running(info):
    """How long ago the container started (its State.StartedAt, in UTC)."""
    started = re.sub(r"(\.\d{6})\d*", r"\1", info["State"]["StartedAt"]).replace("Z", "+00:00")
    return time.time() - datetime.fromisoformat(started).timestamp()


def accepts(host, address, port):
    """Whether something accepts TCP connections at address:port (from the VM)."""
    if host.backend.NAME == "local":
        try:
            socket.create_connection((address, int(port)), timeout=1).close()
            return True
        except OSError:
            return False
    return host.run(f"timeout 2 bash -c '</dev/tcp/{address}/{int(port)}'").rc == 0


def health(info):
    """A container's health: starting, healthy or unhealthy (its image's HEALTHCHECK);
    "" without one."""
    return (info["State"].get("Health") or {}).get("Status") or ""


def started_up(host, info):
    """Whether a container's program is up: every port its image exposes accepts TCP
    connections on the container's address (PostgreSQL listens on TCP only once its
    first initialisation is done), and its health check, if any, is past "starting"."""
    if health(info) == "starting":
        return False
    address = ip_address(info)
    ports = [port.split("/")[0] for port in info["Config"].get("ExposedPorts") or {}
             if port.endswith("/tcp")]
    return not address or all(accepts(host, address, port) for port in ports)


def say_progress(text, done=False):
    """A line that updates itself in the learner's terminal (`workshop` passes its
    terminal in WORKSHOP_PROGRESS_FD: pytest keeps the check's own output)."""
    fd = os.environ.get("WORKSHOP_PROGRESS_FD")
    if not fd:
        return
    with open(int(fd), "w", closefd=False) as out:
        if out.isatty():
            out.write(f"\r  {text}" + ("\n" if done else ""))
        elif done:
            out.write(f"  {text}\n")


def wait_for_starting_containers(host):
    """Wait for each container that started less than STARTING_S ago and still runs
    until its program is up (`started_up`), for at most WAIT_S from its start. Swarm's
    tasks are left to step 7's check. Returns {name: its last log line} of those that
    did not come up in time, for the checks to show."""
    _, found = engine(host, "/containers/json")  # docker ps: the running ones
    late = {}
    for summary in found or []:
        info = container(host, summary["Id"])
        labels = (info or {}).get("Config", {}).get("Labels") or {}
        if not running(info) or "com.docker.swarm.service.name" in labels:
            continue
        name, start = info["Name"].lstrip("/"), time.monotonic() - seconds_running(info)
        if time.monotonic() - start > STARTING_S or started_up(host, info):
            continue
        while True:
            waited = time.monotonic() - start
            line = f"waiting for {name} to start… {waited:.0f} s"
            say_progress(line)
            info = container(host, name)
            if not running(info) or started_up(host, info):  # up, or it stopped: checks say
                say_progress(line, done=True)
                break
            if waited > WAIT_S or health(info) == "unhealthy":  # it will not come up
                late[name] = log_line(host, name)
                say_progress(f"{name} did not start in {waited:.0f} s: {late[name]}", done=True)
                break
            time.sleep(0.5)
    return late


def process_env(host, info):
    """The environment the container's main process really has (links add to it), read
    from the VM's /proc (quicker than `docker exec ... cat /proc/1/environ`)."""
    result = host.run(f"sudo -n cat /proc/{int(info['State']['Pid'])}/environ")
    if result.rc != 0:  # not running (its Pid is 0)
        return env(info)
    return dict(item.partition("=")[::2] for item in result.stdout.split("\0") if item)


def env(info):
    """A container's environment as a dict."""
    return dict(item.partition("=")[::2] for item in info["Config"]["Env"] or [])


def db_host_in(variables):
    """Where server.py looks for its database, given its environment: POSTGRES_HOST, or
    the 2016 way's link variable."""
    return variables.get("POSTGRES_HOST") or variables.get("POSTGRES_PORT_5432_TCP_ADDR")


def db_host_of(info):
    """Where server.py in this container looks for its database, as `docker run` set it."""
    return db_host_in(env(info))


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


def link_aliases(web, db):
    """The names a legacy link gave db inside web (docker run --link, legacy, on purpose)."""
    links = list(web["HostConfig"].get("Links") or [])  # "/db:/web/alias" (default bridge)
    for settings in networks(web).values():  # "db:alias" (a network of your own)
        links += settings.get("Links") or []
    name = db["Name"].lstrip("/")
    return {
        link.rsplit(":", 1)[1].rsplit("/", 1)[-1]
        for link in links
        if link.split(":")[0].strip("/") == name
    }


def database_host(host, web):
    """Where server.py in the web container looks for its database, read from the
    environment its process really has (a legacy link adds to it)."""
    return db_host_in(process_env(host, web))


def finds_db(host, web, db):
    """True if the host the web container is given is db: its name or an alias on a
    network they share, a legacy link's alias, or its address on a network they share."""
    wanted = database_host(host, web)
    shared = set(networks(web)) & set(networks(db))
    if any(wanted in names_on(db, network) for network in own_networks(web, db)):
        return True
    if wanted in link_aliases(web, db):
        return True
    return any(networks(db)[network].get("IPAddress") == wanted for network in shared)


def published_port(info, port="8080/tcp"):
    """The VM's ports that `-p` asked to send to the container's `port`."""
    bindings = (info["HostConfig"].get("PortBindings") or {}).get(port) or []
    return {binding["HostPort"] for binding in bindings}


def published(info):
    """All of a container's -p, as `docker ps` shows them (8081->8080/tcp)."""
    bindings = info["HostConfig"].get("PortBindings") or {}
    found = [f"{b['HostPort']}->{port}" for port, each in bindings.items() for b in each or []]
    return ", ".join(found) or "no published port"


def listener(host, port):
    """(program, pid) of what listens on the VM's TCP `port`, if the learner owns it."""
    found = re.search(
        r'users:\(\("([^"]+)",pid=(\d+)', host.run(f"ss -Hltnp 'sport = :{port}'").stdout
    )
    return (found.group(1), found.group(2)) if found else (None, None)


def mount_at(info, destination):
    return next((m for m in info["Mounts"] if m["Destination"] == destination), None)


def body(answer):
    """The body of an `http` answer (its reason, for a 503)."""
    return answer.replace("\r\n", "\n").partition("\n\n")[2].strip()


def said(status, answer, name):
    """What the server in container `name` answered, in words: "503: <its reason>", or
    that nothing answered."""
    if status is None:
        return no_answer(name)
    return f"{status}: {body(answer)[:200] or '(an empty answer)'}"


def http(host, path="/", method="GET", data=None, headers=(), base=WEB_URL):
    """(status, headers and body as text) of a request made with curl on the host."""
    command = ["curl", "-sS", "-i", "--max-time", "5", "-X", method]
    for header in headers:
        command += ["-H", header]
    if data is not None:
        command += ["--data-binary", data]
    result = host.run(shlex.join([*command, base + path]))
    if result.rc != 0:
        return None, ""
    status = int(result.stdout.split(None, 2)[1])
    return status, result.stdout


QUERY = """
import json, sys, psycopg2
try:
    c = psycopg2.connect(host=sys.argv[1], port=sys.argv[2], dbname=sys.argv[3],
                         user=sys.argv[4], password=sys.argv[5], connect_timeout=3)
    cur = c.cursor(); cur.execute(sys.argv[6]); print(json.dumps(cur.fetchall()))
except Exception as e:
    print(json.dumps(str(e).strip()))
"""


def query(host, sql, address="localhost"):
    """Rows of `sql` run as the workshop's role, or the error's text as a string. On the
    VM itself (`workshop check`) it runs in this process; elsewhere, on the host."""
    args = [address, S["DB_PORT"], S["DB_NAME"], S["DB_USER"], S["DB_PASSWORD"], sql]
    if host.backend.NAME == "local":
        import psycopg2  # the step checks' own requirement

        try:
            with psycopg2.connect(host=args[0], port=args[1], dbname=args[2], user=args[3],
                                  password=args[4], connect_timeout=3) as connection:
                with connection.cursor() as cursor:
                    cursor.execute(sql)
                    return [list(row) for row in cursor.fetchall()]
        except psycopg2.Error as error:
            return str(error).strip()
    result = host.run(shlex.join(["python3", "-c", QUERY, *args]))
    return json.loads(result.stdout) if result.stdout.strip() else result.stderr


def messages(host, address="localhost"):
    """The stored messages' contents, or the error's text as a string."""
    rows = query(host, "SELECT content FROM messages ORDER BY id", address)
    return [row[0] for row in rows] if isinstance(rows, list) else rows


@dataclass
class Mistake:
    """A mistake learners make at this step, declared in the step's check file (MISTAKES).
    The replay (tests/replay) makes it after the step: it runs `make`, then
    `workshop check N` must fail and its message must contain `says`; then it runs the
    `Fix:` the message gives (or `undo`, where the machine needs putting back by other
    means), and the check must pass again. `says=None`: a variant the check accepts."""

    what: str
    make: list
    says: str | None
    undo: list = field(default_factory=list)
