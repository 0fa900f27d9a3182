#!/usr/bin/env python3
"""The workshop's message board: a small HTTP server that keeps messages in PostgreSQL.

    curl -XGET  http://localhost:8080                    # list the newest messages
    curl -XPOST http://localhost:8080 -d "Hello world"   # store one
    curl http://localhost:8080/health                    # 200 if the database answers

Open http://localhost:8080 in a browser for a page with a form. `Accept:
application/json` gives the list as JSON.

GET / answers with the newest 100 messages, oldest of them first, so the one you just
posted is last. ?limit=N (1 to 1000) sets how many, ?before=ID pages back: the Link
header (`curl -i`) points to the next older page. In the plain-text list every message
is one line: a line break inside a message is shown as \\n (\\r for a carriage
return), a backslash as \\\\, and any other control character as Python writes it
(e.g. \\x1b). JSON and the HTML page show messages as they are.

Every setting comes from an environment variable (listed below).
"""

import argparse
import html
import json
import os
import queue
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import postgresql.driver
import postgresql.sys
import postgresql.versionstring

# A known trap: py-postgresql expects the server to report a version like "15.18",
# but PostgreSQL built by Debian (the VM's, and the official postgres image's) says
# "15.18 (Debian 15.18-0+deb12u1)", and connecting fails with "invalid literal for
# int()". Its maintainers leave that to users, so we keep the part before the space.
_split_version = postgresql.versionstring.split
postgresql.versionstring.split = lambda version: _split_version(version.split()[0])

# Each setting: environment variable -> (default, what it is).
SETTINGS = {
    "PORT": ("8080", "port this server listens on"),
    "POSTGRES_HOST": ("localhost", "database host (if unset: the legacy "
                      "POSTGRES_PORT_5432_TCP_ADDR)"),
    "POSTGRES_PORT": ("5432", "database port"),
    "POSTGRES_DB": ("dockerworkshop", "database name"),
    "POSTGRES_USER": ("dockerworkshop", "database user"),
    "POSTGRES_PASSWORD": ("dockerworkshop", "database password (stored as md5)"),
}
MAX_MESSAGE_BYTES = 64 * 1024
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000  # messages per GET: the default, the most
MAX_CONNECTIONS = 64  # clients served at once (a thread each); more get a 503 at once
REQUEST_DEADLINE = 10  # seconds a client has to send its whole request
POOL_SIZE = 10  # connections to PostgreSQL at most; requests take turns on them
POOL_WAIT = 5  # seconds a request waits for a free connection before a 503
DATABASE_TIMEOUT = 10  # seconds PostgreSQL may take to answer a statement

# The newest `limit` messages with an id below `before`, in id order. Read backwards
# along the primary key's index, so a page costs the same with 100 or 1,000,000 rows.
PAGE_SQL = """SELECT id, content, created_at FROM (
    SELECT id, content, created_at FROM messages
    WHERE id < $1::bigint ORDER BY id DESC LIMIT $2::integer) AS page ORDER BY id"""
INSERT_SQL = "INSERT INTO messages (content) VALUES ($1) RETURNING id"
NEWEST = 2**63 - 1  # `before` when none is given: above every id

# The HTML page runs no script and loads nothing, and no other site may frame it.
HTML_HEADERS = {"Content-Security-Policy": "default-src 'none'; form-action 'self'; "
                                           "frame-ancestors 'none'; base-uri 'none'",
                "X-Frame-Options": "DENY"}
REQUEST_LINE = re.compile(rb"[A-Z]+ \S+ HTTP/1\.[01]\r?\n")
REQUEST_START = re.compile(rb"[A-Z]{1,19}( |\Z)")  # how the first bytes of one look
# Shown escaped in the text list and the log: backslash, line breaks, control characters.
UNPRINTABLE = re.compile(r"[\\\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")

log_lock = threading.Lock()


def log(line):
    """Print one line to the log; threads never mix their lines."""
    with log_lock:
        print(line, flush=True)


def one_line(text):
    """The text on one line: a line break becomes the two characters \\n, a backslash
    \\\\, and so on, as Python writes them in a string."""
    return UNPRINTABLE.sub(lambda found: repr(found[0])[1:-1], text)


def database_says(message):
    """What the database tells us on the side, e.g. "terminating connection due to
    immediate shutdown command", as one log line. py-postgresql would print a report
    of 20 lines to stderr for each connection."""
    severity = (getattr(message, "details", None) or {}).get("severity", "NOTICE")
    log(f"PostgreSQL {severity}: {one_line(str(getattr(message, 'message', message)))}")


postgresql.sys.msghook = database_says


def read_settings(env):
    """The settings from the environment, with the defaults above."""
    config = {name: env.get(name) or default for name, (default, _) in SETTINGS.items()}
    if not env.get("POSTGRES_HOST") and env.get("POSTGRES_PORT_5432_TCP_ADDR"):
        config["POSTGRES_HOST"] = env["POSTGRES_PORT_5432_TCP_ADDR"]
    # `--link` also sets POSTGRES_PORT to an address such as tcp://172.17.0.2:5432.
    config["POSTGRES_PORT"] = config["POSTGRES_PORT"].rsplit(":", 1)[-1]
    return config


class DatabaseDown(Exception):
    """The database could not answer; the message says where we tried, and why."""


def reason(error):
    """The database's own reason for a failure, in one line, without the driver's report
    (many lines, e.g. "could not establish connection to server ... CONNECTOR: ...")."""
    # A failed login keeps the server's answer in the list of attempts, e.g.
    # 'password authentication failed for user "dockerworkshop"'.
    for attempt in getattr(getattr(error, "database", None), "failures", None) or ():
        error = getattr(attempt, "error", None) or error
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    cause = error.__cause__  # e.g. the host name that does not resolve
    if isinstance(cause, OSError) and cause.strerror and cause.strerror not in text:
        text = f"{text}: {cause.strerror}"
    return one_line(text.splitlines()[0])


def refused_by_database(error):
    """True if PostgreSQL answered this statement with an error (so it did nothing);
    False if the connection failed, when nobody knows what it did."""
    code = getattr(error, "code", None) or ""
    return bool(code) and not code.startswith(("08", "57P"))  # connection, shutdown


def close(connection):
    """Close a connection that failed or that the database closed."""
    try:
        # Cut the socket first: close() would otherwise wait for the database to
        # answer once more (DATABASE_TIMEOUT), and it already did not.
        connection.pq.socket.shutdown(socket.SHUT_RDWR)
    except Exception:
        pass  # already closed
    try:
        connection.close()
    except Exception:
        pass  # closing a broken connection can fail too: it is gone either way


def closed_by_database(connection):
    """True if the database closed this idle connection (it restarted or stopped).

    An idle connection has nothing to read, so anything readable is its end. Checked
    before a statement is sent, so a write is never sent on a dead connection."""
    try:
        # py-postgresql has no public name for its socket: `pq.socket`.
        return bool(select.select([connection.pq.socket], [], [], 0)[0])
    except Exception:
        return True


class Database:
    """At most POOL_SIZE connections, opened on demand and kept for the next requests.

    A request borrows a connection and gives it back, so a connection is never shared by
    two threads at once, and PostgreSQL sees POOL_SIZE connections at most however many
    requests come in. When the database went away, a dead connection is replaced by a
    new one, and the next request connects again by itself.
    """

    def __init__(self, config):
        self.config = config
        self.name = (f"database {config['POSTGRES_DB']} at "
                     f"{config['POSTGRES_HOST']}:{config['POSTGRES_PORT']}")
        self.pool = queue.LifoQueue()  # last in, first out: the warmest connection
        for _ in range(POOL_SIZE):
            self.pool.put(None)  # a free place, not connected yet

    def connect(self):
        connection = postgresql.driver.connect(  # not postgresql.open(): not thread-safe
            host=self.config["POSTGRES_HOST"], port=int(self.config["POSTGRES_PORT"]),
            database=self.config["POSTGRES_DB"], user=self.config["POSTGRES_USER"],
            password=self.config["POSTGRES_PASSWORD"], connect_timeout=5,
            # Debian's PostgreSQL turns TLS on with a self-signed certificate, which
            # py-postgresql rejects without falling back. The workshop's database
            # traffic stays inside the VM (loopback, Docker's bridge): no TLS.
            sslmode="disable",
        )
        # Without this, a database that stopped answering would hold the request forever.
        connection.pq.socket.settimeout(DATABASE_TIMEOUT)
        connection.prepared = {}  # each statement is prepared once per connection
        return connection

    def run(self, sql, *params, write=False, retry=True):
        """Run one statement and return its rows, or raise DatabaseDown.

        A read that fails on a kept connection is tried once more on a new one (the
        database may have restarted). A write is never sent twice: if the connection
        fails after the INSERT went out, PostgreSQL may have stored it already.
        """
        try:
            connection = self.pool.get(timeout=POOL_WAIT)
        except queue.Empty:
            raise DatabaseDown(f"{self.name} is busy: all {POOL_SIZE} connections were "
                               f"in use for {POOL_WAIT} s") from None
        if connection is not None and closed_by_database(connection):
            connection = close(connection)  # None: connect again, nothing was sent
        kept, sent = connection is not None, False
        try:
            connection = connection or self.connect()
            if sql not in connection.prepared:
                connection.prepared[sql] = connection.prepare(sql)
            sent = True
            rows = connection.prepared[sql](*params)
        # Not only postgresql.exceptions.Error: on a connection the database closed,
        # py-postgresql can also fail with OSError, RuntimeError or even ValueError.
        except Exception as error:
            if connection is not None:
                close(connection)
            self.pool.put(None)  # its place is free again
            if kept and retry and not write:
                return self.run(sql, *params, retry=False)
            if write and sent and not refused_by_database(error):
                raise DatabaseDown(
                    f"{self.name} did not confirm the write ({reason(error)}): the "
                    "message may or may not be stored; look with GET before you send "
                    "it again") from error
            raise DatabaseDown(f"{self.name} is not available: {reason(error)}") from error
        self.pool.put(connection)
        return rows


class Watchdog:
    """Cuts off the clients that are too slow to send their request.

    Each connection's thread reads its request with blocking reads, and the socket's
    timeout counts for each read, not for the request: a client that sends a byte now
    and then would keep its thread forever. So every connection is watched here until
    its request is in; this one thread shuts the reading side of those past their
    deadline (their blocked read returns at once), and of all of them on stop.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting = {}  # socket -> the time by which its request must be in
        self.cut = set()  # sockets cut off before their request was in
        self.stopping = False
        threading.Thread(target=self.run, name="watchdog", daemon=True).start()

    def watch(self, sock):
        with self.lock:
            self.waiting[sock] = time.monotonic() + REQUEST_DEADLINE
            if self.stopping:
                self.cut_off(sock)

    def arrived(self, sock):
        """The request is in: stop watching. False if it was cut off first."""
        with self.lock:
            self.waiting.pop(sock, None)
            return sock not in self.cut

    def forget(self, sock):
        with self.lock:
            self.waiting.pop(sock, None)
            self.cut.discard(sock)

    def cut_off(self, sock):  # called with the lock held
        del self.waiting[sock]
        self.cut.add(sock)
        try:
            sock.shutdown(socket.SHUT_RD)  # reading gives "end of data"; writing works
        except OSError:
            pass  # already closed by the client

    def run(self):
        while True:
            time.sleep(0.2)
            with self.lock:
                now = time.monotonic()
                for sock in [s for s, deadline in self.waiting.items() if deadline < now]:
                    self.cut_off(sock)

    def stop(self):
        with self.lock:
            self.stopping = True
            for sock in list(self.waiting):
                self.cut_off(sock)


class Handler(BaseHTTPRequestHandler):
    server_version = "docker-workshop"
    protocol_version = "HTTP/1.1"  # for curl's "Expect: 100-continue"; one request each
    timeout = 30  # seconds for each read or write; the Watchdog bounds the whole request

    # -- routes ---------------------------------------------------------------

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            self.database.run("SELECT 1")
            return self.reply(200, "ok")
        if url.path != "/":
            return self.reply(404, f"Not found: {url.path} (try / or /health)")
        wanted = self.page_wanted(url.query)
        if wanted is None:
            return
        limit, before = wanted
        # One row more than asked for tells whether an older page exists.
        rows = self.database.run(PAGE_SQL, before, limit + 1)
        headers, older = {}, None
        if len(rows) > limit:
            rows = rows[1:]
            older = f"/?limit={limit}&before={rows[0][0]}"
            headers["Link"] = f'<{older}>; rel="next"'  # RFC 8288, e.g. for `curl -i`
        accept = self.headers.get("Accept", "")
        if "application/json" in accept:
            messages = [{"id": i, "content": c, "created_at": t.isoformat()}
                        for i, c, t in rows]
            return self.reply(200, json.dumps(messages), "application/json", headers)
        if "text/html" in accept:
            return self.reply(200, page(rows, older), "text/html",
                              {**headers, **HTML_HEADERS})
        self.reply(200, "".join(f"{one_line(content)}\n" for _, content, _ in rows),
                   headers=headers, end="")

    do_HEAD = do_GET  # the same answer without its body (see reply)

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.method_not_allowed()
        if url.path != "/":
            return self.reply(404, f"Not found: {url.path} (POST to / instead)")
        length = self.accept_body()
        if length is None:
            return
        body = self.rfile.read(length)
        if not self.arrived():
            return
        if len(body) < length:
            return self.reply(400, f"The body ended after {len(body)} of {length} bytes.")
        from_form = url.query == "form"  # the HTML page's form posts to /?form
        try:
            message = body.decode("utf-8")
            if from_form:  # message=Hello+world: %-escapes must be UTF-8 too
                message = parse_qs(message, errors="strict").get("message", [""])[0]
        except UnicodeDecodeError:
            return self.reply(400, "The message is not valid UTF-8.")
        if not message.strip():
            return self.reply(400, "The message is empty: send some text, "
                                   'e.g. curl -XPOST http://localhost:8080 -d "Hello world"')
        if "\x00" in message:
            return self.reply(400, "The message contains a NUL character, "
                                   "which PostgreSQL text cannot store.")
        [(new_id,)] = self.database.run(INSERT_SQL, message, write=True)
        if from_form:  # send the browser back to the list
            return self.reply(303, "Stored: see /", headers={"Location": "/"})
        self.reply(201, f"Stored message {new_id}.")

    def method_not_allowed(self):
        path = urlsplit(self.path).path
        if path not in ("/", "/health"):
            return self.reply(404, f"Not found: {path} (try / or /health)")
        allowed = "GET, HEAD" if path == "/health" else "GET, HEAD, POST"
        self.reply(405, f"Method {self.command} is not allowed here; use {allowed}.",
                   headers={"Allow": allowed})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = method_not_allowed

    # -- checks on the request --------------------------------------------------

    def page_wanted(self, query):
        """(limit, before) from ?limit=N&before=ID, or None after answering 400."""
        params = parse_qs(query, keep_blank_values=True)
        limit = params.get("limit", [str(PAGE_SIZE)])[-1]
        before = params.get("before", [str(NEWEST)])[-1]
        if not re.fullmatch(r"[0-9]{1,4}", limit) or not 1 <= int(limit) <= MAX_PAGE_SIZE:
            self.reply(400, f"limit must be a number from 1 to {MAX_PAGE_SIZE}, not {limit}")
        elif not re.fullmatch(r"[0-9]{1,19}", before) or not 1 <= int(before) <= NEWEST:
            self.reply(400, f"before must be a message id, not {before}")
        else:
            return int(limit), int(before)
        return None

    def accept_body(self):
        """The length of the body if we take it. None after refusing it before reading
        any of it: a cross-site post, a missing, unclear or too large length."""
        lengths = self.headers.get_all("Content-Length") or []
        if self.cross_site():
            self.reply(403, "Refused: a page of another site made the browser post this. "
                            "Post from this server's own page, or with curl.")
        # Two ways to say where the body ends are one too many: a proxy in front could
        # pick the other one and see a second request in this one.
        elif self.headers.get("Transfer-Encoding") and lengths:
            self.reply(400, "Send either Content-Length or Transfer-Encoding, not both.")
        elif not lengths:
            self.reply(411, "Send the message with a Content-Length header.")
        elif len(lengths) > 1:
            self.reply(400, "Send one Content-Length header, not several.")
        elif not re.fullmatch(r"[0-9]+", lengths[0]):  # ASCII digits only, no "+5", "²"
            self.reply(400, f"Invalid Content-Length: {lengths[0]}")
        elif len(lengths[0]) > 18 or int(lengths[0]) > MAX_MESSAGE_BYTES:
            self.reply(413, f"A message may be {MAX_MESSAGE_BYTES} bytes at most.")
        else:
            return int(lengths[0])
        return None

    def cross_site(self):
        """True if a page of another site made a browser send this POST (CSRF).
        Browsers say where a request comes from; curl sends neither header."""
        site = self.headers.get("Sec-Fetch-Site")
        if site:
            return site not in ("same-origin", "none")  # "none": typed by the user
        origin = self.headers.get("Origin")
        return origin is not None and urlsplit(origin).netloc != self.headers.get("Host")

    def arrived(self):
        """The whole request is in. False, after answering, if the Watchdog cut it off."""
        if self.server.watchdog.arrived(self.connection):
            return True
        if self.server.watchdog.stopping:
            self.reply(503, "The server is stopping: try again in a moment.",
                       headers={"Retry-After": "1"})
        else:
            self.reply(408, f"The request did not arrive whole within {REQUEST_DEADLINE} s.")
        return False

    # -- plumbing -------------------------------------------------------------

    def setup(self):
        super().setup()
        self.server.watchdog.watch(self.connection)

    def finish(self):
        self.server.watchdog.forget(self.connection)
        super().finish()

    def handle_one_request(self):
        self.started = time.monotonic()
        self.request_version = "HTTP/1.1"  # how we answer a request too bad to say
        try:
            # Bytes that cannot start a request (e.g. a TLS handshake: https:// for this
            # http:// server) may never end a line: refuse them as they arrive.
            first = self.rfile.peek(1)[:20]  # what arrived so far, left to read
            if first and not REQUEST_START.match(first):
                self.command, self.requestline = None, one_line(first.decode("latin-1"))
                return self.reply(400, "Not an HTTP request (https:// instead of http://?)")
            super().handle_one_request()  # reads the request, calls do_GET, do_POST...
        except DatabaseDown as error:
            self.reply(503, str(error))

    def parse_request(self):
        # The request line is in. An HTTP/0.9 line ("GET /") or garbage would have the
        # stdlib wait for headers that never come: answer and close at once.
        if not REQUEST_LINE.fullmatch(self.raw_requestline):
            self.command, self.requestline = None, one_line(
                self.raw_requestline.decode("latin-1").rstrip("\r\n"))
            if self.arrived():
                self.reply(400, "Not an HTTP/1.0 or HTTP/1.1 request line.")
            return False
        if not super().parse_request():  # reads the headers; answered if they are bad
            return False
        return self.command == "POST" or self.arrived()  # do_POST reads the body first

    def handle_expect_100(self):
        # curl asks before it sends a larger body: say "go on" only if we will take it.
        if self.command == "POST" and self.accept_body() is None:
            return False
        return super().handle_expect_100()

    def send_error(self, code, message=None, explain=None):
        # The stdlib's own errors (request line or headers too long, bad version...):
        # plain text like ours, not its HTML page.
        self.reply(code, one_line(message or HTTPStatus(code).phrase))

    def version_string(self):
        return self.server_version  # not the stdlib's "Python/3.x.y" too

    def reply(self, status, text, content_type="text/plain", headers=None, end="\n"):
        body = (text + end).encode("utf-8")
        # The log line carries the reason of a 408 or 5xx: see log_request.
        self.detail = text if status >= 500 or status == 408 else ""
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")  # browsers: trust the type
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")  # one request per connection: simple
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        duration = (time.monotonic() - getattr(self, "started", time.monotonic())) * 1000
        request = f"{self.command} {one_line(self.path)}" if self.command else (
            self.requestline or "-")
        detail = f" - {one_line(self.detail)}" if getattr(self, "detail", "") else ""
        log(f"{request} {int(code)} {duration:.1f}ms{detail}")

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log(f"{self.client_address[0]}: {one_line(format % args)}")


class Server(ThreadingHTTPServer):
    """One thread per connection, MAX_CONNECTIONS at most."""
    daemon_threads = False  # on shutdown, let the requests in flight finish
    request_queue_size = 128  # connections waiting to be accepted (default: 5)

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.free = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.watchdog = Watchdog()

    def process_request(self, request, client_address):
        if self.free.acquire(blocking=False):
            return super().process_request(request, client_address)  # starts a thread
        # Full: answer in this thread, the one that accepts, and never block it.
        body = b"Too many connections: try again in a moment.\n"
        try:
            request.setblocking(False)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                            b"Content-Type: text/plain; charset=utf-8\r\n"
                            b"X-Content-Type-Options: nosniff\r\nConnection: close\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            pass  # the client is gone, or not reading: it is closed anyway
        self.shutdown_request(request)
        log(f"{client_address[0]}: 503 too many connections ({MAX_CONNECTIONS} open)")

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.free.release()

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client hung up, or was too slow to read
            return log(f"{client_address[0]}: {error}")
        # A bug: one line, with where it happened, rather than a traceback.
        where = traceback.extract_tb(error.__traceback__)[-1]
        log(f"{client_address[0]}: {type(error).__name__}: {one_line(str(error))} "
            f"({os.path.basename(where.filename)} line {where.lineno})")

    def stop(self):
        """Stop at once: no new connections, and the ones still sending their request
        are cut off. The requests being answered finish (see main)."""
        self.watchdog.stop()
        self.shutdown()


def page(rows, older=None):
    """The HTML page: the messages (escaped, never run as markup), a link to the older
    ones if there are, and a form."""
    items = "\n".join(f"<li>{html.escape(content)} <small>#{i}</small></li>"
                      for i, content, _ in rows)
    if older:
        older = f'<p><a rel="next" href="{html.escape(older)}">Older messages</a></p>\n'
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>docker-workshop</title></head>
<body><h1>Messages</h1>
<ul id="messages">
{items}
</ul>
{older or ""}<form method="post" action="/?form">
<input name="message" aria-label="message" required maxlength="10000">
<button type="submit">Post</button>
</form></body></html>"""


def main():
    help_lines = [f"  {name:18} {text} (default: {default})"
                  for name, (default, text) in SETTINGS.items()]
    argparse.ArgumentParser(
        description=__doc__.strip(),
        epilog="environment variables:\n" + "\n".join(help_lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args()
    config = read_settings(os.environ)

    Handler.database = Database(config)
    server = Server(("0.0.0.0", int(config["PORT"])), Handler)

    def stop(signum, frame):
        log(f"{signal.Signals(signum).name} received: stopping")
        # shutdown() waits for serve_forever(), which runs in this very thread.
        threading.Thread(target=server.stop).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"Serving on http://0.0.0.0:{config['PORT']} ({Handler.database.name})")
    server.serve_forever()
    server.server_close()  # waits for the requests in flight
    log("Stopped.")


if __name__ == "__main__":
    sys.exit(main())
