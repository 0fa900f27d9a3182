#!/usr/bin/env python3
"""The room view (tests/steps/room.py): what the standard library's server holds, what a
room that does not answer costs a check, and a screenshot of the page with 30 learners.

On this machine, on 127.0.0.1, with the real `workshop room` (its rate bounds lifted):
1. reports/s: CLIENTS threads, each one learner, POST reports as fast as the room answers
   (a new connection each, as `workshop check` does), for SECONDS seconds;
2. GET /api/room with 30 learners (what the page asks every 2 s): its size and median time;
3. room.report() to a room that accepts and never answers, and to a closed port: the
   longest of 5 tries each (what a learner's check waits, at most);
4. bench/room-30.png: the page in headless Chromium, 30 learners (test_room.fill_room).
Run it with the test venv:
    .venv/bin/python bench/bench_room.py [seconds, default 5]
"""

import contextlib
import http.client
import io
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "steps"), str(TESTS / "steps_meta")]
from test_room import RoomProcess, chromium, fill_room, rows  # noqa: E402

import room as client  # noqa: E402
from settings import PROJECT  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 5
CLIENTS = 8


def post(port, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/api/report", json.dumps(body),
                       {"Content-Type": "application/json"})
    return connection.getresponse().status


def reports_per_second(room):
    counts = [0] * CLIENTS
    end = time.monotonic() + SECONDS

    def learner(n):
        body = {"code": room.code, "name": f"bench-{n}", "key": "5eed" * 4, "step": 0,
                "passed": False,
                "failing": "", "done": []}
        while time.monotonic() < end:
            body["step"] = (body["step"] + 1) % 9
            counts[n] += post(room.port, body) == 200

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / SECONDS


def view_time(room):
    times, size = [], 0
    for _ in range(50):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", room.port, timeout=10)
        connection.request("GET", "/api/room")
        size = len(connection.getresponse().read())
        times.append(time.perf_counter() - start)
    return size, statistics.median(times)


def down_cost(tmp):
    silent, closed = socket.socket(), socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    closed.bind(("127.0.0.1", 0))
    costs = {}
    for what, sock in [("accepts, never answers", silent), ("closed port", closed)]:
        joined = {"address": f"http://127.0.0.1:{sock.getsockname()[1]}", "code": "X",
                  "name": "bench", "key": "5eed" * 4}
        (Path(tmp) / "room-joined.json").write_text(json.dumps(joined))
        times = []
        for _ in range(5):
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # its one line, each time
                client.report(tmp, 0, True, "", [0])
            times.append(time.perf_counter() - start)
        costs[what] = max(times)
    silent.close()
    closed.close()
    return costs


def main():
    with tempfile.TemporaryDirectory() as tmp:
        room = RoomProcess(PROJECT, Path(tmp), "--rate", "1000000", "--rate-all", "1000000")
        try:
            print(f"reports/s, {CLIENTS} clients, {SECONDS:g} s: {reports_per_second(room):.0f}")
        finally:
            room.stop()
    with tempfile.TemporaryDirectory() as tmp:
        room = RoomProcess(PROJECT, Path(tmp))
        try:
            fill_room(room)
            size, median = view_time(room)
            print(f"GET /api/room, 30 learners: {size} bytes, median {median * 1000:.1f} ms")
            browser = chromium()
            try:
                browser.get(f"http://127.0.0.1:{room.port}/")
                from selenium.webdriver.support.ui import WebDriverWait

                WebDriverWait(browser, 10).until(lambda b: len(rows(b)) == 30)
                target = Path(__file__).resolve().parent / "room-30.png"
                browser.save_screenshot(str(target))
                print(f"screenshot: {target.relative_to(PROJECT)}")
            finally:
                browser.quit()
        finally:
            room.stop()
    with tempfile.TemporaryDirectory() as tmp:
        for what, cost in down_cost(tmp).items():
            print(f"a check's wait for a room that does not answer ({what}): {cost:.3f} s")


if __name__ == "__main__":
    main()
