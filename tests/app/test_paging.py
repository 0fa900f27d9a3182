"""GET / answers one page: the newest messages, in id order; ?limit= and ?before= page
back, and the Link header points to the older page. Text, JSON and HTML agree."""

import json
import re

import pytest

from harness import query
from pg import Cluster
from settings import S

TOTAL = 250  # messages in the cluster of this module: 3 fixtures and 247 more


@pytest.fixture(scope="module")
def paged():
    pg = Cluster()
    pg.start()
    pg.create_workshop_db()
    pg.psql("-c", "INSERT INTO messages (content) SELECT 'message ' || n "
            f"FROM generate_series(1, {TOTAL - 3}) n", S["DB_NAME"])
    yield pg
    pg.destroy()


@pytest.fixture
def server(paged, start_server):
    return start_server(paged.server_env())


def ids(pg, sql):
    return [i for (i,) in query(pg, sql)]


def json_ids(answer):
    assert answer.status == 200, answer.text
    return [m["id"] for m in json.loads(answer.text)]


def next_link(answer):
    """The target of the Link header's rel="next", or None."""
    link = answer.headers.get("Link")
    if link is None:
        return None
    found = re.fullmatch(r'<(/\?[^>]*)>; rel="next"', link)
    assert found, link
    return found.group(1)


def test_default_page_is_the_newest_100_oldest_first(server, paged):
    newest = ids(paged, "SELECT id FROM messages ORDER BY id DESC LIMIT 100")
    answer = server.request("GET", "/", headers={"Accept": "application/json"})
    assert json_ids(answer) == sorted(newest)
    assert next_link(answer) == f"/?limit=100&before={min(newest)}"


def test_following_next_links_lists_every_message_once(server, paged):
    seen, path, pages = [], "/?limit=60", 0
    while path:
        answer = server.request("GET", path, headers={"Accept": "application/json"})
        page = json_ids(answer)
        assert 1 <= len(page) <= 60 and page == sorted(page)
        seen[:0] = page  # older pages go in front
        path, pages = next_link(answer), pages + 1
    every = ids(paged, "SELECT id FROM messages ORDER BY id")
    assert seen == every
    assert pages == -(-len(every) // 60)  # 250 messages: 60 + 60 + 60 + 60 + 10


def test_limit_and_before_select_the_page(server, paged):
    all_ids = ids(paged, "SELECT id FROM messages ORDER BY id")
    before = all_ids[10]
    answer = server.request("GET", f"/?limit=3&before={before}",
                            headers={"Accept": "application/json"})
    assert json_ids(answer) == all_ids[7:10]
    assert json_ids(server.request("GET", "/?limit=1000",
                                   headers={"Accept": "application/json"})) == all_ids
    last = server.request("GET", f"/?before={all_ids[2]}", headers={"Accept": "application/json"})
    assert json_ids(last) == all_ids[:2] and next_link(last) is None  # the oldest page


@pytest.mark.parametrize("query_string", [
    "limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1e3", "limit=%C2%B2",
    "limit=", "before=0", "before=-5", "before=x", "before=" + "9" * 30,
])
def test_bad_limit_or_before_is_400_with_the_reason(server, query_string):
    answer = server.request("GET", f"/?{query_string}")
    assert answer.status == 400, query_string
    name = query_string.split("=")[0]
    assert answer.text.startswith(f"{name} must be"), answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_text_json_and_html_show_the_same_page(server, paged):
    path = "/?limit=20&before=200"
    as_json = json.loads(server.request("GET", path, headers={"Accept": "application/json"}).text)
    text = server.request("GET", path)
    page = server.request("GET", path, headers={"Accept": "text/html"})
    assert text.text.splitlines() == [m["content"] for m in as_json]
    assert re.findall(r"<small>#(\d+)</small>", page.text) == [str(m["id"]) for m in as_json]
    assert len(as_json) == 20
    for answer in (text, page):
        assert answer.headers["Link"] == f'</?limit=20&before={as_json[0]["id"]}>; rel="next"'
    assert f'<a rel="next" href="/?limit=20&amp;before={as_json[0]["id"]}">' in page.text


def test_the_message_just_posted_is_the_last_line(server):
    answer = server.post("just posted")
    new_id = server.stored_id(answer)
    assert server.request("GET", "/").text.splitlines()[-1] == "just posted"
    messages = json.loads(server.request("GET", "/", headers={"Accept": "application/json"}).text)
    assert messages[-1]["id"] == new_id and len(messages) == 100
