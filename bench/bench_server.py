#!/usr/bin/env python3
"""server.py against its ceiling: the same SQL run straight by pgbench.

On one machine, in one run: a throwaway PostgreSQL with 100 stored messages,
server.py loaded by wrk (GET and POST, 32 connections), then pgbench running the
statements server.py runs, on the same database with 32 clients. Prints throughput,
p99 latency and the ratio server/pgbench. Run it as root with the test venv:
    .venv/bin/python bench/bench_server.py [seconds per run, default 10]
"""

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
SELECT = "SELECT id, content, created_at FROM messages ORDER BY id"
INSERT = "INSERT INTO messages (content) VALUES ('bench message') RETURNING id"


def wrk(url, script=None):
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


def main():
    pg = Cluster()
    pg.start()
    server = None
    try:
        pg.create_workshop_db()
        pg.psql("-c", "INSERT INTO messages (content) SELECT 'message ' || n "
                "FROM generate_series(1, 97) n", S["DB_NAME"])  # + 3 fixtures = 100
        port = free_port()
        env = {**pg.server_env(), "PORT": str(port), "PATH": "/usr/bin:/bin"}
        server = subprocess.Popen([sys.executable, str(PROJECT / "server.py")], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        url = f"http://127.0.0.1:{port}/"
        with tempfile.TemporaryDirectory() as workdir:
            post_script = Path(workdir) / "post.lua"
            post_script.write_text('wrk.method = "POST"\nwrk.body = "bench message"\n')
            results = {
                "GET (100 messages)": (wrk(url), pgbench(pg, SELECT, workdir)),
                "POST": (wrk(url, str(post_script)), pgbench(pg, INSERT, workdir)),
            }
        print(f"{CONNECTIONS} connections, {SECONDS} s per run\n")
        print(f"{'':20} {'server req/s':>12} {'p99 ms':>8} {'pgbench tps':>12} "
              f"{'p99 ms':>8} {'ratio':>6}")
        for name, ((rate, p99, errors), (tps, pg_p99)) in results.items():
            print(f"{name:20} {rate:12.0f} {p99:8.1f} {tps:12.0f} {pg_p99:8.1f} "
                  f"{rate / tps:6.2f}" + (f"  ({errors} non-2xx!)" if errors else ""))
    finally:
        if server:
            server.terminate()
            server.wait()
        pg.destroy()


if __name__ == "__main__":
    main()
