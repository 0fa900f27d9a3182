"""A tiny round-robin load balancer for step 7, standard library only.

It resolves BACKEND's host name on every request (Docker's DNS answers with one
address per container or Swarm task), sends the request to the next address in
turn, and adds an `X-Backend` header saying which one answered.
    BACKEND=web:8080 python lb.py        # listens on 0.0.0.0:$PORT (8080)
"""

import http.client
import itertools
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST, _, BACKEND_PORT = os.environ.get("BACKEND", "web:8080").rpartition(":")
turn = itertools.count()


def backends():
    """Every address the name resolves to right now, sorted, so turns are fair."""
    infos = socket.getaddrinfo(HOST, BACKEND_PORT, socket.AF_INET, socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


class Proxy(BaseHTTPRequestHandler):
    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            addresses = backends()
            address = addresses[next(turn) % len(addresses)]
            upstream = http.client.HTTPConnection(address, int(BACKEND_PORT), timeout=10)
            upstream.request(self.command, self.path, body, dict(self.headers))
            answer = upstream.getresponse()
            status, headers, payload = answer.status, answer.getheaders(), answer.read()
        except OSError as error:
            address, status, headers = "-", 502, []
            payload = f"no backend answered for {HOST}:{BACKEND_PORT}: {error}\n".encode()
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(name, value)
        self.send_header("X-Backend", address)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = forward


if __name__ == "__main__":
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Proxy)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop at once, exit status 0
    print(f"load balancer on :{server.server_port} -> {HOST}:{BACKEND_PORT}", flush=True)
    server.serve_forever()
