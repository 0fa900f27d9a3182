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
from replayer import plan, plan_id, real_vm_only, replay_step, timings, try_mistake

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


@pytest.mark.parametrize("item", plan(STEPS), ids=plan_id)
def test_replay(terminal, item):
    step, mistake = item
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    broken.append(plan_id(item))  # removed again when the item passes
    if mistake is None:
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
