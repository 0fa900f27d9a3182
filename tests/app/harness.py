"""Helpers for the app tests: read the database directly, and run server.py as a process."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import psycopg2

from pg import free_port
from settings import PROJECT, S


def query(pg, sql, *params):
    """Read the database directly (psycopg2), not through the server under test."""
    with psycopg2.connect(host="127.0.0.1", port=pg.port, dbname=S["DB_NAME"],
                          user=S["DB_USER"], password=S["DB_PASSWORD"]) as conn:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


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
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server.py did not start:\n{self.output()}") from None
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
