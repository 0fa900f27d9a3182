"""The `workshop` command (tests/steps/workshop.py) and the course layout, on their own.

Each test works in a temporary copy of the project, so that passing and failing checks
are certain whatever this machine's Docker state is: `checks` swaps in stand-in check
files; `throwaway_step` adds a whole new step (an exercise file and a check file, nothing
else) and shows that everything that knows the course picks it up. The real checks are
run by the replay (tests/replay/test_replay.py), in the stand-in VM.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from course import steps
from settings import PROJECT
from shell import Shell

PASSING = "def test_all_good(host):\n    assert host.run('true').rc == 0\n"
FAILING = (
    "def test_fine():\n    pass\n\n\n"
    "def test_broken():\n    assert False, 'The thing is missing: run `make thing`.'\n"
)
COPIED = [".env", "pyproject.toml", "Dockerfile", "docker-compose.yml", "requirements.txt",
          "exercises", "tests", "sql", "server.py"]


@pytest.fixture
def project(tmp_path):
    """A copy of the project (what the course needs), and a progress file of its own."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in COPIED:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, copy / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        else:
            shutil.copy(source, copy / name)
    return copy


def workshop(project, *args, state=None, env=None):
    """Run the copy's `workshop` as the learner does; (exit status, output)."""
    env = {**{k: v for k, v in os.environ.items() if k != "SUDO_USER"}, **(env or {}),
           "WORKSHOP_STATE": str(state or project / "progress.json")}
    done = subprocess.run([sys.executable, project / "tests/steps/workshop.py", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def checks(project):
    """Every step's check replaced by a passing one, step 3's by a failing one."""
    for step in steps():
        check = FAILING if step == 3 else PASSING
        (project / f"tests/steps/test_step_{step}.py").write_text(check)
    return project


def test_check_passes_records_and_exits_0(checks):
    status, out = workshop(checks, "check", "2")
    assert status == 0, out
    assert "✔ all good" in out and "on to step 3" in out
    assert '"2"' in (checks / "progress.json").read_text()


def test_check_failing_prints_the_message_once_and_exits_1(checks):
    status, out = workshop(checks, "check", "3")
    assert status == 1
    assert "✔ fine" in out and "✘ broken" in out
    assert out.count("The thing is missing: run `make thing`.") == 1
    assert "1 of 2 checks failed" in out and "workshop hint 3" in out
    assert not (checks / "progress.json").exists()


def test_status_shows_every_step_and_the_progress(checks):
    workshop(checks, "check", "0")
    status, out = workshop(checks, "status")
    assert status == 0
    assert f"Progress: 1/{len(steps())} steps passed" in out
    lines = [line for line in out.splitlines() if re.match(r"  . \d+ ", line)]
    assert len(lines) == len(steps())
    assert "passed" in lines[0] and "passes now" in lines[1] and "not yet" in lines[3]


def test_extra_arguments_go_to_pytest(checks):
    status, out = workshop(checks, "check", "3", "-k", "fine")
    assert status == 0 and "broken" not in out


def test_the_last_step_says_done_only_once_every_step_passed(checks):
    last = steps()[-1]
    status, out = workshop(checks, "check", str(last))
    assert status == 0 and "Done" not in out, out
    assert "Not passed yet: step " + ", ".join(map(str, steps()[:-1])) in out, out
    (checks / "progress.json").write_text(json.dumps({str(step): "today" for step in steps()}))
    status, out = workshop(checks, "check", str(last))
    assert status == 0 and "Done: every step passed!" in out, out


@pytest.mark.skipif(os.geteuid() != 0, reason="sudo sets SUDO_USER for root: run as root")
def test_sudo_is_refused_with_a_clear_message(checks):
    """`sudo workshop` would look at root's Python and state, not the learner's."""
    status, out = workshop(checks, "check", "2", env={"SUDO_USER": "vagrant"})
    assert status == 2 and "run it without sudo" in out and "vagrant" in out, out
    assert not (checks / "progress.json").exists()


@pytest.mark.parametrize("step", steps())
def test_hint_prints_the_hint_block_of_that_step_only(project, step):
    status, out = workshop(project, "hint", str(step))
    text = (project / "exercises").glob(f"{step:02d}-*.md")
    block = re.search(r"<summary>Hint</summary>\s*(.*?)\s*</details>", next(text).read_text(),
                      re.S).group(1)
    assert status == 0 and out.strip() == block


def test_titles_come_from_the_exercise_files(checks):
    _, out = workshop(checks, "status")
    assert "0 the VM, PostgreSQL and the server" in out


def test_no_such_step_is_refused(project):
    status, out = workshop(project, "check", str(len(steps())))
    assert status == 2 and "invalid choice" in out


THROWAWAY_TEXT = """# Step {n}: a throwaway step

```mermaid
flowchart LR
  subgraph vm["the VM"]
    marker["a marker file"]
  end
```

**What you'll learn:** that adding a step takes two files.

```sh
touch {marker}
```

## EXERCISE

**Q{n}.1** What does `touch` do here?

1. Creates the marker file
2. Deletes it
3. Nothing
4. It fails

**Q{n}.2** And a second time?

1. It fails
2. It deletes the file
3. It updates the file's time
4. It asks first

<details>
<summary>Answers</summary>

**Q{n}.1: 1.** It creates the file.
<!-- proof: tests/steps_meta/test_workshop.py::test_a_throwaway_step_needs_no_other_edit -->

**Q{n}.2: 3.** `touch` updates an existing file's time.
<!-- proof: tests/steps_meta/test_workshop.py::test_a_throwaway_step_needs_no_other_edit -->

</details>

<details>
<summary>Hint</summary>

Run the touch command.

</details>

Check your work: `workshop check {n}`
"""
THROWAWAY_CHECK = '''"""Step {n}: the marker file exists."""

from steplib import Mistake

MISTAKES = [Mistake("the marker removed", make=["rm {marker}"], says="No marker",
                    undo=["touch {marker}"])]


def test_marker_exists(host):
    assert host.file("{marker}").exists, "No marker at {marker}: run `touch {marker}`."
'''


@pytest.fixture
def throwaway_step(project, tmp_path):
    """A new last step: exercises/NN-throwaway.md and tests/steps/test_step_N.py, only."""
    n, marker = len(steps()), tmp_path / "marker"
    (project / f"exercises/{n:02d}-throwaway.md").write_text(
        THROWAWAY_TEXT.format(n=n, marker=marker))
    (project / f"tests/steps/test_step_{n}.py").write_text(
        THROWAWAY_CHECK.format(n=n, marker=marker))
    return n


def test_a_throwaway_step_needs_no_other_edit(project, throwaway_step, tmp_path):
    n = throwaway_step
    # workshop: status lists it, hint reads it, check fails, then passes.
    status, out = workshop(project, "status")
    assert f"/{n + 1} steps passed" in out and f"  · {n} a throwaway step" in out, out
    assert workshop(project, "hint", str(n)) == (0, "Run the touch command.\n")
    status, out = workshop(project, "check", str(n))
    assert status == 1 and "No marker at" in out
    # The text tests: they pass on the copy, with the new step among their cases.
    texts = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
         "tests/replay/test_exercise_text.py", "tests/replay/test_claims_map.py"],
        cwd=project, capture_output=True, text=True, timeout=300)
    assert texts.returncode == 0, texts.stdout
    assert f"test_every_step_has_a_hint[{n}]" in texts.stdout
    assert f"test_every_question_has_an_answer_with_its_proof[{n}]" in texts.stdout
    # The replay: its plan has the step and its mistake, and replaying them for real
    # (here, in a local shell with the copy's `workshop` on PATH) passes.
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider",
         "tests/replay/test_replay.py"], cwd=project, capture_output=True, text=True,
        timeout=300)
    assert f"test_replay[step{n}]" in collected.stdout
    assert f"test_replay[step{n}-the-marker-removed]" in collected.stdout
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "workshop").write_text(
        f"#!/bin/sh\nexec {sys.executable} {project}/tests/steps/workshop.py \"$@\"\n")
    (bin_dir / "workshop").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "WORKSHOP_STATE": str(tmp_path / "replay-progress.json")}
    replayed = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path[:0] = ['tests', 'tests/steps', 'tests/replay']\n"
         "from shell import Shell\nfrom replayer import plan, replay_step, try_mistake\n"
         f"terminal = Shell(['bash'])\n"
         f"for step, mistake in plan([{n}]):\n"
         "    replay_step(terminal, step) if mistake is None else "
         "try_mistake(terminal, step, mistake)\n"
         "print('replayed', len(plan([" + str(n) + "])))\n"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert replayed.returncode == 0 and "replayed 2" in replayed.stdout, replayed.stderr


def test_status_runs_only_the_checks_of_steps_not_recorded(checks):
    ran = checks / "ran"
    for step in steps():
        (checks / f"tests/steps/test_step_{step}.py").write_text(
            f"def test_runs():\n    open({str(ran)!r}, 'a').write('{step}\\n')\n")
    recorded = {str(step): "2026-11-25 10:00" for step in steps()[:-1]}
    (checks / "progress.json").write_text(json.dumps(recorded))
    status, out = workshop(checks, "status")
    assert status == 0 and f"Progress: {len(recorded)}/{len(steps())}" in out
    assert ran.read_text().split() == [str(steps()[-1])]


QUOTED_FIX = (
    "def test_quoted(host):\n"
    "    from steplib import fail\n"
    "    fail('No message.', 'one', 'none', ['curl -XPOST http://localhost -d \"Hello world\"'])\n"
)


@pytest.mark.parametrize("where", ["test", "fixture"])
def test_a_fix_that_ends_with_a_quote_is_printed_whole(checks, where):
    check = QUOTED_FIX if where == "test" else (
        "import pytest\n\n\n@pytest.fixture\ndef broken(host):\n"
        + QUOTED_FIX.split("\n", 1)[1]
        + "\n\ndef test_uses(broken):\n    pass\n")
    (checks / "tests/steps/test_step_2.py").write_text(check)
    status, out = workshop(checks, "check", "2")
    assert status == 1
    assert '\n        curl -XPOST http://localhost -d "Hello world"\n' in out, out


def test_the_replay_terminal_refuses_an_incomplete_command_and_goes_on():
    terminal = Shell(["bash"])
    try:
        with pytest.raises(ValueError, match="not a complete shell command"):
            terminal.run('echo "an unclosed quote', timeout=10)
        assert terminal.run("echo still here", timeout=10) == (0, "still here")
    finally:
        terminal.close()


def test_a_long_fix_is_printed_whole(checks):
    fix = [f"echo command {n}" for n in range(12)]
    (checks / "tests/steps/test_step_2.py").write_text(
        "from steplib import fail\n\n\n"
        f"def test_long(host):\n    fail('Wrong.', 'a', 'b', {fix!r})\n")
    status, out = workshop(checks, "check", "2")
    assert status == 1 and "\n      Expected: a\n      Found: b\n      Fix:\n" in out
    assert all(f"\n        {command}\n" in out for command in fix), out


def test_status_stops_at_the_first_step_that_fails(checks):
    ran = checks / "ran"
    after = steps()[4]
    (checks / f"tests/steps/test_step_{after}.py").write_text(
        f"def test_runs():\n    open({str(ran)!r}, 'a').write('ran')\n")
    status, out = workshop(checks, "status")
    assert status == 0 and "Progress: 0/" in out
    assert f"  · {after} " in out and not ran.exists()  # step 3 fails first
