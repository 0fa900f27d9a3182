"""Property-based: what POST accepts comes back exactly; nothing is a 5xx but 503."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import Server, unescape

LIMIT = 64 * 1024
MESSAGES = st.text(min_size=1, max_size=3000).filter(
    lambda text: text.strip() and "\x00" not in text)


@pytest.fixture(scope="module")
def shared_server(cluster):
    server = Server(cluster.server_env())
    yield server
    server.stop()


def stored(server, new_id):
    answer = server.request("GET", f"/?limit=1&before={new_id + 1}",
                            headers={"Accept": "application/json"})
    [message] = json.loads(answer.text)
    assert message["id"] == new_id
    return message["content"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=MESSAGES)
def test_any_valid_utf8_text_round_trips_exactly(shared_server, message):
    answer = shared_server.post(message)
    assert answer.status == 201, answer.text
    assert stored(shared_server, shared_server.stored_id(answer)) == message


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(size=st.integers(LIMIT - 8, LIMIT + 8), char=st.sampled_from(["a", "é", "€", "😀"]))
def test_round_trip_up_to_the_limit_and_413_beyond(shared_server, size, char):
    width = len(char.encode())
    message = char * (size // width)
    answer = shared_server.post(message)
    if len(message.encode()) <= LIMIT:
        assert stored(shared_server, shared_server.stored_id(answer)) == message
    else:
        assert answer.status == 413


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=2000),
       content_type=st.sampled_from(["text/plain", "application/x-www-form-urlencoded",
                                     "application/octet-stream"]),
       path=st.sampled_from(["/", "/?form"]))
def test_no_body_gets_a_5xx(shared_server, body, content_type, path):
    answer = shared_server.request("POST", path, body=body,
                                   headers={"Content-Type": content_type})
    assert answer.status in {201, 303, 400}, (answer.status, answer.text)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=MESSAGES)
def test_the_text_list_shows_any_message_on_one_line(shared_server, message):
    new_id = shared_server.stored_id(shared_server.post(message))
    listed = shared_server.request("GET", f"/?limit=1&before={new_id + 1}").text
    assert listed.endswith("\n") and len(listed.splitlines()) == 1
    # Backslash escapes, as Python writes them: read back as a Python string, they give
    # the message again, so no two messages show the same.
    assert unescape(listed[:-1]) == message
