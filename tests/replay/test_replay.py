"""The exercises, replayed: every command of exercises/*.md, in order (REAL_VM_ONLY steps
aside, below), in a fresh stand-in VM, as the vagrant user in one terminal; after each
step, `workshop check N` must pass. Then each mistake the step's check file declares
(MISTAKES) is made: the check must fail saying so, and pass again once it is undone.

One parametrized test, in course order, sharing one VM: a failed item fails the items
after it (they say so), rather than skipping them. Nothing here names a step.
"""

import json
import os
import re
import statistics
import time

import pytest

import course
from replayer import (
    BREAK,
    check,
    fix_in,
    no_python_value,
    plan,
    plan_id,
    real_vm_only,
    replay_step,
    timings,
    try_mistake,
)
from settings import S

pytestmark = [pytest.mark.vm, pytest.mark.docker]
broken = []  # the first item that failed
TIMINGS = os.environ.get("REPLAY_TIMINGS")  # bench/bench_steps.sh: where to write timings
SAID = os.environ.get("REPLAY_SAID")  # where to write what the checks said on mistakes
# A REAL_VM_ONLY step is replayed, with its mistakes, in the real VM only
# (tests/realvm/test_vm_replay.py). The steps after it do not need what it leaves behind.
STEPS = [step for step in course.steps() if not real_vm_only(step)]


def timed_status(terminal, label):
    """bench/: `workshop status` five times, as the learner runs it."""
    seconds = []
    for _ in range(5):
        start = time.monotonic()
        terminal.run("workshop status", timeout=300)
        seconds.append(time.monotonic() - start)
    with open(TIMINGS, "a") as out:
        out.write(json.dumps({"status": label, "median_s": round(statistics.median(seconds), 2),
                              "max_s": round(max(seconds), 2)}) + "\n")


def test_status_before_any_step(terminal):
    status, output = terminal.run("workshop status", timeout=300)
    assert status == 0 and f"Progress: 0/{len(course.steps())} steps passed" in output, output
    if TIMINGS:
        timed_status(terminal, "no step recorded yet")


def test_checks_before_any_step_say_no_python_value(terminal):
    """Each step's check on a VM where nothing was done yet: every message in plain words."""
    for step in course.steps():
        status, output = check(terminal, step)
        assert status == 1, f"`workshop check {step}` before any step:\n{output}"
        no_python_value(output, f"`workshop check {step}` before any step")


@pytest.mark.parametrize("item", plan(STEPS), ids=plan_id)
def test_replay(terminal, restart_vm, item):
    step, mistake = item
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    broken.append(plan_id(item))  # removed again when the item passes
    if mistake is BREAK:
        take_a_break(terminal, restart_vm, step)
    elif mistake is None:
        replayed = replay_step(terminal, step)
        if TIMINGS:
            with open(TIMINGS, "a") as out:
                out.write(timings(terminal, step, replayed) + "\n")
    else:
        said = try_mistake(terminal, step, mistake)
        if SAID:  # for exercises/INSTRUCTORS.md: what each check says about each mistake
            with open(SAID, "a") as out:
                out.write(json.dumps({"step": step, "what": mistake.what, "said": said}) + "\n")
        for quoted in quotes(step, mistake):
            assert re.search(quoted, lines(said)), (
                f"exercises/INSTRUCTORS.md quotes `workshop check {step}` on '{mistake.what}' "
                f"as:\n{quoted}\nbut it said:\n{said}")
    broken.clear()


def take_a_break(terminal, restart_vm, step):
    """The VM restarts, as after `vagrant halt` and `vagrant up`: then the step's check
    passes (what it built came back by itself), or the Fix it prints, pasted once and
    whole as a learner pastes it, makes it pass; and every message is still there."""
    page = f"curl -fsS http://localhost:{S['WEB_PORT']}/"
    status, before = terminal.run(page)
    assert status == 0, before
    folder = terminal.run("pwd")[1].strip()
    restart_vm()
    terminal.reopen()  # `vagrant ssh` again: at home, so back to the folder (README says so)
    terminal.run(f"cd {folder}")
    status, output = check(terminal, step)
    if status:
        fix = fix_in(output)
        assert fix, f"`workshop check {step}` after a break gives no Fix:\n{output}"
        no_python_value(output, f"`workshop check {step}` after a break")
        terminal.run("\n".join(fix))  # its own exit status: the check says whether it worked
        status, output = check(terminal, step)
    assert status == 0, f"`workshop check {step}` after a break:\n{output}"
    status, after = terminal.run(page)
    assert (status, after) == (0, before), "the messages changed over the break"


def lines(text):
    """The text's lines, stripped, joined again: a quote is compared without indentation."""
    return "\n".join(line.strip() for line in text.strip().splitlines())


def quotes(step, mistake):
    """The quotes of this mistake's message, as patterns: `<pid>`, `<id>` match a word."""
    return [re.sub(r"<[a-z]+>", r"\\S+", re.escape(lines(body)))
            for number, what, body in course.quoted_messages()
            if (number, what) == (step, mistake.what)]


def test_status_shows_every_step_passed(terminal):
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    status, output = terminal.run("workshop status", timeout=300)
    every = len(course.steps())
    assert status == 0 and f"Progress: {len(STEPS)}/{every} steps passed" in output, output
    if TIMINGS:
        timed_status(terminal, "every step recorded")
