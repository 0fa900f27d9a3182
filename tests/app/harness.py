"""Helpers for the app tests: read the database directly, and run server.py as a process."""

import ast
import contextlib
import email.message
import http.client
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2

from pg import free_port
from settings import PROJECT, S


def load_server_module():
    """server.py as a module, for its constants (MAX_CONNECTIONS...): one source."""
    spec = importlib.util.spec_from_file_location("server_under_test", PROJECT / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def query(pg, sql, *params):
    """Read the database directly (psycopg2), not through the server under test."""
    with psycopg2.connect(host="127.0.0.1", port=pg.port, dbname=S["DB_NAME"],
                          user=S["DB_USER"], password=S["DB_PASSWORD"]) as conn:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


def unescape(line):
    """A line of the text list back to the message: its escapes are Python's."""
    return ast.literal_eval('"' + line.replace('"', '\\"') + '"')


def exchange(port, data, timeout=15):
    """Send raw bytes, read until the server closes: (what came back, seconds it took)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - started


def parse(raw):
    """A raw HTTP/1.1 answer as a Response (headers as a case-insensitive Message)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = email.message.Message()
    for line in lines:
        name, _, value = line.partition(":")
        headers[name] = value.strip()
    return Response(int(status_line.split()[1]), headers, body)


def process_usage(pid):
    """(threads, resident memory in MiB) of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    rss_kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
    return threads, rss_kib / 1024


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.text = body.decode("utf-8", "replace")


class Server:
    """server.py running as a real process on a free port."""

    def __init__(self, env):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="server-", suffix=".log")
        self.process = subprocess.Popen(
            [sys.executable, str(PROJECT / "server.py")],
            env={"PATH": os.environ["PATH"], **env, "PORT": str(self.port)},
            stdout=self.log, stderr=subprocess.STDOUT)
        # Ready once it says so: it listens a moment before its signal handlers are in
        # place, and a SIGINT in that moment would kill it instead of stopping it.
        deadline = time.monotonic() + 15
        while "Serving on " not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server.py did not start:\n{self.output()}")
            time.sleep(0.05)

    def request(self, method="GET", path="/", body=None, headers=None, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            return Response(answer.status, answer.headers, answer.read())
        finally:
            conn.close()

    def post(self, message, **kwargs):
        body = message.encode("utf-8") if isinstance(message, str) else message
        return self.request("POST", "/", body=body, **kwargs)

    def stored_id(self, response):
        assert response.status == 201, response.text
        return int(re.search(r"\d+", response.text).group())

    def output(self):
        with open(self.log.name) as log:
            return log.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class Proxy:
    """A TCP proxy between server.py and PostgreSQL that loses replies on purpose.

    Everything is forwarded, until the server sends a message with `marker` in it (the
    INSERT's parameter): that message still reaches PostgreSQL, which runs it, but its
    reply never comes back. mode "drop": the proxy then closes the connection;
    "hold": it keeps it open and silent; "delay": the reply comes `delay` s late.
    """

    def __init__(self, target_port, marker, mode="drop", delay=1.0):
        self.target_port, self.marker, self.mode, self.delay = target_port, marker, mode, delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets, self.lost_replies = [], 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            marked = threading.Event()
            threading.Thread(target=self.pump, args=(client, upstream, marked, True),
                             daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, marked, False),
                             daemon=True).start()

    def pump(self, source, destination, marked, to_database):
        reply = b""
        try:
            while data := source.recv(65536):
                if to_database:
                    if self.marker in data:
                        marked.set()
                    destination.sendall(data)
                elif not marked.is_set():
                    destination.sendall(data)
                else:  # the reply to the marked statement
                    reply += data
                    if b"Z\x00\x00\x00\x05" not in reply:  # ReadyForQuery: it is done
                        continue
                    self.lost_replies += self.mode != "delay"
                    if self.mode == "drop":
                        break
                    if self.mode == "delay":
                        time.sleep(self.delay)
                        destination.sendall(reply)
                        marked.clear()
                    reply = b""
        except OSError:
            pass
        for sock in (source, destination):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self):
        self.listener.close()
        for sock in self.sockets:
            sock.close()

    def env(self, env):
        """server.py's environment with the database reached through this proxy."""
        return {**env, "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.port)}
