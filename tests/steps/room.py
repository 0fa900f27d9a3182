"""The room view: the instructor sees who is at which step, who is stuck, who asked for help.

    workshop room                       (instructor) serve the page and the API, keep a file
    workshop join ADDRESS CODE [NAME]   (learner, opt-in) report each check and status
    workshop help [TEXT] / --done       raise or lower your hand on the room view
    workshop leave                      stop reporting

The server is the standard library's ThreadingHTTPServer. It keeps what it receives in
room.json beside the progress file (~/.local/state/docker-workshop/), so that a restart
loses nothing and keeps its room code. A report holds the seat name, the step, passed or
failed, the title of the first failing check and the steps passed: nothing else.
Every input is checked (the room code, the name's length, the learners' count, the rate
of requests per seat and in all, the shape of the JSON); the page shows names with
textContent.
Each VM sends a secret key of its own (room-key) with its name: a second VM that
chooses the same name is refused, not mixed up with the first.
"""

import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for settings
from settings import S  # noqa: E402

PORT = int(S["ROOM_PORT"])
NAME_MAX = 40  # characters of a seat name
TEXT_MAX = 200  # characters of a check's title or of a raised hand's text
BODY_MAX = 4096  # bytes of one request
LEARNERS_MAX = 100  # seats in one room
# Requests per RATE_WINDOW seconds: from one seat, and from everyone. Not per address:
# behind the instructor's forward (ssh or the VM's NAT) every request comes from one.
RATE = 20
RATE_ALL = 500
RATE_WINDOW = 10
TIMEOUT = 0.4  # seconds a check or status waits for the room, at most
READ_TIMEOUT = 3  # seconds the room waits for a request's bytes: none holds a thread longer
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, no 1/I
PAGE_DIR = Path(__file__).resolve().parent / "room_page"


class BadInput(Exception):
    """A request the room refuses: (HTTP status, what to tell the sender)."""


def new_code():
    return "".join(secrets.choice(CODE_LETTERS) for _ in range(6))


def clean_name(name):
    """A seat name: 1 to NAME_MAX printable characters; raises BadInput otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise BadInput(400, "a name is needed")
    name = name.strip()
    if len(name) > NAME_MAX:
        raise BadInput(400, f"the name is longer than {NAME_MAX} characters")
    if not name.isprintable():
        raise BadInput(400, "the name has characters that cannot be shown")
    return name


def clean_text(text, what):
    if not isinstance(text, str) or len(text) > TEXT_MAX or not text.isprintable():
        raise BadInput(400, f"{what} must be text of at most {TEXT_MAX} characters")
    return text.strip()


class Window:
    """At most `limit` events per RATE_WINDOW seconds, for each key."""

    def __init__(self, limit):
        self.limit, self.times, self.lock = limit, {}, threading.Lock()

    def allow(self, key):
        now = time.monotonic()
        with self.lock:
            times = [t for t in self.times.get(key, []) if now - t < RATE_WINDOW]
            allowed = len(times) < self.limit
            self.times[key] = times + [now] if allowed else times
            return allowed


class Room:
    """The room's state, kept in one JSON file: {code, learners: {name: seat}}."""

    def __init__(self, path, steps, learners_max=LEARNERS_MAX, rate=RATE):
        self.path, self.steps, self.learners_max = Path(path), steps, learners_max
        self.lock, self.rate = threading.Lock(), Window(rate)
        try:
            saved = json.loads(self.path.read_text())
            self.code, self.learners = saved["code"], saved["learners"]
        except FileNotFoundError:
            self.code, self.learners = new_code(), {}
        except (ValueError, TypeError, KeyError):
            raise BadInput(0, f"{self.path} is not a room's file: move it away "
                           "to start a new room") from None
        self.save()

    def save(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_suffix(".part")
        part.write_text(json.dumps({"code": self.code, "learners": self.learners}, indent=1))
        os.replace(part, self.path)  # whole or not at all, even if the room is killed

    def seat(self, body):
        """The checked name of a request's sender, and its seat (new if room is left)."""
        if body.get("code") != self.code:
            raise BadInput(403, "wrong room code")
        name, key = clean_name(body.get("name")), body.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{16,64}", key):
            raise BadInput(400, "key must be 16 to 64 hexadecimal digits")
        if name not in self.learners and len(self.learners) >= self.learners_max:
            raise BadInput(403, f"the room is full ({self.learners_max} learners)")
        if name in self.learners and self.learners[name]["key"] != key:
            raise BadInput(409, f"another learner has the name '{name}': join with another")
        if not self.rate.allow(name):
            raise BadInput(429, "too many requests from this seat: wait a few seconds")
        empty = {"key": key, "passed": [], "step": min(self.steps), "failing": "",
                 "since": time.time(), "hand": None}
        return name, self.learners.get(name, empty)

    def report(self, body):
        """A check's or a status's result: {code, name, key, step, passed, failing, done}."""
        step, passed, failing, done = (body.get(key) for key in
                                       ("step", "passed", "failing", "done"))
        if type(step) is not int or step not in self.steps:
            raise BadInput(400, f"step must be one of {', '.join(map(str, self.steps))}")
        if not isinstance(passed, bool):
            raise BadInput(400, "passed must be true or false")
        failing = clean_text(failing, "failing")
        if not isinstance(done, list) or not all(type(n) is int and n in self.steps
                                                 for n in done):
            raise BadInput(400, "done must be a list of steps")
        with self.lock:
            name, seat = self.seat(body)
            # A step once passed stays passed: later steps change the machine on purpose
            # (step 4 stops the VM's PostgreSQL), so an earlier step's check may fail again.
            passed_steps = set(done) | ({step} if passed else set())
            open_steps = [n for n in self.steps if n not in passed_steps]
            later = [n for n in open_steps if n >= step] or open_steps  # or a skipped one
            working = later[0] if later else None
            if working == step:
                seat["failing"] = failing
            elif working != seat["step"]:
                seat["failing"] = ""  # else what failed on the working step still does
            if working != seat["step"]:
                seat["since"] = time.time()
            seat.update(passed=sorted(passed_steps), step=working, seen=time.time())
            self.learners[name] = seat
            self.save()

    def hand(self, body):
        """{code, name, key, text} raises a hand; {code, name, key, down: true} lowers it."""
        down = body.get("down", False)
        if not isinstance(down, bool):
            raise BadInput(400, "down must be true or false")
        text = "" if down else clean_text(body.get("text", ""), "text")
        with self.lock:
            name, seat = self.seat(body)
            seat["hand"] = None if down else {"text": text, "since": time.time()}
            self.learners[name] = seat
            self.save()

    def view(self):
        """What the page shows: the steps, the seats, and the summary line."""
        with self.lock:  # a copy, without the seats' keys
            learners = {name: {k: v for k, v in seat.items() if k != "key"}
                        for name, seat in json.loads(json.dumps(self.learners)).items()}
        return {"steps": [{"n": n, "title": self.steps[n]} for n in self.steps],
                "learners": learners, "now": time.time(), "summary": summary(learners)}


def summary(learners):
    """ "18 at step 4, 3 at step 3; 3 stuck on step 3's 'server answers ...'; 1 hand up"."""
    if not learners:
        return "No learner has joined yet."
    at, stuck = {}, {}
    for seat in learners.values():
        at[seat["step"]] = at.get(seat["step"], 0) + 1
        if seat["failing"]:
            key = (seat["step"], seat["failing"])
            stuck[key] = stuck.get(key, 0) + 1
    order = sorted(at.items(), key=lambda item: (-item[1], item[0] is None, item[0] or 0))
    parts = [", ".join(f"{n} done" if step is None else f"{n} at step {step}"
                       for step, n in order)]
    if stuck:
        (step, title), n = max(stuck.items(), key=lambda item: item[1])
        parts.append(f"{n} stuck on step {step}'s '{title}'")
    hands = sum(1 for seat in learners.values() if seat["hand"])
    if hands:
        parts.append(f"{hands} hand{'s' if hands > 1 else ''} up")
    return "; ".join(parts)


class Handler(BaseHTTPRequestHandler):
    server_version = "workshop-room"
    timeout = READ_TIMEOUT
    FILES = {"/": ("room.html", "text/html"), "/room.js": ("room.js", "text/javascript"),
             "/room.css": ("room.css", "text/css")}

    def log_message(self, *args):  # one line per request would flood the instructor
        pass

    def send(self, status, data, kind="application/json"):
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - the name http.server calls
        if self.path == "/api/room":
            return self.send(200, self.server.room.view())
        if self.path in self.FILES:
            name, kind = self.FILES[self.path]
            return self.send(200, (PAGE_DIR / name).read_bytes(), kind)
        self.send(404, {"error": "no such page"})

    def do_POST(self):  # noqa: N802
        actions = {"/api/report": self.server.room.report, "/api/hand": self.server.room.hand}
        try:
            if not self.server.rate.allow("everyone"):
                raise BadInput(429, "too many requests in the room: wait a few seconds")
            if self.path not in actions:
                raise BadInput(404, "no such API")
            length = self.headers.get("Content-Length")
            if not (length or "").isdigit():
                raise BadInput(411, "Content-Length is needed")
            if int(length) > BODY_MAX:
                raise BadInput(413, f"a request is at most {BODY_MAX} bytes")
            try:
                body = json.loads(self.rfile.read(int(length)))
            except ValueError:
                raise BadInput(400, "the body is not JSON") from None
            except OSError:  # the socket's timeout
                raise BadInput(408, f"the body did not come within {READ_TIMEOUT} s") from None
            if not isinstance(body, dict):
                raise BadInput(400, "the body must be a JSON object")
            actions[self.path](body)
        except BadInput as refused:
            status, said = refused.args
            self.close_connection = True
            return self.send(status, {"error": said})
        self.send(200, {"ok": True})


class RoomServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, room, rate_all=RATE_ALL):
        super().__init__(address, Handler)
        self.room, self.rate = room, Window(rate_all)


# ---- The learner's side: what `workshop join/help/leave` and each check send. ----

def url(address):
    """'192.168.1.20' or '192.168.1.20:8090' or 'http://...': the room's base URL."""
    address = address.strip().rstrip("/")
    if not re.match(r"https?://", address):
        address = "http://" + address
    if not re.search(r":\d+$", address.split("//", 1)[1]):
        address += f":{PORT}"
    return address


def send(joined, path, data, timeout=TIMEOUT):
    """POST to the room; None if it took it, else one sentence saying why not.
    It waits `timeout` seconds in all, whatever hangs (the name, the connection, the
    answer): the request runs in a thread that the command leaves behind when it exits."""
    answer = [f"the room at {joined['address']} did not answer"]

    def post():
        body = json.dumps({"code": joined["code"], "name": joined["name"], "key": joined["key"],
                           **data}).encode()
        request = urllib.request.Request(joined["address"] + path, body,
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                answer[0] = None
        except urllib.error.HTTPError as refused:
            try:
                answer[0] = "the room refused it: " + json.loads(refused.read())["error"]
            except (ValueError, KeyError, TypeError, OSError):
                answer[0] = f"the room refused it (HTTP {refused.code})"
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(timeout)
    return answer[0]


def seat_key(state_dir):
    """This VM's secret for its seat, made once: nobody else can report under its name."""
    path = Path(state_dir) / "room-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
    return path.read_text().strip()


def joined_file(state_dir):
    return Path(state_dir) / "room-joined.json"


def load_joined(state_dir):
    """The room this VM joined: {address, code, name, key}, or None."""
    try:
        joined = json.loads(joined_file(state_dir).read_text())
    except (OSError, ValueError):
        return None
    fields = {"address", "code", "name", "key"}
    return joined if isinstance(joined, dict) and fields <= set(joined) else None


def report(state_dir, step, passed, failing, done):
    """After a check or a status: one report if this VM joined a room; at most one line."""
    joined = load_joined(state_dir)
    if joined:
        problem = send(joined, "/api/report", {"step": step, "passed": passed,
                                               "failing": failing[:TEXT_MAX], "done": done})
        if problem:
            print(f"(Not sent to the room: {problem}.)")


def join(state_dir, address, code, name, done, first_open):
    """Opt in: say what will be sent, check that the room takes it, then remember it."""
    try:
        name = clean_name(name or f"seat-{secrets.randbelow(10000):04d}")
    except BadInput as refused:
        return f"workshop: {refused.args[1]}."
    joined = {"address": url(address), "code": code.strip().upper(), "name": name,
              "key": seat_key(state_dir)}
    print(f"Joining the room at {joined['address']} as '{name}'.\n"
          "From now on, each `workshop check N` and `workshop status` sends the room:\n"
          f"  your seat name '{name}', the step, passed or failed, the title of the first\n"
          "  failing check, the numbers of the steps you passed, and a random key made\n"
          "  in this VM, so that nobody else can report under your name.\n"
          "`workshop help [TEXT]` sends TEXT. Nothing else: no output, no code, no files.\n"
          "`workshop leave` stops it.")
    step = first_open if first_open is not None else max(done)
    problem = send(joined, "/api/report", {"step": step, "passed": first_open is None,
                                           "failing": "", "done": done}, timeout=5)
    if problem:
        return f"workshop: not joined: {problem}."
    joined_file(state_dir).parent.mkdir(parents=True, exist_ok=True)
    joined_file(state_dir).write_text(json.dumps(joined, indent=2))
    print(f"Joined room {joined['code']}.")
    return 0


def leave(state_dir):
    joined = load_joined(state_dir)
    joined_file(state_dir).unlink(missing_ok=True)
    print(f"Left room {joined['code']}: nothing more is sent." if joined
          else "You are in no room: nothing is sent.")
    return 0


def hand(state_dir, text, done):
    joined = load_joined(state_dir)
    if not joined:
        return "workshop: join a room first: workshop join ADDRESS CODE [NAME]"
    data = {"down": True} if done else {"text": text[:TEXT_MAX]}
    problem = send(joined, "/api/hand", data, timeout=5)
    if problem:
        return f"workshop: {problem}."
    print("Hand lowered." if done else "Hand raised: the instructor sees it on the room view."
          " `workshop help --done` lowers it.")
    return 0


def serve(state_dir, steps, port=PORT, bind="127.0.0.1", learners_max=LEARNERS_MAX, rate=RATE,
          rate_all=RATE_ALL):
    """`workshop room`: serve until Ctrl-C."""
    try:
        room = Room(Path(state_dir) / "room.json", steps, learners_max, rate)
        server = RoomServer((bind, port), room, rate_all)
    except BadInput as refused:
        return f"workshop: {refused.args[1]}."
    except OSError as error:
        return f"workshop: cannot serve the room on {bind}:{port}: {error.strerror}."
    print(f"Room code: {room.code}\n"
          f"The room view: http://127.0.0.1:{server.server_port}/ (exercises/INSTRUCTORS.md says\n"
          "how your laptop opens it to the venue's network).\n"
          "Learners run, in their VM:\n"
          f"  workshop join <your laptop's address on the venue's network> {room.code} NAME\n"
          f"What the room receives is kept in {room.path}. Ctrl-C stops the room.",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Room stopped; start it again to go on where it was.")
    finally:
        server.server_close()
    return 0
