#!/usr/bin/env python3
"""The `workshop` command: a thin layer over pytest and testinfra for the step checks.

    workshop status        every step: passed or not yet
    workshop check N       run step N's checks (tests/steps/test_step_N.py), say what to fix
    workshop hint N        a hint for step N (from its exercise file)
    workshop room          (instructor) the room view; `join`, `help`, `leave`: room.py
The steps are the files exercises/NN-*.md (tests/steps/course.py reads them), each
checked by tests/steps/test_step_N.py.
Extra arguments after N go to pytest, e.g. `workshop check 3 --hosts=ssh://vagrant@vm`.
A step you pass is recorded in $WORKSHOP_STATE (default ~/.local/state/docker-workshop/
progress.json), because later steps change the machine on purpose: step 4 stops the
VM's PostgreSQL, so step 0's checks fail afterwards, and that is fine. `status` runs
the checks of the steps not recorded yet only, up to the first that fails.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import course
import room

STEPS_DIR = Path(__file__).resolve().parent
PROJECT = STEPS_DIR.parent.parent
EXERCISES = PROJECT / "exercises"
STATE = Path(
    os.environ.get("WORKSHOP_STATE") or Path.home() / ".local/state/docker-workshop/progress.json"
)


def steps():
    return course.steps(EXERCISES)


def title(step):
    return course.title(step, EXERCISES)


def run_checks(numbers, pytest_args=(), verbose=False):
    """Run the checks of steps `numbers` in one pytest; {step: [(check, message or None)]}."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp, "report.xml")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--confcutdir={STEPS_DIR}",
        ]  # the checks' conftest only, not the suite's
        command += [f"--junitxml={report}", *pytest_args]
        command += [str(STEPS_DIR / f"test_step_{step}.py") for step in numbers]
        # The checks keep the learner informed while they wait (steplib.say_progress):
        # pytest holds their output, so they write to a copy of this terminal.
        sys.stdout.flush()
        progress = os.dup(sys.stdout.fileno())
        try:
            done = subprocess.run(command, cwd=PROJECT, capture_output=not verbose, text=True,
                                  env={**os.environ, "WORKSHOP_PROGRESS_FD": str(progress)},
                                  pass_fds=(progress,))
        finally:
            os.close(progress)
        if not report.exists():  # pytest itself failed: show why
            sys.exit(f"workshop: pytest could not run:\n{done.stdout}{done.stderr}")
        results = {step: [] for step in numbers}
        for case in ET.parse(report).iter("testcase"):
            step = int(re.search(r"test_step_(\d+)", case.get("classname")).group(1))
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is None and case.find("skipped") is not None:
                problem = case.find("skipped")
            results[step].append((case.get("name"), None if problem is None else message(problem)))
        return results


def message(problem):
    """What a check's assertion says (steplib.fail's lines), without pytest's decoration.
    The element's text has it whole (its `message` attribute is cut after a few lines)."""
    report = [line[4:] for line in (problem.text or "").splitlines() if line.startswith("E   ")]
    text = "\n".join(report) or problem.get("message") or "failed"
    found = re.search(r"AssertionError: (.*)", text, re.S)
    said = found.group(1) if found else text.splitlines()[0]
    said = re.split(r"\n\s*assert ", said)[0]  # a plain `assert x, msg` adds the expression
    first, _, rest = said.strip("\n").partition("\n")
    rest = textwrap.dedent(rest)  # pytest indents the lines after the first
    return "\n".join(line.rstrip() for line in [first, *rest.splitlines()])


def load_state():
    try:
        return json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}


def record_pass(step):
    state = load_state()
    state[str(step)] = time.strftime("%Y-%m-%d %H:%M")
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2))


def label(name):
    """A check's title: test_server_answers[x] -> "server answers"."""
    return re.sub(r"\[.*\]$", "", name).removeprefix("test_").replace("_", " ")


def first_failing(results):
    return next((label(name) for name, problem in results if problem), "")


def check(step, pytest_args, verbose):
    results = run_checks([step], pytest_args, verbose)[step]
    print(f"Step {step}: {title(step)}")
    said = set()
    for name, problem in results:
        print(f"  {'✘' if problem else '✔'} {label(name)}")
        if problem and problem not in said:
            for line in problem.splitlines():
                print(f"      {line.strip() if not line.startswith('  ') else line}")
            said.add(problem)
    failed = sum(1 for _, problem in results if problem)
    if not results:
        print("No check ran.")
        return 1
    if failed:
        print(f"{failed} of {len(results)} checks failed. `workshop hint {step}` may help.")
        room.report(STATE.parent, step, False, first_failing(results), passed_steps())
        return 1
    record_pass(step)
    room.report(STATE.parent, step, True, "", passed_steps())
    later = [n for n in steps() if n > step]
    missing = [n for n in steps() if str(n) not in load_state()]
    if later:
        print(f"All {len(results)} checks passed: on to step {later[0]}!")
    elif missing:
        print(f"All {len(results)} checks passed. Not passed yet: step "
              + ", ".join(map(str, missing)) + " (`workshop status`).")
    else:
        print(f"All {len(results)} checks passed. Done: every step passed!")
    return 0


def status(pytest_args, verbose):
    """Recorded steps stay passed (later steps change the machine on purpose); the checks
    of the others run in course order up to the first that fails, so that status stays
    quick: the steps after it are "not yet" anyway."""
    every, state = steps(), load_state()
    open_steps = [step for step in every if str(step) not in state]
    now = run_checks(open_steps, ["--exitfirst", *pytest_args], verbose) if open_steps else {}
    done = len(every) - len(open_steps)
    print(f"Progress: {done}/{len(every)} steps passed  [{'#' * done}{'.' * (len(every) - done)}]")
    for step in every:
        if str(step) in state:
            mark, when = "✔", f"passed {state[str(step)]}"
        elif now[step] and not any(problem for _, problem in now[step]):
            mark, when = "✔", "passes now: run `workshop check " + f"{step}` to record it"
        else:
            mark, when = "·", f"not yet: `workshop check {step}`"
        print(f"  {mark} {step} {title(step):<48} {when}")
    # To the room, if this VM joined one: the first step that does not pass now.
    passing = [step for step in every if str(step) in state or (
        now.get(step) and not first_failing(now[step]))]
    first = next((step for step in every if step not in passing), None)
    if first is None:
        room.report(STATE.parent, every[-1], True, "", passing)
    else:
        room.report(STATE.parent, first, False, first_failing(now[first]), passing)
    return 0


def passed_steps():
    return sorted(int(step) for step in load_state())


def hint(step):
    print(course.hint(step, EXERCISES) or f"No hint for step {step}.")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="workshop", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="every step: passed or not yet")
    for name in ("check", "hint"):
        sub = commands.add_parser(name, help=f"{name} step N")
        sub.add_argument("step", type=int, choices=steps(), metavar="N")
    sub = commands.add_parser("room", help="(instructor) serve the room view")
    sub.add_argument("--port", type=int, default=room.PORT,
                     help=f"default {room.PORT} (ROOM_PORT in .env)")
    sub.add_argument("--bind", default="127.0.0.1", help="the address to listen on, "
                     "default 127.0.0.1 (exercises/INSTRUCTORS.md says why)")
    sub.add_argument("--learners", type=int, default=room.LEARNERS_MAX,
                     help=f"learners in the room, at most (default {room.LEARNERS_MAX})")
    sub.add_argument("--rate", type=int, default=room.RATE, help=f"requests per "
                     f"{room.RATE_WINDOW} s from one learner, at most (default {room.RATE})")
    sub.add_argument("--rate-all", type=int, default=room.RATE_ALL, help=f"requests per "
                     f"{room.RATE_WINDOW} s from everyone, at most (default {room.RATE_ALL})")
    sub = commands.add_parser("join", help="report your progress to the instructor's room")
    sub.add_argument("address")
    sub.add_argument("code")
    sub.add_argument("name", nargs="?", help=f"your seat name, {room.NAME_MAX} characters")
    commands.add_parser("leave", help="stop reporting to the room")
    sub = commands.add_parser("help", help="raise your hand in the room (--done lowers it)")
    sub.add_argument("text", nargs="*")
    sub.add_argument("--done", action="store_true")
    args, pytest_args = parser.parse_known_args(argv)
    if os.geteuid() == 0 and os.environ.get("SUDO_USER"):
        parser.exit(2, "workshop: run it without sudo: the checks look at what you, "
                       f"{os.environ['SUDO_USER']}, have (your Python, your containers).\n")
    if args.command == "hint":
        return hint(args.step)
    if args.command in ("room", "join", "leave", "help") and pytest_args:
        parser.error(f"unrecognized arguments: {' '.join(pytest_args)}")
    if args.command == "room":
        every = {step: title(step) for step in steps()}
        return room.serve(STATE.parent, every, args.port, args.bind, args.learners, args.rate,
                          args.rate_all)
    if args.command == "join":
        done = passed_steps()
        first_open = next((step for step in steps() if step not in done), None)
        return room.join(STATE.parent, args.address, args.code, args.name, done, first_open)
    if args.command == "leave":
        return room.leave(STATE.parent)
    if args.command == "help":
        return room.hand(STATE.parent, " ".join(args.text), args.done)
    if args.command == "check":
        return check(args.step, pytest_args, args.verbose)
    return status(pytest_args, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
