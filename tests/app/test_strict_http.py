"""Strict HTTP: one clear way to frame a request, plain-text errors, safe headers."""

import json
import socket
import uuid

import pytest

from harness import exchange, parse, query

POST = b"POST / HTTP/1.1\r\nHost: x\r\n"


def count(cluster, content):
    return query(cluster, "SELECT count(*) FROM messages WHERE content = %s", content)[0][0]


def answer_to(server, raw):
    answer, _ = exchange(server.port, raw)
    assert answer, "closed without an answer"
    return parse(answer)


@pytest.mark.parametrize("length", [
    "\u00b2".encode(), b"\xd9\xa5", b"+5", b"5 5", b"0x5", b"-5", b"5.0", b"", b"5, 5",
])
def test_content_length_must_be_ascii_digits(server, cluster, length):
    tag = f"cl-{uuid.uuid4()}".encode()
    answer = answer_to(server, POST + b"Content-Length: " + length + b"\r\n\r\n" + tag)
    assert answer.status == 400, length
    assert "Content-Length" in answer.text
    assert count(cluster, tag.decode()) == 0


def test_several_content_lengths_are_400_even_when_equal(server, cluster):
    tag = f"twice-{uuid.uuid4()}"
    for second in (len(tag), len(tag) - 2):
        raw = (POST + f"Content-Length: {len(tag)}\r\nContent-Length: {second}\r\n\r\n"
               .encode() + tag.encode())
        answer = answer_to(server, raw)
        assert answer.status == 400 and "one Content-Length" in answer.text
    assert count(cluster, tag) == count(cluster, tag[:-2]) == 0


def test_transfer_encoding_with_content_length_is_400_and_stores_nothing(server, cluster):
    tag = f"smuggled-{uuid.uuid4()}"
    chunked = f"{len(tag):x}\r\n{tag}\r\n0\r\n\r\n".encode()
    raw = POST + f"Transfer-Encoding: chunked\r\nContent-Length: {len(chunked)}\r\n\r\n".encode()
    answer = answer_to(server, raw + chunked)
    assert answer.status == 400 and "not both" in answer.text
    stored = query(cluster, "SELECT count(*) FROM messages WHERE content LIKE %s", f"%{tag}%")
    assert stored == [(0,)]


def test_transfer_encoding_alone_is_411(server):
    answer = answer_to(server, POST + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert answer.status == 411


def test_body_shorter_than_its_length_is_not_stored(server, cluster):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(POST + b"Content-Length: 100\r\n\r\nshort")
        sock.shutdown(socket.SHUT_WR)  # the client is done sending: 5 of 100 bytes
        answer = parse(b"".join(iter(lambda: sock.recv(65536), b"")))
    assert answer.status == 400 and "5 of 100" in answer.text
    assert count(cluster, "short") == 0


def test_form_post_with_invalid_utf8_is_400_like_a_raw_post(server, cluster):
    for body in [b"message=caf%E9", b"message=%ff%fe", b"message=\xff"]:
        answer = server.request("POST", "/?form", body=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status == 400 and "UTF-8" in answer.text, body
    assert count(cluster, "caf\ufffd") == count(cluster, "\ufffd\ufffd") == 0
    good = server.request("POST", "/?form", body=b"message=caf%C3%A9+%E2%82%AC")
    assert good.status == 303 and count(cluster, "café €") >= 1


@pytest.mark.parametrize("path", ["/", "/health", "/?limit=5", "/nothing"])
def test_head_answers_like_get_without_a_body(server, path):
    get = server.request("GET", path)
    head = server.request("HEAD", path)
    assert head.status == get.status and head.body == b""
    for name in ("Content-Type", "Content-Length", "Link", "X-Content-Type-Options"):
        assert head.headers.get(name) == get.headers.get(name), name


@pytest.mark.parametrize("raw", [
    b"GET /\r\n",  # HTTP/0.9
    b"GET / HTTP/2.0\r\n\r\n",
    b"get / HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS handshake: https:// by mistake
    b"\x00\x01\x02 garbage with no end of line",
    b"\r\n\r\n",
])
def test_not_http_1_is_answered_400_and_closed_at_once(server, raw):
    answer, seconds = exchange(server.port, raw, timeout=8)  # a hang would raise here
    assert parse(answer).status == 400
    assert seconds < 5  # not REQUEST_DEADLINE (10 s): at once
    assert server.process.poll() is None


@pytest.mark.parametrize("raw, status", [
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 120 + b"\r\n", 431),
    (b"BREW / HTTP/1.1\r\n\r\n", 501),
    (b"GET / HTTP/1.x\r\n\r\n", 400),
])
def test_the_stdlib_own_errors_are_plain_text_too(server, raw, status):
    answer = answer_to(server, raw)
    assert answer.status == status
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "<" not in answer.text and answer.text.count("\n") == 1, answer.text


def test_every_answer_has_nosniff_and_no_python_version(server):
    answers = [server.request("GET", "/"), server.request("GET", "/health"),
               server.request("GET", "/", headers={"Accept": "application/json"}),
               server.request("GET", "/", headers={"Accept": "text/html"}),
               server.request("GET", "/?limit=0"), server.post("nosniff check"),
               server.request("DELETE", "/"), server.request("GET", "/x")]
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Server"] == "docker-workshop"


def test_html_page_forbids_framing_and_scripts(server):
    page = server.request("GET", "/", headers={"Accept": "text/html"})
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},
])
def test_cross_site_posts_are_refused(server, cluster, headers):
    tag = f"csrf {uuid.uuid4()}"
    for path, body in [("/?form", f"message={tag}"), ("/", tag)]:
        answer = server.request("POST", path, body=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **headers})
        assert answer.status == 403, (path, headers)
        assert "another site" in answer.text
    assert count(cluster, tag) == 0


def test_same_origin_posts_and_curl_are_accepted(server, cluster):
    own = f"127.0.0.1:{server.port}"
    for headers in [{"Origin": f"http://{own}", "Sec-Fetch-Site": "same-origin"},
                    {"Origin": f"http://{own}"}, {"Sec-Fetch-Site": "none"}, {}]:
        tag = f"same {uuid.uuid4()}"
        answer = server.request("POST", "/?form", body=f"message={tag}".encode(),
                                headers={"Host": own, **headers})
        assert answer.status == 303, (headers, answer.text)
        assert count(cluster, tag) == 1


def test_a_multi_line_message_is_one_escaped_line_in_the_text_list(server):
    message = "first line\nsecond line\r\n\\n is not a line break\x1b[31m"
    new_id = server.stored_id(server.post(message))
    listed = server.request("GET", f"/?limit=1&before={new_id + 1}").text
    assert listed == "first line\\nsecond line\\r\\n\\\\n is not a line break\\x1b[31m\n"
    as_json = server.request("GET", f"/?limit=1&before={new_id + 1}",
                             headers={"Accept": "application/json"})
    assert json.loads(as_json.text)[0]["content"] == message  # JSON: as it is
