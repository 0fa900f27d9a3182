"""The `workshop` command (tests/steps/workshop.py) on its own: it runs real pytest on
step files, here small stand-in step files in a temporary folder, so that passing and
failing checks are certain whatever this machine's Docker state is. The real checks
are run by the replay (tests/replay/test_replay.py), in the stand-in VM."""

import importlib.util
import re

import pytest

from settings import PROJECT

spec = importlib.util.spec_from_file_location("workshop", PROJECT / "tests/steps/workshop.py")
workshop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(workshop)

PASSING = "def test_all_good(host):\n    assert host.run('true').rc == 0\n"
FAILING = (
    "def test_fine():\n    pass\n\n\n"
    "def test_broken():\n    assert False, 'The thing is missing: run `make thing`.'\n"
)


@pytest.fixture
def steps(tmp_path, monkeypatch):
    """Step files in a temporary folder, and a temporary progress file."""
    folder = tmp_path / "steps"
    folder.mkdir()
    (folder / "hints.md").write_text((PROJECT / "tests/steps/hints.md").read_text())
    for step in workshop.STEPS:
        (folder / f"test_step_{step}.py").write_text(FAILING if step == 3 else PASSING)
    monkeypatch.setattr(workshop, "STEPS_DIR", folder)
    monkeypatch.setattr(workshop, "STATE", tmp_path / "state" / "progress.json")
    return folder


def test_check_passes_records_and_exits_0(steps, capsys):
    assert workshop.main(["check", "2"]) == 0
    out = capsys.readouterr().out
    assert "✔ all good" in out and "on to step 3" in out
    assert "2" in workshop.load_state()


def test_check_failing_prints_the_message_once_and_exits_1(steps, capsys):
    assert workshop.main(["check", "3"]) == 1
    out = capsys.readouterr().out
    assert "✔ fine" in out and "✘ broken" in out
    assert out.count("The thing is missing: run `make thing`.") == 1
    assert "1 of 2 checks failed" in out and "workshop hint 3" in out
    assert "3" not in workshop.load_state()


def test_status_shows_every_step_and_the_progress(steps, capsys):
    workshop.main(["check", "0"])
    capsys.readouterr()
    assert workshop.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "Progress: 1/8 steps passed" in out
    lines = [line for line in out.splitlines() if re.match(r"  . \d ", line)]
    assert len(lines) == 8
    assert "passed" in lines[0] and "passes now" in lines[1] and "not yet" in lines[3]


def test_extra_arguments_go_to_pytest(steps, capsys):
    assert workshop.main(["check", "3", "-k", "fine"]) == 0
    assert "broken" not in capsys.readouterr().out


@pytest.mark.parametrize("step", workshop.STEPS)
def test_hint_prints_that_step_only(step, capsys):
    assert workshop.main(["hint", str(step)]) == 0
    out = capsys.readouterr().out.strip()
    assert out and "## Step" not in out


def test_titles_come_from_the_exercise_files():
    assert [workshop.title(step) for step in workshop.STEPS][
        0
    ] == "the VM, PostgreSQL and the server"
    assert all(workshop.title(step) for step in workshop.STEPS)


def test_no_such_step_is_refused():
    with pytest.raises(SystemExit):
        workshop.main(["check", "8"])
