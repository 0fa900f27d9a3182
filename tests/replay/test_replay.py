"""The exercises, replayed: every command of exercises/*.md, in order, in a fresh
stand-in VM, as the vagrant user in one terminal; after each step, `workshop check N`
must pass. After each step, a wrong state is set up too, and the step's check must
fail with its message; then the state is put back and the check passes again.

Tests in this module run in file order and share one VM: a failed step fails the
steps after it (they say so), rather than skipping them.
"""

import json
import os
import statistics
import time

import pytest

from exercises import commands
from settings import S

pytestmark = [pytest.mark.vm, pytest.mark.docker]
broken = []  # the first step that failed
TIMINGS = os.environ.get("REPLAY_TIMINGS")  # bench/bench_steps.sh: where to write timings


def check(terminal, step):
    return terminal.run(f"workshop check {step}", timeout=180)


def replay(terminal, step):
    """Run step `step`'s commands as written, then its check."""
    if broken:
        pytest.fail(f"not replayed: {broken[0]} failed before it")
    broken.append(f"step {step}")  # removed again when the step passes
    started = time.monotonic()
    for command in commands(step):
        if command.action == "background":
            status, output = terminal.background(command.text, f"/tmp/replay-step-{step}.log")
        elif command.action == "ctrl-c":
            status, output = terminal.ctrl_c()
        elif command.retry:
            status, output = terminal.retry(command.text, command.retry)
        else:
            status, output = terminal.run(command.text)
        if command.action == "fail":
            assert status != 0, f"step {step}: `{command.text}` should fail:\n{output}"
        else:
            assert status == 0, f"step {step}: `{command.text}` exited {status}:\n{output}"
    replayed = time.monotonic() - started
    status, output = check(terminal, step)
    if status:  # what the background server said helps
        output += "\n" + terminal.run("tail -n 20 /tmp/replay-step-*.log")[1]
    assert status == 0, f"`workshop check {step}` failed right after step {step}:\n{output}"
    broken.clear()
    if TIMINGS:
        record(terminal, step, replayed)


def record(terminal, step, replayed):
    """For bench/: time `workshop check N` five times as the learner runs it."""
    seconds = []
    for _ in range(5):
        start = time.monotonic()
        check(terminal, step)
        seconds.append(time.monotonic() - start)
    line = {
        "step": step,
        "replay_s": round(replayed, 1),
        "check_median_s": round(statistics.median(seconds), 2),
        "check_max_s": round(max(seconds), 2),
    }
    with open(TIMINGS, "a") as out:
        out.write(json.dumps(line) + "\n")


def wrong_state(terminal, step, break_it, message, put_back):
    """`workshop check N` fails with `message` in the wrong state, passes once put back."""
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    broken.append(f"the wrong state of step {step}")
    for command in break_it:
        assert terminal.run(command)[0] == 0, f"could not set up the wrong state: {command}"
    status, output = check(terminal, step)
    assert status != 0 and message in output, (
        f"`workshop check {step}` should fail saying {message!r}:\n{output}"
    )
    for command in put_back:
        assert terminal.retry(command, 60)[0] == 0, f"could not put the state back: {command}"
    status, output = check(terminal, step)
    assert status == 0, f"`workshop check {step}` fails after the state was put back:\n{output}"
    broken.clear()


def step_command(step, start):
    """The text of step `step`'s last command that starts with `start`."""
    return [c.text for c in commands(step) if c.text.startswith(start)][-1]


WEB, DB = S["WEB_CONTAINER"], S["DB_CONTAINER"]
RUN_WEB = f"docker run -d --name={WEB}"


def test_step_0_replays(terminal):
    replay(terminal, 0)


def test_step_0_fails_when_the_vm_postgresql_is_down(terminal):
    wrong_state(
        terminal,
        0,
        ["sudo systemctl stop postgresql"],
        "The VM's PostgreSQL is not running",
        ["sudo systemctl start postgresql"],
    )


def test_step_1_replays(terminal):
    replay(terminal, 1)


def test_step_1_fails_without_the_web_image(terminal):
    saved = "replay-wrong-state/web:saved"
    image = S["WEB_IMAGE"]
    wrong_state(
        terminal,
        1,
        [f"docker tag {image} {saved}", f"docker rmi {image}"],
        f"There is no image {S['WEB_IMAGE']}",
        [f"docker tag {saved} {S['WEB_IMAGE']}", f"docker rmi {saved}"],
    )


def test_step_2_replays(terminal):
    replay(terminal, 2)


def test_step_2_fails_with_a_leftover_container(terminal):
    wrong_state(
        terminal,
        2,
        [f"docker create --name {WEB} {S['WEB_IMAGE']}"],
        f"A container named {WEB} is left over",
        [f"docker rm {WEB}"],
    )


def test_step_3_replays(terminal):
    replay(terminal, 3)


def test_step_3_fails_with_the_wrong_port(terminal):
    right = step_command(3, RUN_WEB)
    wrong = right.replace(f"-p {S['WEB_PORT']}:8080", "-p 8081:8080")
    assert wrong != right
    wrong_state(
        terminal,
        3,
        [f"docker rm -f {WEB}", wrong],
        f"does not publish its port 8080 on the VM's port {S['WEB_PORT']}",
        [f"docker rm -f {WEB}", right],
    )


def test_step_4_replays(terminal):
    replay(terminal, 4)


def test_step_4_fails_while_the_vm_postgresql_runs(terminal):
    wrong_state(
        terminal,
        4,
        ["sudo systemctl start postgresql"],
        "The VM's PostgreSQL is still running",
        ["sudo systemctl stop postgresql"],
    )


def test_step_5_replays(terminal):
    replay(terminal, 5)


def test_step_5_fails_when_the_data_is_lost(terminal):
    # A plain postgres:15 container instead of the committed image: the data is gone.
    fresh_db = step_command(4, f"docker run -d --name {DB}")
    back = [c.text for c in commands(5)]
    back = back[max(i for i, text in enumerate(back) if text == f"docker rm -f {DB}") :]
    wrong_state(
        terminal,
        5,
        [f"docker rm -f {DB}", fresh_db],
        'has no "Such payload, much content!" message',
        back,
    )


def test_step_6_replays(terminal):
    replay(terminal, 6)


def test_step_6_fails_when_the_volume_was_removed(terminal):
    post = step_command(6, "curl -fsS -XPOST")
    wrong_state(
        terminal,
        6,
        ["docker compose down -v", "docker compose up -d"],
        'without "Hello from compose"',
        [post],
    )


def test_step_7_replays(terminal):
    replay(terminal, 7)


def test_step_7_fails_with_a_replica_missing(terminal):
    wrong_state(
        terminal,
        7,
        ["docker service scale --detach docker-workshop_web=2", "sleep 5"],
        "has 2 running tasks, not 3",
        [
            "docker service scale --detach docker-workshop_web=3",
            'test "$(docker service ls --filter name=docker-workshop_web '
            "--format '{{.Replicas}}')\" = 3/3",
        ],
    )


def test_status_shows_every_step_passed(terminal):
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    status, output = terminal.run("workshop status", timeout=300)
    assert status == 0 and "Progress: 8/8 steps passed" in output, output
