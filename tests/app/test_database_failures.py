"""When the database fails: no write stored twice, the database's own reason in the 503
and in the log, one log line per event and never a driver traceback."""

import re
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import Proxy, load_server_module, query
from pg import BIN
from settings import S

APP = load_server_module()
# Every line server.py logs: a request, a client's event, or the start and the stop.
LOG_LINE = re.compile(r"[A-Z]+ \S+ \d{3} \d+\.\dms( - .+)?|\d+\.\d+\.\d+\.\d+: .+|"
                      r"PostgreSQL [A-Z]+: .+|Serving on .+|SIG[A-Z]+ received: stopping|"
                      r"Stopped\.")


def count(cluster, content):
    return query(cluster, "SELECT count(*) FROM messages WHERE content = %s", content)[0][0]


def assert_one_line_per_event(output):
    for line in output.splitlines():
        assert LOG_LINE.fullmatch(line), f"not a log line of server.py: {line!r}\n{output}"


@pytest.mark.parametrize("mode", ["drop", "hold"])
def test_a_lost_reply_to_an_insert_is_a_503_and_the_message_is_stored_once(
        cluster, start_server, mode):
    """PostgreSQL stores the INSERT, but its reply never reaches server.py: with
    "drop" the connection closes, with "hold" it stays silent (DATABASE_TIMEOUT)."""
    tag = f"lost reply {uuid.uuid4()}"
    proxy = Proxy(cluster.port, tag.encode(), mode=mode)
    try:
        server = start_server(proxy.env(cluster.server_env()))
        assert server.request("GET", "/health").status == 200  # a kept connection now
        answer = server.post(tag, timeout=APP.DATABASE_TIMEOUT + 10)
        assert proxy.lost_replies == 1  # sent once, not retried
        assert answer.status == 503
        assert "may or may not be stored" in answer.text
        assert count(cluster, tag) == 1
        # The next requests work: a new connection.
        assert server.request("GET", "/health").status == 200
        assert server.stored_id(server.post(f"after a lost reply {uuid.uuid4()}"))
        server.stop()
        assert_one_line_per_event(server.output())
        assert re.search(r"^POST / 503 .* - database .* did not confirm the write",
                         server.output(), re.M)
    finally:
        proxy.close()


def test_a_post_after_a_database_restart_is_stored_without_error(own_cluster, start_server):
    # The kept connections died with the restart; they are noticed before the INSERT.
    server = start_server(own_cluster.server_env())
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: server.request("GET", "/"), range(8)))
    own_cluster.stop()
    own_cluster.start()
    tags = [f"after restart {n} {uuid.uuid4()}" for n in range(5)]
    assert [server.post(tag).status for tag in tags] == [201] * 5
    assert [count(own_cluster, tag) for tag in tags] == [1] * 5


@pytest.mark.parametrize("setting, value, reason", [
    ("POSTGRES_PASSWORD", "wrong-password",
     f'password authentication failed for user "{S["DB_USER"]}"'),
    ("POSTGRES_USER", "nobody", 'password authentication failed for user "nobody"'),
    ("POSTGRES_DB", "no_such_db", 'database "no_such_db" does not exist'),
])
def test_the_503_and_the_log_say_why_in_the_database_own_words(
        cluster, start_server, setting, value, reason):
    server = start_server({**cluster.server_env(), setting: value})
    for path in ["/health", "/"]:
        done = subprocess.run(["curl", "-s", f"http://localhost:{server.port}{path}"],
                              capture_output=True, text=True, check=True)
        assert reason in done.stdout, done.stdout
        assert done.stdout.count("\n") == 1  # one line
    posted = subprocess.run(["curl", "-s", "-XPOST", f"http://localhost:{server.port}",
                             "-d", "Hello world"], capture_output=True, text=True, check=True)
    assert reason in posted.stdout and "is not available" in posted.stdout  # never stored
    server.stop()
    output = server.output()
    assert_one_line_per_event(output)
    for request in ["GET /health", "GET /", "POST /"]:
        assert re.search(rf"^{request} 503 \d+\.\dms - .*{re.escape(reason)}$", output, re.M)


def test_the_database_going_away_under_load_logs_one_line_per_event(own_cluster, start_server):
    server = start_server(own_cluster.server_env())
    stop = threading.Event()

    def client(n):
        while not stop.is_set():
            try:
                server.post(f"load {n}", timeout=15) if n % 2 else server.request("GET", "/")
            except OSError:
                pass

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        own_cluster.as_postgres(BIN / "pg_ctl", "-D", own_cluster.data, "-m", "immediate",
                                "-w", "stop")  # as a killed container: no goodbye
        time.sleep(1)
        own_cluster.start()
        time.sleep(1)
        own_cluster.stop()  # fast: connections get "terminating connection"
        own_cluster.start()
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert server.request("GET", "/health").status == 200
    server.stop()
    output = server.output()
    assert_one_line_per_event(output)
    assert "Traceback" not in output
    assert re.search(r"^\S+ / 503 .*is not available", output, re.M)  # it did fail meanwhile
