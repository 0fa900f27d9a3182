"""The room view (tests/steps/room.py): the real `workshop room` server on 127.0.0.1 and a
free port, and real `workshop join/check/status/help/leave` processes reporting to it.

The learners work in a temporary copy of the project whose step checks are stand-ins:
every step passes but step 3, whose check `server answers with its database` fails.
Each bad input the room must refuse is sent on its own, and none may be stored.
"""

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from chromium import chromium as headless_chromium
from course import steps
from settings import PROJECT, S

PASSING = "def test_all_good():\n    pass\n"
FAILING = (
    "def test_image_is_built():\n    pass\n\n\n"
    "def test_server_answers_with_its_database():\n    assert False, 'No answer.'\n"
)
STUCK = "server answers with its database"
KEY = "5eed" * 4  # the secret a learner's VM sends with its name (16 hexadecimal digits)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """What `workshop` needs, with stand-in checks: step 3 fails, the others pass."""
    copy = tmp_path_factory.mktemp("room") / "project"
    for name in [".env", "pyproject.toml", "exercises", "tests/steps", "tests/settings.py"]:
        source, target = PROJECT / name, copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)
    for step in steps():
        (copy / f"tests/steps/test_step_{step}.py").write_text(FAILING if step == 3 else PASSING)
    return copy


def workshop(project, state, *args):
    """Run the copy's `workshop` as a learner does; (exit status, output)."""
    env = {**os.environ, "WORKSHOP_STATE": str(state / "progress.json")}
    done = subprocess.run([sys.executable, project / "tests/steps/workshop.py", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


class RoomProcess:
    """`workshop room --port 0 ...` running; its code, its port, its state folder.
    A restart (stop, start) takes the same port again."""

    def __init__(self, project, state, *options):
        self.project, self.state, self.options, self.port = project, state, options, 0
        self.start()

    def start(self):
        env = {**os.environ, "WORKSHOP_STATE": str(self.state / "progress.json"),
               "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, self.project / "tests/steps/workshop.py", "room",
             "--port", str(self.port), *self.options], cwd=self.project, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout],
                         daemon=True).start()
        self.output = ""
        while "Ctrl-C stops the room" not in self.output:
            self.output += lines.get(timeout=30)  # raises queue.Empty if the room says nothing
        self.code = re.search(r"Room code: (\w+)", self.output).group(1)
        self.port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", self.output).group(1))
        self.address = f"127.0.0.1:{self.port}"

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=10)

    def post(self, path, body, headers=None):
        """(HTTP status, the answer's JSON) for a POST with `body` (bytes, or JSON'd)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        if headers is None:
            headers = {"Content-Length": str(len(data))}
        connection.putrequest("POST", path)
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        connection.send(data)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())

    def view(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", "/api/room")
        return json.loads(connection.getresponse().read())

    def saved(self):
        return json.loads((self.state / "room.json").read_text())


@pytest.fixture
def room(project, tmp_path):
    (tmp_path / "instructor").mkdir()
    started = RoomProcess(project, tmp_path / "instructor")
    yield started
    started.stop()


def report(room, **fields):
    body = {"code": room.code, "name": "Ana", "key": KEY, "step": 2, "passed": False,
            "failing": "",
            "done": [0, 1], **fields}
    return room.post("/api/report", body)


def test_join_then_each_check_and_status_reports_where_the_learner_is(project, room, tmp_path):
    status, out = workshop(project, tmp_path, "join", room.address, room.code, "Ana")
    assert status == 0, out
    assert "your seat name 'Ana', the step, passed or failed" in out  # says what is sent
    assert "a random key made\n  in this VM" in out
    assert room.view()["learners"]["Ana"]["step"] == 0
    for step in (0, 1, 2):
        assert workshop(project, tmp_path, "check", str(step))[0] == 0
    seat = room.view()["learners"]["Ana"]
    assert (seat["passed"], seat["step"], seat["failing"]) == ([0, 1, 2], 3, "")
    status, out = workshop(project, tmp_path, "check", "3")
    assert status == 1 and "Not sent" not in out, out
    view = room.view()
    seat = view["learners"]["Ana"]
    assert (seat["passed"], seat["step"], seat["failing"]) == ([0, 1, 2], 3, STUCK)
    assert view["summary"] == f"1 at step 3; 1 stuck on step 3's '{STUCK}'"
    (room.state / "room.json").unlink()  # status alone must tell the room the same
    room.stop()
    room.start()
    assert room.view()["learners"] == {}
    status, out = workshop(project, tmp_path, "status")
    assert "Not sent" in out  # the new room has a new code
    workshop(project, tmp_path, "join", room.address, room.code, "Ana")
    workshop(project, tmp_path, "status")
    seat = room.view()["learners"]["Ana"]
    assert (seat["passed"], seat["step"], seat["failing"]) == ([0, 1, 2], 3, STUCK)


def test_an_earlier_step_that_fails_again_does_not_move_the_learner_back(room):
    assert report(room, step=3, done=[0, 1, 2], failing=STUCK)[0] == 200
    since = room.view()["learners"]["Ana"]["since"]
    assert report(room, step=0, done=[0, 1, 2], failing="postgresql is running")[0] == 200
    seat = room.view()["learners"]["Ana"]
    assert (seat["passed"], seat["step"], seat["failing"], seat["since"]) == (
        [0, 1, 2], 3, STUCK, since)
    assert report(room, step=3, done=[0, 1, 2], passed=True)[0] == 200
    seat = room.view()["learners"]["Ana"]
    assert (seat["step"], seat["failing"]) == (4, "")
    last = max(steps())
    assert report(room, step=last, done=[0, 1, 2, 3], passed=True)[0] == 200
    assert room.view()["learners"]["Ana"]["step"] == 4  # not done: step 4 was skipped


def test_several_learners_at_once_each_at_the_right_step_and_a_restart_keeps_them(
        project, room, tmp_path):
    """Five learners' `workshop` commands at the same time, as in a room: each joins,
    passes steps 0 to 2 (or only 0), some fail step 3, one raises a hand."""
    plans = {"Ana": [0, 1, 2, 3], "Bo": [0, 1, 2, "help"], "Cy": [0, 1, 2, 3],
             "Di": [0], "Ed": [0, 1, 2, 3, "help", "help --done"]}

    said = {name: [] for name in plans}  # what each command printed, read below

    def learner(name):
        state = tmp_path / name
        said[name].append(workshop(project, state, "join", room.address, room.code, name)[1])
        for what in plans[name]:
            args = what.split() if isinstance(what, str) else ["check", str(what)]
            said[name].append(workshop(project, state, *args)[1])

    threads = [threading.Thread(target=learner, args=(name,)) for name in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for name, outputs in said.items():
        assert len(outputs) == 1 + len(plans[name]) and f"Joined room {room.code}" in outputs[0]
        assert not [out for out in outputs  # every report and hand was taken
                    if "Not sent" in out or "workshop: " in out]
    expected = {"Ana": ([0, 1, 2], 3, STUCK, False), "Bo": ([0, 1, 2], 3, "", True),
                "Cy": ([0, 1, 2], 3, STUCK, False), "Di": ([0], 1, "", False),
                "Ed": ([0, 1, 2], 3, STUCK, False)}
    view = room.view()
    assert {name: (seat["passed"], seat["step"], seat["failing"], bool(seat["hand"]))
            for name, seat in view["learners"].items()} == expected
    assert view["summary"] == f"4 at step 3, 1 at step 1; 3 stuck on step 3's '{STUCK}'; 1 hand up"
    room.stop()
    room.start()
    assert room.view()["learners"] == view["learners"]


def test_help_raises_the_hand_and_done_lowers_it(project, room, tmp_path):
    assert workshop(project, tmp_path, "help", "where", "is", "my", "database?")[0] == 1
    workshop(project, tmp_path, "join", room.address, room.code, "Bo")
    status, out = workshop(project, tmp_path, "help", "where", "is", "my", "database?")
    assert status == 0, out
    assert room.view()["learners"]["Bo"]["hand"]["text"] == "where is my database?"
    assert room.view()["summary"].endswith("; 1 hand up")
    assert workshop(project, tmp_path, "help", "--done")[0] == 0
    assert room.view()["learners"]["Bo"]["hand"] is None


def test_leave_stops_the_reports(project, room, tmp_path):
    workshop(project, tmp_path, "join", room.address, room.code, "Cy")
    status, out = workshop(project, tmp_path, "leave")
    assert status == 0 and f"Left room {room.code}" in out
    workshop(project, tmp_path, "check", "0")
    assert room.view()["learners"]["Cy"]["passed"] == []


def test_a_restart_loses_nothing(project, room, tmp_path):
    workshop(project, tmp_path, "join", room.address, room.code, "Di")
    workshop(project, tmp_path, "check", "0")
    workshop(project, tmp_path, "help")
    before = room.view()["learners"]
    code = room.code
    room.stop()
    room.start()
    assert room.code == code
    assert room.view()["learners"] == before
    workshop(project, tmp_path, "check", "1")  # the learner's join still holds
    assert room.view()["learners"]["Di"]["passed"] == [0, 1]


def test_a_room_that_does_not_answer_costs_a_check_one_line_and_under_half_a_second(
        project, tmp_path):
    import room as client

    silent = socket.socket()  # accepts connections (the kernel does) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    closed = socket.socket()  # a port nobody listens on: refused at once
    closed.bind(("127.0.0.1", 0))
    try:
        quiet = workshop(project, tmp_path, "check", "0")[1]
        for port in (silent.getsockname()[1], closed.getsockname()[1]):
            joined = {"address": f"http://127.0.0.1:{port}", "code": "ABCDEF", "name": "Ed",
                      "key": KEY}
            (tmp_path / "room-joined.json").write_text(json.dumps(joined))
            start = time.monotonic()
            client.report(tmp_path, 0, True, "", [0])
            assert time.monotonic() - start < 0.5
            status, out = workshop(project, tmp_path, "check", "0")
            assert status == 0
            said = f"(Not sent to the room: the room at http://127.0.0.1:{port} did not answer.)"
            assert [line for line in out.splitlines() if line != said] == quiet.splitlines()
            assert out.count(said) == 1
    finally:
        silent.close()
        closed.close()


@pytest.mark.parametrize("fields, said", [
    ({"code": None}, "wrong room code"),
    ({"code": "WRONG1"}, "wrong room code"),
    ({"name": "x" * 41}, "the name is longer than 40 characters"),
    ({"name": "   "}, "a name is needed"),
    ({"name": "Ana\x1b[31m"}, "the name has characters that cannot be shown"),
    ({"key": None}, "key must be 16 to 64 hexadecimal digits"),
    ({"key": "short"}, "key must be 16 to 64 hexadecimal digits"),
    ({"step": 99}, "step must be one of"),
    ({"step": "3"}, "step must be one of"),
    ({"step": True}, "step must be one of"),
    ({"passed": "yes"}, "passed must be true or false"),
    ({"failing": "x" * 201}, "failing must be text of at most 200 characters"),
    ({"done": "0,1"}, "done must be a list of steps"),
    ({"done": [[0]]}, "done must be a list of steps"),
])
def test_a_bad_report_gets_a_clear_4xx_and_is_not_stored(room, fields, said):
    status, answer = report(room, **fields)
    assert 400 <= status < 500 and answer["error"].startswith(said)
    assert room.saved()["learners"] == {}


@pytest.mark.parametrize("body, headers, status, said", [
    (b"{not json", None, 400, "the body is not JSON"),
    (b"[1, 2]", None, 400, "the body must be a JSON object"),
    (b"{}", {}, 411, "Content-Length is needed"),
    (b"{}", {"Content-Length": "5000"}, 413, "a request is at most 4096 bytes"),
])
def test_a_malformed_request_gets_a_clear_4xx(room, body, headers, status, said):
    assert room.post("/api/report", body, headers) == (status, {"error": said})
    assert room.saved()["learners"] == {}


def test_a_second_vm_with_a_name_already_taken_is_refused(project, room, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert workshop(project, first, "join", room.address, room.code, "Ana")[0] == 0
    status, out = workshop(project, second, "join", room.address, room.code, "Ana")
    assert status == 1
    assert out.splitlines()[-1] == ("workshop: not joined: the room refused it: another "
                                    "learner has the name 'Ana': join with another.")
    assert workshop(project, second, "join", room.address, room.code, "Ana B")[0] == 0
    workshop(project, first, "leave")  # a learner who leaves and joins again keeps the seat
    assert workshop(project, first, "join", room.address, room.code, "Ana")[0] == 0
    assert sorted(room.view()["learners"]) == ["Ana", "Ana B"]
    assert "key" not in room.view()["learners"]["Ana"]  # the page never shows the secret


def test_a_body_shorter_than_its_length_is_refused_after_a_few_seconds(room):
    import room as server

    start = time.monotonic()
    assert room.post("/api/report", b"{}", {"Content-Length": "100"}) == (
        408, {"error": f"the body did not come within {server.READ_TIMEOUT} s"})
    assert time.monotonic() - start < server.READ_TIMEOUT + 2
    assert report(room)[0] == 200  # and the room goes on


def test_a_name_of_40_characters_is_taken_and_kept_whole(room):
    assert report(room, name="é" * 40)[0] == 200
    assert list(room.saved()["learners"]) == ["é" * 40]


def test_the_learners_are_bounded(project, tmp_path):
    full = RoomProcess(project, tmp_path, "--learners", "3")
    try:
        for name in ("A", "B", "C"):
            assert report(full, name=name)[0] == 200
        assert report(full, name="D") == (403, {"error": "the room is full (3 learners)"})
        assert report(full, name="A", step=3)[0] == 200  # those in the room still report
        assert sorted(full.saved()["learners"]) == ["A", "B", "C"]
    finally:
        full.stop()


def test_the_rate_of_one_seat_is_bounded_and_the_others_go_on(project, tmp_path):
    busy = RoomProcess(project, tmp_path, "--rate", "5")
    try:
        assert [report(busy, step=n % 3)[0] for n in range(5)] == [200] * 5
        assert report(busy, step=3) == (
            429, {"error": "too many requests from this seat: wait a few seconds"})
        assert busy.saved()["learners"]["Ana"]["step"] != 3
        assert report(busy, name="Bo")[0] == 200  # all come from 127.0.0.1, as behind NAT
    finally:
        busy.stop()


def test_the_rate_of_the_whole_room_is_bounded(project, tmp_path):
    busy = RoomProcess(project, tmp_path, "--rate-all", "5")
    try:
        assert [report(busy, name=f"L{n}")[0] for n in range(5)] == [200] * 5
        assert report(busy, name="L5") == (
            429, {"error": "too many requests in the room: wait a few seconds"})
        assert "L5" not in busy.saved()["learners"]
    finally:
        busy.stop()


def test_the_room_keeps_a_file_it_cannot_read_and_says_so(project, tmp_path):
    (tmp_path / "room.json").write_text("{half a file")
    status, out = workshop(project, tmp_path, "room", "--port", "0")
    assert status == 1
    assert out == (f"workshop: {tmp_path / 'room.json'} is not a room's file: move it away "
                   "to start a new room.\n")
    assert (tmp_path / "room.json").read_text() == "{half a file"


def test_a_second_room_on_the_same_port_says_why_it_cannot_start(project, room, tmp_path):
    status, out = workshop(project, tmp_path, "room", "--port", str(room.port))
    assert status == 1
    assert out == (f"workshop: cannot serve the room on 127.0.0.1:{room.port}: "
                   "Address already in use.\n")


def test_the_page_needs_nothing_from_outside_and_forbids_it(room):
    """The page, its script and its style come from the room; its policy allows nothing
    else, and no inline script. The script writes text with textContent only."""
    for path in ("/", "/room.js", "/room.css"):
        connection = http.client.HTTPConnection("127.0.0.1", room.port, timeout=10)
        connection.request("GET", path)
        answer = connection.getresponse()
        text = answer.read().decode()
        assert answer.status == 200
        assert answer.getheader("Content-Security-Policy") == "default-src 'self'"
        assert not re.search(r"https?:|//[\w.]+/", text), f"{path} loads from elsewhere"
    script = (PROJECT / "tests/steps/room_page/room.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script)


def test_the_instructors_page_gives_the_rooms_port_and_bounds():
    import room as server

    text = (PROJECT / "exercises/INSTRUCTORS.md").read_text()
    port = S["ROOM_PORT"]
    assert f"-L 0.0.0.0:{port}:127.0.0.1:{port}" in text and f"http://127.0.0.1:{port}/" in text
    assert (f"at most {server.LEARNERS_MAX} learners, {server.RATE} requests per "
            f"{server.RATE_WINDOW} seconds from one learner and {server.RATE_ALL} from "
            "the whole room") in " ".join(text.split())
    assert f"waits {server.TIMEOUT} s at most" in text
    assert f"at most {server.NAME_MAX} characters" in text


def test_the_summary_line_counts_steps_the_biggest_stuck_group_and_hands():
    import room as server

    def seat(step, failing="", hand=None):
        return {"step": step, "failing": failing, "hand": hand}

    learners = {f"a{n}": seat(4) for n in range(18)}
    learners |= {f"b{n}": seat(3, STUCK) for n in range(3)}
    learners |= {"c": seat(3, "image is built", {"text": "", "since": 0}), "d": seat(None)}
    assert server.summary(learners) == (
        f"18 at step 4, 4 at step 3, 1 done; 3 stuck on step 3's '{STUCK}'; 1 hand up")
    assert server.summary({}) == "No learner has joined yet."


# ---- The page, in real Chromium (Debian's chromium and chromium-driver). ----

EVIL = "<img src=x onerror=document.title=1>"  # 36 characters: a name the room takes
FIRST_NAMES = ["Ana", "Bo", "Cy", "Di", "Ed", "Fay", "Gus", "Hal", "Ines", "Jo", "Kai", "Lea",
               "Mo", "Nils", "Ola", "Pia", "Quinn", "Rae", "Sam", "Tove", "Uma", "Vic", "Wen",
               "Xia", "Yann", "Zoe", "Aziz", "Bea", "Chen"]


def fill_room(room):
    """30 learners as in a real room: most at step 4, three stuck on step 3's database
    check, one on step 5's, two hands up, one done, and one name that is HTML."""
    special = {3: (3, STUCK), 9: (3, STUCK), 17: (3, STUCK), 5: (2, ""), 21: (3, ""),
               12: (5, "data survives a new container")}
    for n, name in enumerate([*FIRST_NAMES, EVIL]):
        step, failing = special.get(n, (4, ""))
        body = {"code": room.code, "name": name, "key": KEY, "step": step, "passed": False,
                "failing": failing, "done": list(range(step))}
        assert room.post("/api/report", body)[0] == 200
    assert room.post("/api/report", {**body, "name": "Zoe", "step": 8, "passed": True,
                                     "done": list(range(8))})[0] == 200
    for name, text in [("Di", "psql says connection refused"), (EVIL, "")]:
        assert room.post("/api/hand", {"code": room.code, "name": name, "key": KEY,
                                       "text": text})[0] == 200


def chromium():
    return headless_chromium("--window-size=1400,1000")


def rows(browser):
    """The grid's rows as lists of cell texts, read in one go by the page itself."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#seats tr')]"
        ".map(row => [...row.cells].map(cell => cell.textContent));")


@pytest.mark.browser
def test_the_page_shows_the_room_escapes_names_and_updates_itself(project, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    room = RoomProcess(project, tmp_path)
    fill_room(room)
    browser = chromium()
    try:
        browser.get(f"http://127.0.0.1:{room.port}/")
        summary = room.view()["summary"]
        assert summary == ("23 at step 4, 4 at step 3, 1 at step 2, 1 at step 5, 1 done; "
                           f"3 stuck on step 3's '{STUCK}'; 2 hands up")
        WebDriverWait(browser, 10).until(lambda b: len(rows(b)) == 30)
        assert browser.find_element("id", "summary").text == summary
        shown = rows(browser)
        assert [row[0] for row in shown[:2]] == ["⚑ Di", "⚑ " + EVIL]  # the oldest hand first
        assert shown[0][-1] == "psql says connection refused"
        assert shown[0][1:5] == ["✔", "✔", "✔", f"✘ {STUCK}"]  # steps 0 to 3
        assert browser.title == "Workshop room"  # the name's onerror never ran
        assert browser.execute_script("return document.querySelectorAll('#seats img').length")\
            == 0
        browser.execute_script("window.stayed = true")
        assert room.post("/api/report", {"code": room.code, "name": "Di", "key": KEY, "step": 3,
                                         "passed": True, "failing": "",
                                         "done": [0, 1, 2]})[0] == 200
        WebDriverWait(browser, 10).until(lambda b: rows(b)[0][1:6] == ["✔"] * 4 + ["…"])
        assert browser.execute_script("return window.stayed") is True  # no reload
    finally:
        browser.quit()
        room.stop()
