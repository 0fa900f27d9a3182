"""The replay, as a library: any learner's terminal (tests/replay/shell.py: the stand-in
VM's, or a real VM's over `vagrant ssh`) replays a step's commands from its exercise
file, and the mistakes its check file declares (MISTAKES in tests/steps/test_step_N.py).
Nothing here knows a step by its number: the course is the folder (tests/steps/course.py).
"""

import importlib.util
import json
import re
import statistics
import time

import course
from steplib import Mistake

CHECK_TIMEOUT = 180
# What Python prints for its own values, which must never reach a learner's message.
PYTHON_VALUE = re.compile(r"\b(None|True|False)\b|\{'|\['")


def check_module(step, checks=None):
    """tests/steps/test_step_N.py, imported (for its MISTAKES)."""
    path = (checks or course.CHECKS) / f"test_step_{step}.py"
    spec = importlib.util.spec_from_file_location(f"replayed_step_{step}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def real_vm_only(step):
    """Whether step N's check file says only the real VM can replay it (REAL_VM_ONLY: step
    7's routing mesh needs the IPVS of the VM's own kernel, which the stand-in VM lacks)."""
    return getattr(check_module(step), "REAL_VM_ONLY", False)


def mistakes(step, checks=None):
    return list(getattr(check_module(step, checks), "MISTAKES", []))


# A plan item: the learner's VM restarts after the step (`vagrant halt`, `vagrant up`), for
# the steps whose check file says TAKE_A_BREAK = True (the replay's take_a_break).
BREAK = Mistake("a break", make=[], says=None)


def plan(steps=None, checks=None):
    """[(step, mistake or None)] in course order: each step, then each of its mistakes,
    then a break where its check file asks for one."""
    items = []
    for step in course.steps() if steps is None else steps:
        items.append((step, None))
        items += [(step, mistake) for mistake in mistakes(step, checks)]
        if getattr(check_module(step, checks), "TAKE_A_BREAK", False):
            items.append((step, BREAK))
    return items


def plan_id(item):
    step, mistake = item
    return f"step{step}" + (f"-{mistake.what.replace(' ', '-')}" if mistake else "")


def check(terminal, step):
    return terminal.run(f"workshop check {step}", timeout=CHECK_TIMEOUT)


def replay_step(terminal, step):
    """Run step `step`'s commands as written, then its check; seconds the commands took."""
    started = time.monotonic()
    for command in course.commands(step):
        if command.action == "background":
            status, output = terminal.background(command.text, f"/tmp/replay-step-{step}.log")
        elif command.action == "ctrl-c":
            status, output = terminal.ctrl_c()
            status = 0 if status == 130 else status  # 128 + SIGINT: ended by Ctrl+C, fine
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
    return replayed


def no_python_value(output, what):
    found = PYTHON_VALUE.search(output)
    assert not found, f"{what}: a Python value ({found.group(0)}) in the message:\n{output}"


def fix_in(output):
    """The commands under the first `Fix:` of a check's output, as the learner reads them."""
    lines = output.splitlines()
    for number, line in enumerate(lines):
        if line.strip() == "Fix:":
            indent = len(line) - len(line.lstrip())
            commands = []
            for below in lines[number + 1 :]:
                if not below.strip() or len(below) - len(below.lstrip()) <= indent:
                    break
                commands.append(below.strip())
            return commands
    return []


def try_mistake(terminal, step, mistake):
    """Make the mistake; `workshop check N` must fail saying `mistake.says`; then undo it
    (by default: run the commands the check's `Fix:` gives, verbatim) and the check must
    pass again. A mistake whose `says` is None is a variant the check must accept.
    Returns what the check said about the mistake."""
    for command in mistake.make:
        status, output = terminal.run(command)
        assert status == 0, f"could not make the mistake ({mistake.what}): {command}\n{output}"
    status, output = check(terminal, step)
    if mistake.says is None:
        assert status == 0, f"`workshop check {step}` should accept '{mistake.what}':\n{output}"
    else:
        assert status != 0 and mistake.says in output, (
            f"`workshop check {step}` after the mistake '{mistake.what}' should fail saying "
            f"{mistake.says!r}:\n{output}"
        )
    no_python_value(output, f"`workshop check {step}` after '{mistake.what}'")
    said = output
    undo = mistake.undo or fix_in(output)
    assert undo, f"`workshop check {step}` gives no Fix for '{mistake.what}':\n{output}"
    for command in undo:
        status, undone = terminal.retry(command, 60)
        assert status == 0, f"undoing '{mistake.what}': `{command}` exited {status}:\n{undone}"
    status, after = check(terminal, step)
    assert status == 0, (
        f"`workshop check {step}` still fails after '{mistake.what}' was undone with:\n"
        + "\n".join(undo) + f"\n{after}"
    )
    return said


def timings(terminal, step, replayed):
    """For bench/: `workshop check N` five times as the learner runs it (a JSON line)."""
    seconds = []
    for _ in range(5):
        start = time.monotonic()
        check(terminal, step)
        seconds.append(time.monotonic() - start)
    return json.dumps({
        "step": step,
        "replay_s": round(replayed, 1),
        "check_median_s": round(statistics.median(seconds), 2),
        "check_max_s": round(max(seconds), 2),
    })
