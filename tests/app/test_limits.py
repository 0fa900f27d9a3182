"""Bounded work under bad clients: a deadline for the whole request, a cap on
connections (and so on threads and memory), a bounded pool of database connections,
and a quick, clean stop."""

import re
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import Proxy, exchange, load_server_module, parse, process_usage, query

APP = load_server_module()  # server.py's own limits


def count(cluster, content):
    return query(cluster, "SELECT count(*) FROM messages WHERE content = %s", content)[0][0]


def trickle(port, head, piece, seconds=25, every=0.5):
    """Send `head`, then `piece` every `every` s: each read is quick, the request never
    ends. Returns what the server answered and when it closed, or fails after `seconds`."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        sock.settimeout(every)
        answer = b""
        while time.monotonic() - started < seconds:
            try:
                sock.send(piece)
            except OSError:
                pass  # the server no longer reads: wait for its answer
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                return answer, time.monotonic() - started
            answer += chunk
    raise AssertionError(f"still open after {seconds} s; got {answer!r}")


@pytest.mark.parametrize("head, piece", [
    (b"GET / HTTP/1.1\r\nHost: x\r\n", b"X: y\r\n"),  # headers that never end
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", b"a"),  # a slow body
    (b"GET / HTTP/1.", b"1"),  # a request line that never ends... almost
])
def test_a_trickling_client_is_cut_off_at_the_deadline_with_408(server, cluster, head, piece):
    answer, seconds = trickle(server.port, head, piece)
    answer = parse(answer)
    assert answer.status == 408
    assert f"within {APP.REQUEST_DEADLINE} s" in answer.text
    assert seconds >= APP.REQUEST_DEADLINE - 1  # the deadline, not earlier
    assert count(cluster, "a" * 5000) == 0
    assert re.search(r"^[A-Z]+ .* 408 \d+\.\dms - The request did not arrive whole",
                     server.output(), re.M)


def test_a_burst_of_idle_sockets_is_capped_then_released(server):
    threads_before, memory_before = process_usage(server.process.pid)
    idle = []
    try:
        for _ in range(APP.MAX_CONNECTIONS * 4):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(1)  # let the server accept them all
        threads, memory = process_usage(server.process.pid)
        assert threads <= threads_before + APP.MAX_CONNECTIONS
        assert memory < memory_before + 50  # MiB
        # Past the cap: a 503 at once, with Retry-After, and closed.
        answer, seconds = exchange(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = parse(answer)
        assert answer.status == 503 and answer.headers["Retry-After"] == "1"
        assert "Too many connections" in answer.text
        refused = parse(b"".join(iter(lambda: idle[-1].recv(65536), b"")))
        assert refused.status == 503  # the last idle ones were refused the same way
        # The ones that got a thread are closed at the deadline; the server serves again.
        idle[0].settimeout(APP.REQUEST_DEADLINE + 5)
        assert idle[0].recv(65536) == b""
        time.sleep(1)
        assert server.request("GET", "/health").status == 200
        assert process_usage(server.process.pid)[0] <= threads_before + 2
    finally:
        for sock in idle:
            sock.close()


def test_the_database_sees_at_most_pool_size_connections(cluster, start_server):
    proxy = Proxy(cluster.port, marker=b"never sent")  # counts connections, loses nothing
    try:
        server = start_server(proxy.env(cluster.server_env()))
        tag = uuid.uuid4().hex
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(
                lambda n: server.post(f"{tag} {n}") if n % 2 else server.request("GET", "/"),
                range(100)))
        assert {answer.status for answer in answers} == {200, 201}
        assert 1 <= len(proxy.sockets) // 2 <= APP.POOL_SIZE
    finally:
        proxy.close()


def test_sigterm_stops_at_once_with_idle_and_half_sent_connections(cluster, start_server):
    """docker stop: SIGTERM, then SIGKILL after 10 s. Requests being answered finish."""
    tag = f"in flight {uuid.uuid4()}"
    proxy = Proxy(cluster.port, tag.encode(), mode="delay", delay=1.5)  # a slow INSERT
    server = start_server(proxy.env(cluster.server_env()))
    try:
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
        half = socket.create_connection(("127.0.0.1", server.port))
        half.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf a bo")
        in_flight = {}
        poster = threading.Thread(target=lambda: in_flight.update(answer=server.post(tag)))
        poster.start()
        time.sleep(0.5)  # the INSERT is at the database, its answer delayed
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=5)  # not the 10 s REQUEST_DEADLINE, nor 27 s as before
        stopped_after = time.monotonic() - started
        poster.join()
        assert server.process.returncode == 0
        assert stopped_after < 4
        assert in_flight["answer"].status == 201  # answered, and stored once
        assert count(cluster, tag) == 1
        cut = parse(b"".join(iter(lambda: half.recv(65536), b"")))
        assert cut.status == 503 and "stopping" in cut.text
        for sock in idle:
            sock.settimeout(5)
            assert sock.recv(65536) == b""  # closed, nothing to say to them
        assert server.output().rstrip().endswith("Stopped.")
    finally:
        proxy.close()
