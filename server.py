#!/usr/bin/env python3
"""The workshop's message board: a small HTTP server that keeps messages in PostgreSQL.

    curl -XGET  http://localhost:8080                    # list the stored messages
    curl -XPOST http://localhost:8080 -d "Hello world"   # store one
    curl http://localhost:8080/health                    # 200 if the database answers

Open http://localhost:8080 in a browser for a page with a form. Every setting comes
from an environment variable: `python3 server.py --help` lists them.
"""

import argparse
import html
import json
import os
import queue
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import postgresql.driver
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


def read_settings(env):
    """The settings from the environment, with the defaults above."""
    config = {name: env.get(name) or default for name, (default, _) in SETTINGS.items()}
    if not env.get("POSTGRES_HOST") and env.get("POSTGRES_PORT_5432_TCP_ADDR"):
        config["POSTGRES_HOST"] = env["POSTGRES_PORT_5432_TCP_ADDR"]
    # `--link` also sets POSTGRES_PORT to an address such as tcp://172.17.0.2:5432.
    config["POSTGRES_PORT"] = config["POSTGRES_PORT"].rsplit(":", 1)[-1]
    return config


class DatabaseDown(Exception):
    """The database could not answer; the message says where we tried."""


class Database:
    """Opens connections on demand and keeps a few idle ones for the next requests.

    A connection is never shared by two threads at once. When the database went away,
    the broken connection is dropped and the next request connects again by itself.
    """

    def __init__(self, config):
        self.config = config
        self.where = f"{config['POSTGRES_HOST']}:{config['POSTGRES_PORT']}"
        self.idle = queue.LifoQueue(maxsize=8)

    def connect(self):
        return postgresql.driver.connect(  # not postgresql.open(): not thread-safe
            host=self.config["POSTGRES_HOST"], port=int(self.config["POSTGRES_PORT"]),
            database=self.config["POSTGRES_DB"], user=self.config["POSTGRES_USER"],
            password=self.config["POSTGRES_PASSWORD"], connect_timeout=5,
            # Debian's PostgreSQL turns TLS on with a self-signed certificate, which
            # py-postgresql rejects without falling back. The workshop's database
            # traffic stays inside the VM (loopback, Docker's bridge): no TLS.
            sslmode="disable",
        )

    def run(self, sql, *params):
        """Run one statement and return its rows, or raise DatabaseDown."""
        try:
            (connection, statements), reused = self.idle.get_nowait(), True
        except queue.Empty:
            (connection, statements), reused = (None, {}), False
        try:
            connection = connection or self.connect()
            if sql not in statements:  # prepare each statement once per connection
                statements[sql] = connection.prepare(sql)
            rows = statements[sql](*params)
        # Not only postgresql.exceptions.Error: on a connection the database closed,
        # py-postgresql can also fail with OSError or even ValueError.
        except Exception as error:
            if connection is not None:
                connection.close()
            if reused:  # it may have died with a database restart, and its idle
                self.drop_idle()  # siblings too: try once more on a new connection
                return self.run(sql, *params)
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DatabaseDown(f"database {self.config['POSTGRES_DB']} at {self.where} "
                               f"is not available: {reason}") from error
        try:
            self.idle.put_nowait((connection, statements))
        except queue.Full:
            connection.close()
        return rows

    def drop_idle(self):
        try:
            while True:
                self.idle.get_nowait()[0].close()
        except queue.Empty:
            pass


class Handler(BaseHTTPRequestHandler):
    server_version = "docker-workshop"
    protocol_version = "HTTP/1.1"  # for curl's "Expect: 100-continue"; one request each
    timeout = 30  # seconds a client may take to send its request

    # -- routes ---------------------------------------------------------------

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/health":
            self.database.run("SELECT 1")
            return self.reply(200, "ok")
        if path != "/":
            return self.reply(404, f"Not found: {path} (try / or /health)")
        rows = self.database.run(
            "SELECT id, content, created_at FROM messages ORDER BY id")
        accept = self.headers.get("Accept", "")
        if "application/json" in accept:
            messages = [{"id": i, "content": c, "created_at": t.isoformat()}
                        for i, c, t in rows]
            return self.reply(200, json.dumps(messages), "application/json")
        if "text/html" in accept:
            return self.reply(200, page(rows), "text/html")
        return self.reply(200, "".join(f"{content}\n" for _, content, _ in rows), end="")

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.method_not_allowed()
        if url.path != "/":
            return self.reply(404, f"Not found: {url.path} (POST to / instead)")
        if not self.length_is_acceptable():
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            message = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.reply(400, "The message is not valid UTF-8.")
        from_form = url.query == "form"  # the HTML page's form posts to /?form
        if from_form:
            message = parse_qs(message).get("message", [""])[0]
        if not message.strip():
            return self.reply(400, "The message is empty: send some text, "
                                   'e.g. curl -XPOST http://localhost:8080 -d "Hello world"')
        if "\x00" in message:
            return self.reply(400, "The message contains a NUL character, "
                                   "which PostgreSQL text cannot store.")
        [(new_id,)] = self.database.run(
            "INSERT INTO messages (content) VALUES ($1) RETURNING id", message)
        if from_form:  # send the browser back to the list
            return self.reply(303, "Stored: see /", headers={"Location": "/"})
        self.reply(201, f"Stored message {new_id}.")

    def length_is_acceptable(self):
        """Refuse a missing, invalid or too large body before reading any of it."""
        length = self.headers.get("Content-Length")
        if length is None:
            self.reply(411, "Send the message with a Content-Length header.")
        elif not length.isdigit():
            self.reply(400, f"Invalid Content-Length: {length}")
        elif int(length) > MAX_MESSAGE_BYTES:
            self.reply(413, f"A message may be {MAX_MESSAGE_BYTES} bytes at most.")
        else:
            return True
        return False

    def method_not_allowed(self):
        path = urlsplit(self.path).path
        if path not in ("/", "/health"):
            return self.reply(404, f"Not found: {path} (try / or /health)")
        allowed = "GET" if path == "/health" else "GET, POST"
        self.reply(405, f"Method {self.command} is not allowed here; use {allowed}.",
                   headers={"Allow": allowed})

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = method_not_allowed

    # -- plumbing -------------------------------------------------------------

    def handle_expect_100(self):
        # curl asks before it sends a larger body: say "go on" only if we will take it.
        if self.command == "POST" and not self.length_is_acceptable():
            return False
        return super().handle_expect_100()

    def handle_one_request(self):
        self.started = time.monotonic()
        try:
            super().handle_one_request()
        except DatabaseDown as error:
            self.reply(503, str(error))

    def reply(self, status, text, content_type="text/plain", headers=None, end="\n"):
        body = (text + end).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")  # one request per connection: simple
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        duration = (time.monotonic() - getattr(self, "started", time.monotonic())) * 1000
        request = f"{self.command} {self.path}" if self.command else self.requestline
        print(f"{request} {int(code)} {duration:.1f}ms", flush=True)

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # log_request above writes the one line per request


class Server(ThreadingHTTPServer):
    """One thread per request."""
    daemon_threads = False  # on shutdown, let the requests in flight finish
    request_queue_size = 128  # connections waiting to be accepted (default: 5)

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # the client hung up: no traceback
            print(f"{client_address[0]}: {error}", flush=True)
        else:
            super().handle_error(request, client_address)


def page(rows):
    """The HTML page: the messages (escaped, never run as markup) and a form."""
    items = "\n".join(f"<li>{html.escape(content)} <small>#{i}</small></li>"
                      for i, content, _ in rows)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>docker-workshop</title></head>
<body><h1>Messages</h1>
<ul id="messages">
{items}
</ul>
<form method="post" action="/?form">
<input name="message" aria-label="message" required maxlength="10000">
<button type="submit">Post</button>
</form></body></html>"""


def main():
    help_lines = [f"  {name:18} {text} (default: {default})"
                  for name, (default, text) in SETTINGS.items()]
    argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0],
        epilog="environment variables:\n" + "\n".join(help_lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args()
    config = read_settings(os.environ)

    Handler.database = Database(config)
    server = Server(("0.0.0.0", int(config["PORT"])), Handler)

    def stop(signum, frame):
        print(f"{signal.Signals(signum).name} received: stopping", flush=True)
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Serving on http://0.0.0.0:{config['PORT']} "
          f"(database {config['POSTGRES_DB']} at {Handler.database.where})", flush=True)
    server.serve_forever()
    server.server_close()  # waits for the requests in flight
    print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
