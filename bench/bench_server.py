#!/usr/bin/env python3
"""server.py: where the time goes (HTTP, driver, PostgreSQL), and GET as the table grows.

On one machine, in one run, against a throwaway PostgreSQL:
1. wrk (32 connections) on a route of server.py that never touches the database (a
   404): the HTTP ceiling of Python's http.server here; then GET / (a page of 100) and
   POST /; then pgbench running the same SQL with 32 clients: PostgreSQL's ceiling.
   Between the two ceilings is the driver and server.py's own work.
2. GET / with 100, 100,000 and 1,000,000 stored messages: wrk's throughput and p99, the
   median of 200 requests one at a time, and the server's peak memory (a fresh server
   for each size). The goal is flat: GET reads one page, however long the table.
Run it as root with the test venv:
    .venv/bin/python bench/bench_server.py [seconds per run, default 10]
"""

import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pg import Cluster, free_port  # noqa: E402
from settings import PROJECT, S  # noqa: E402

SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
CONNECTIONS = 32
# What server.py runs for GET / (its PAGE_SQL, with no ?before= and the default limit)
# and for POST /.
PAGE = ("SELECT id, content, created_at FROM (SELECT id, content, created_at FROM messages "
        "WHERE id < 9223372036854775807 ORDER BY id DESC LIMIT 101) AS page ORDER BY id")
INSERT = "INSERT INTO messages (content) VALUES ('bench message') RETURNING id"


def wrk(url, script=None):
    """(requests/s, p99 ms, answers that were not 2xx or 3xx)."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0


def pgbench(pg, sql, workdir):
    """(transactions/s, p99 ms) of `sql`, prepared, with CONNECTIONS clients."""
    script = Path(workdir) / "script.sql"
    script.write_text(sql + ";\n")
    prefix = Path(workdir) / "log"
    out = subprocess.run(
        ["pgbench", "-n", "-h", "127.0.0.1", "-p", str(pg.port), "-U", S["DB_USER"],
         "-M", "prepared", "-c", str(CONNECTIONS), "-j", "2", "-T", str(SECONDS),
         "-f", str(script), "-l", "--log-prefix", str(prefix), S["DB_NAME"]],
        env={"PGPASSWORD": S["DB_PASSWORD"], "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True, cwd=workdir).stdout
    rate = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latencies = [int(line.split()[2]) / 1000 for log in Path(workdir).glob("log*")
                 for line in log.read_text().splitlines()]
    for log in Path(workdir).glob("log*"):
        log.unlink()
    return rate, statistics.quantiles(latencies, n=100)[98]


def one_at_a_time(port, count=200):
    """Median milliseconds of GET / sent one after the other (no load)."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/")
        answer = connection.getresponse()
        answer.read()
        connection.close()
        assert answer.status == 200, answer.status
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def peak_memory_mib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) / 1024


class Server:
    """server.py as a process, on a free port, pointed at `pg`."""

    def __init__(self, pg):
        self.port = free_port()
        env = {**pg.server_env(), "PORT": str(self.port), "PATH": "/usr/bin:/bin"}
        self.process = subprocess.Popen([sys.executable, str(PROJECT / "server.py")],
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        time.sleep(1)
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self):
        self.process.terminate()
        self.process.wait()


def fill(pg, total):
    """Store messages until the table holds `total` (the 3 fixtures count)."""
    pg.psql("-c", "INSERT INTO messages (content) SELECT 'message ' || n FROM "
            f"generate_series(1, {total} - (SELECT count(*) FROM messages)) n",
            "-c", "VACUUM ANALYZE messages", S["DB_NAME"])


def main():
    pg = Cluster()
    pg.start()
    server = None
    try:
        pg.create_workshop_db()
        fill(pg, 100)
        with tempfile.TemporaryDirectory() as workdir:
            post_script = Path(workdir) / "post.lua"
            post_script.write_text('wrk.method = "POST"\nwrk.body = "bench message"\n')
            server = Server(pg)
            where = {
                "HTTP only (404, no database)": (wrk(server.url + "no-database"), None),
                "GET / (a page of 100)": (wrk(server.url), pgbench(pg, PAGE, workdir)),
            }
            server.stop()
            sizes = {}
            for total in (100, 100_000, 1_000_000):
                fill(pg, total)
                server = Server(pg)
                sizes[total] = (wrk(server.url), one_at_a_time(server.port),
                                peak_memory_mib(server.process.pid))
                server.stop()
            server = Server(pg)  # POST last: it adds rows
            where["POST /"] = (wrk(server.url, str(post_script)), pgbench(pg, INSERT, workdir))
        print(f"{CONNECTIONS} connections, {SECONDS} s per run\n")
        print(f"{'':30} {'server req/s':>12} {'p99 ms':>8} {'pgbench tps':>12} {'p99 ms':>8}")
        for name, ((rate, p99, errors), ceiling) in where.items():
            line = f"{name:30} {rate:12.0f} {p99:8.1f}"
            if ceiling:
                line += f" {ceiling[0]:12.0f} {ceiling[1]:8.1f}"
            non_2xx = errors and "404" not in name
            print(line + (f"  ({errors} non-2xx!)" if non_2xx else ""))
        print(f"\n{'GET / with':30} {'req/s':>8} {'p99 ms':>8} {'one-by-one ms':>14} "
              f"{'peak MiB':>9}")
        for total, ((rate, p99, errors), alone, memory) in sizes.items():
            print(f"{f'{total:,} messages':30} {rate:8.0f} {p99:8.1f} {alone:14.2f} "
                  f"{memory:9.1f}" + (f"  ({errors} non-2xx!)" if errors else ""))
    finally:
        if server:
            server.stop()
        pg.destroy()


if __name__ == "__main__":
    main()
