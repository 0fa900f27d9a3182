"""server.py's HTTP behaviour, spoken to over real sockets, on a real PostgreSQL."""

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from harness import query, unescape
from settings import PROJECT, S

LIMIT = 64 * 1024


def unique(text="message"):
    return f"{text} {uuid.uuid4()}"


def one_line(response):
    """Every error is one clear line of text."""
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.endswith("\n") and response.text.count("\n") == 1, response.text
    assert response.text.strip()


# -- GET ----------------------------------------------------------------------


def test_get_lists_the_newest_messages_oldest_first_one_per_line(server, cluster):
    first, second = unique("first"), unique("second")
    server.post(first)
    server.post(second)
    answer = server.request("GET", "/")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    newest = query(cluster, "SELECT content FROM messages ORDER BY id DESC LIMIT 100")
    expected = [content for (content,) in reversed(newest)]
    assert answer.text.endswith("\n")
    assert [unescape(line) for line in answer.text.split("\n")[:-1]] == expected
    assert expected[-2:] == [first, second]  # what you just posted is last


def test_get_on_a_new_database_lists_the_fixtures(own_cluster, start_server):
    answer = start_server(own_cluster.server_env()).request("GET", "/")
    assert answer.text.splitlines()[0] == "Welcome to the Docker workshop!"  # from sql/
    assert "Link" not in answer.headers  # nothing older


def test_get_with_accept_json_gives_id_content_created_at(server):
    content = unique("json")
    new_id = server.stored_id(server.post(content))
    answer = server.request("GET", "/", headers={"Accept": "application/json"})
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    messages = json.loads(answer.text)
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)
    [mine] = [m for m in messages if m["id"] == new_id]
    assert mine["content"] == content
    assert datetime.fromisoformat(mine["created_at"]).tzinfo is not None


def test_get_with_accept_html_escapes_content(server):
    server.post("<script>alert('x')</script> & <b>bold</b>")
    answer = server.request("GET", "/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in answer.text
    assert "<script>" not in answer.text
    assert '<form method="post"' in answer.text


# -- POST ---------------------------------------------------------------------


def test_post_stores_the_body_and_answers_201_with_the_id(server, cluster):
    content = unique("hello")
    answer = server.post(content)
    assert answer.status == 201
    new_id = server.stored_id(answer)
    assert query(cluster, "SELECT content FROM messages WHERE id = %s", new_id) == [(content,)]


def test_post_with_curl_exactly_as_the_workshop_types_it(server, cluster):
    # curl -d labels the body application/x-www-form-urlencoded: it is still the message.
    content = unique("Hello world & more=stuff")
    done = subprocess.run(["curl", "-s", "-XPOST", f"http://localhost:{server.port}",
                           "-d", content], capture_output=True, text=True, check=True)
    new_id = int(re.search(r"\d+", done.stdout).group())
    assert query(cluster, "SELECT content FROM messages WHERE id = %s", new_id) == [(content,)]
    listing = subprocess.run(["curl", "-s", "-XGET", f"http://localhost:{server.port}"],
                             capture_output=True, text=True, check=True).stdout
    assert content in listing.splitlines()


def test_post_from_the_html_form_stores_the_field_and_redirects(server, cluster):
    content = unique("from the form")
    answer = server.request(
        "POST", "/?form", body=f"message={content.replace(' ', '+')}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 303 and answer.headers["Location"] == "/"
    assert query(cluster, "SELECT count(*) FROM messages WHERE content = %s", content) == [(1,)]


def test_post_quotes_and_sql_are_stored_as_text(server, cluster):
    content = "Robert'); DROP TABLE messages; --"
    new_id = server.stored_id(server.post(content))
    assert query(cluster, "SELECT content FROM messages WHERE id = %s", new_id) == [(content,)]


def count(cluster):
    return query(cluster, "SELECT count(*) FROM messages")[0][0]


def test_empty_or_whitespace_body_is_400_and_stores_nothing(server, cluster):
    before = count(cluster)
    for body in ["", "   ", "\n\t \r\n", "\u3000"]:
        answer = server.post(body)
        assert answer.status == 400, body
        one_line(answer)
    form = server.request("POST", "/?form", body=b"message=+++")
    assert form.status == 400
    assert count(cluster) == before


def test_body_over_64_kib_is_413_without_reading_the_rest(server, cluster):
    before = count(cluster)
    # Announce 10 MB but send none of it: a server that read the body would hang here.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        answer = read_until_closed(sock)
    assert answer.startswith("HTTP/1.1 413"), answer
    assert f"{LIMIT} bytes at most" in answer
    assert count(cluster) == before


def read_until_closed(sock):
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_curl_with_a_large_body_is_refused_before_sending_it(server, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"a" * (LIMIT + 1))
    done = subprocess.run(
        ["curl", "-s", "-v", "-XPOST", f"http://localhost:{server.port}",
         "--data-binary", f"@{big}"], capture_output=True, text=True, check=True)
    assert "HTTP/1.1 413" in done.stderr
    assert "100 Continue" not in done.stderr  # refused before curl sent the body


def test_exactly_64_kib_of_multibyte_text_is_accepted(server, cluster):
    content = "é" * (LIMIT // 2)  # two bytes each: exactly the limit
    new_id = server.stored_id(server.post(content))
    assert query(cluster, "SELECT content FROM messages WHERE id = %s", new_id) == [(content,)]
    assert server.post(content + "x").status == 413


def test_invalid_utf8_is_400_and_stores_nothing(server, cluster):
    before = count(cluster)
    answer = server.post(b"caf\xe9 \xff")
    assert answer.status == 400
    assert "UTF-8" in answer.text
    one_line(answer)
    assert count(cluster) == before


def test_nul_character_is_400_with_the_reason(server, cluster):
    before = count(cluster)
    answer = server.post("a\x00b")
    assert answer.status == 400 and "NUL" in answer.text
    assert count(cluster) == before


def test_missing_or_invalid_content_length(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until_closed(sock).startswith("HTTP/1.1 411")
    answer = server.request("POST", "/", headers={"Content-Length": "-3"})
    assert answer.status == 400 and "Content-Length" in answer.text


def test_other_methods_are_405_with_allow(server):
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"]:
        answer = server.request(method, "/", body=b"x")
        assert answer.status == 405, method
        assert answer.headers["Allow"] == "GET, HEAD, POST"
        one_line(answer)
    health = server.request("POST", "/health", body=b"x")
    assert health.status == 405 and health.headers["Allow"] == "GET, HEAD"


def test_other_paths_are_404(server):
    for method, path in [("GET", "/messages"), ("POST", "/nope"), ("DELETE", "/x")]:
        answer = server.request(method, path, body=b"x" if method != "GET" else None)
        assert answer.status == 404, (method, path)
        one_line(answer)


# -- health, database down, reconnect -------------------------------------------


def test_health_is_200_when_the_database_answers(server):
    answer = server.request("GET", "/health")
    assert (answer.status, answer.text) == (200, "ok\n")


def test_database_down_gives_503_naming_host_and_port_then_recovers(own_cluster, start_server):
    server = start_server(own_cluster.server_env())
    assert server.request("GET", "/").status == 200  # leaves an idle connection behind

    own_cluster.stop()
    for path in ["/", "/health"]:
        answer = server.request("GET", path)
        assert answer.status == 503, answer.text
        assert f"127.0.0.1:{own_cluster.port}" in answer.text
        one_line(answer)
    assert server.post(unique()).status == 503
    assert server.process.poll() is None  # still running

    own_cluster.start()  # same port, same data: the server reconnects by itself
    assert server.request("GET", "/health").status == 200
    content = unique("after the restart")
    new_id = server.stored_id(server.post(content))
    assert query(own_cluster, "SELECT content FROM messages WHERE id = %s", new_id) == [(content,)]


def test_database_restart_needs_no_error_on_the_next_request(own_cluster, start_server):
    # `docker restart` of the database: idle connections die; the next request works.
    server = start_server(own_cluster.server_env())
    with ThreadPoolExecutor(4) as pool:  # fill the pool with several idle connections
        list(pool.map(lambda _: server.request("GET", "/"), range(8)))
    own_cluster.stop()
    own_cluster.start()
    assert [server.request("GET", "/").status for _ in range(10)] == [200] * 10


def test_database_down_at_start_then_up(own_cluster, start_server):
    own_cluster.stop()
    server = start_server(own_cluster.server_env())
    assert server.request("GET", "/health").status == 503
    own_cluster.start()
    assert server.request("GET", "/health").status == 200


def test_unknown_host_is_a_503_with_its_name(start_server):
    env = {"POSTGRES_HOST": "no-such-host.invalid", "POSTGRES_PORT": "5432"}
    answer = start_server(env).request("GET", "/")
    assert answer.status == 503
    assert "no-such-host.invalid:5432" in answer.text


def test_missing_table_is_a_503_that_says_so(own_cluster, start_server):
    own_cluster.psql("-c", "DROP TABLE messages", S["DB_NAME"])
    answer = start_server(own_cluster.server_env()).request("GET", "/")
    assert answer.status == 503
    assert "messages" in answer.text


def test_scram_password_fails_with_a_clear_503(own_cluster, start_server):
    # Why sql/create_db.sql stores md5: the driver cannot answer a SCRAM challenge.
    own_cluster.psql("-c", "SET password_encryption = 'scram-sha-256'; "
                     f"ALTER ROLE {S['DB_USER']} PASSWORD '{S['DB_PASSWORD']}'", "postgres")
    answer = start_server(own_cluster.server_env()).request("GET", "/")
    assert answer.status == 503
    assert "not available" in answer.text
    own_cluster.psql("-f", PROJECT / "sql/create_db.sql", "postgres")  # back to md5
    assert start_server(own_cluster.server_env()).request("GET", "/").status == 200


def test_server_with_tls_on_and_a_self_signed_certificate_still_works(own_cluster,
                                                                     start_server):
    # Debian's postgresql package turns ssl on with its self-signed "snakeoil" certificate.
    own_cluster.stop()
    for name in ("server.key", "server.crt"):
        assert not (own_cluster.data / name).exists()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=workshop-test", "-keyout", own_cluster.data / "server.key",
                    "-out", own_cluster.data / "server.crt"], check=True, capture_output=True)
    for name in ("server.key", "server.crt"):
        shutil.chown(own_cluster.data / name, "postgres")
        (own_cluster.data / name).chmod(0o600)
    with open(own_cluster.data / "postgresql.conf", "a") as conf:
        conf.write("ssl = on\n")
    own_cluster.start()
    assert "on" in own_cluster.psql("-Atc", "SHOW ssl", "postgres").stdout
    assert start_server(own_cluster.server_env()).request("GET", "/health").status == 200


def test_unpatched_driver_fails_on_debian_postgresql(cluster):
    """The trap server.py works around: without its patch, py-postgresql cannot connect."""
    version = query(cluster, "SHOW server_version")[0][0]
    assert "Debian" in version  # Debian-built PostgreSQL, as in the VM and the image
    code = (f"import postgresql; postgresql.open(host='127.0.0.1', port={cluster.port}, "
            f"user='{S['DB_USER']}', password='{S['DB_PASSWORD']}', "
            f"database='{S['DB_NAME']}')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "invalid literal for int()" in done.stderr


# -- concurrency and shutdown ---------------------------------------------------


def test_50_concurrent_posts_store_exactly_50_rows(server, cluster):
    tag = uuid.uuid4().hex
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda n: server.post(f"{tag} {n}"), range(50)))
    assert [a.status for a in answers] == [201] * 50
    rows = query(cluster, "SELECT content FROM messages WHERE content LIKE %s", f"{tag} %")
    assert sorted(c for (c,) in rows) == sorted(f"{tag} {n}" for n in range(50))
    assert len({server.stored_id(a) for a in answers}) == 50


def test_sigterm_during_requests_loses_no_acknowledged_message(cluster, start_server):
    server = start_server(cluster.server_env())
    tag = uuid.uuid4().hex
    acknowledged, stop = [], threading.Event()

    def client(n):
        i = 0
        while not stop.is_set():
            try:
                answer = server.post(f"{tag} {n} {i}", timeout=5)
            except OSError:
                return  # the server closed: no acknowledgement, nothing promised
            if answer.status == 201:
                acknowledged.append(f"{tag} {n} {i}")
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    assert len(acknowledged) > 10  # requests are really in flight
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=5)  # stops within 5 s
    stop.set()
    for thread in threads:
        thread.join()
    assert server.process.returncode == 0
    stored = {c for (c,) in query(cluster, "SELECT content FROM messages WHERE content LIKE %s",
                                  f"{tag} %")}
    assert set(acknowledged) <= stored
    assert "SIGTERM received" in server.output()


def test_sigint_stops_with_status_0(server):
    assert server.stop(signal.SIGINT) == 0
    assert "SIGINT received" in server.output()


# -- logs, settings -------------------------------------------------------------


def test_one_log_line_per_request_with_method_path_status_duration(server):
    server.request("GET", "/")
    server.post(unique())
    server.request("DELETE", "/")
    server.request("GET", "/nothing")
    server.stop()
    lines = [line for line in server.output().splitlines()
             if re.fullmatch(r"[A-Z]+ \S+ \d{3} \d+\.\dms", line)]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "GET / 200", "POST / 201", "DELETE / 405", "GET /nothing 404"]


def test_help_lists_every_setting_with_defaults_from_dot_env():
    done = subprocess.run([sys.executable, str(PROJECT / "server.py"), "--help"],
                          capture_output=True, text=True, check=True)
    expected = {"PORT": S["WEB_PORT"], "POSTGRES_HOST": "localhost",
                "POSTGRES_PORT": S["DB_PORT"], "POSTGRES_DB": S["DB_NAME"],
                "POSTGRES_USER": S["DB_USER"], "POSTGRES_PASSWORD": S["DB_PASSWORD"]}
    for name, default in expected.items():
        assert re.search(rf"^\s+{name}\s.*\(default: {re.escape(default)}\)$",
                         done.stdout, re.M), name


def test_legacy_link_variables_are_honoured(cluster, start_server):
    env = cluster.server_env()
    del env["POSTGRES_HOST"]
    env["POSTGRES_PORT_5432_TCP_ADDR"] = "127.0.0.1"
    env["POSTGRES_PORT"] = f"tcp://127.0.0.1:{cluster.port}"  # what --link sets
    assert start_server(env).request("GET", "/health").status == 200
    # POSTGRES_HOST, when set, wins over the legacy variable.
    env["POSTGRES_HOST"] = "no-such-host.invalid"
    answer = start_server(env).request("GET", "/health")
    assert answer.status == 503 and "no-such-host.invalid" in answer.text
