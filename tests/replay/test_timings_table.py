"""exercises/README.md's table of how long each step takes: one row per step of the
folder, in order, with its title, and a learner's time that follows from the measured
replay time (bench/bench_steps.sh) and the step's text by the rule the README states.
Adding, removing, renaming or much lengthening a step without updating the table fails
here."""

import math
import re

import pytest

from course import EXERCISES, learner_text, steps, text, title
from replayer import real_vm_only

README = (EXERCISES / "README.md").read_text()
ROW = re.compile(r"^\| (\d+) \| (.+?) \| (\d+|-) \| (\d+) \|$", re.M)
WORDS_A_MINUTE, MINUTES_A_COMMAND, MINUTES_A_QUESTION = 150, 0.5, 2


def rows():
    return [(int(step), name, replay, int(minutes))
            for step, name, replay, minutes in ROW.findall(README)]


def estimate(step, replay_s):
    """Minutes: the replay's time, reading the text (code blocks aside), typing each
    command, answering each question; rounded up to 5 minutes."""
    prose = re.sub(r"```.*?```", "", text(step), flags=re.S)
    words = len(re.findall(r"[A-Za-z']+", prose))
    questions = len(re.findall(r"^\*\*Q\d+\.\d+\*\* ", text(step), re.M))
    minutes = (replay_s / 60 + words / WORDS_A_MINUTE
               + MINUTES_A_COMMAND * len(learner_text(step)) + MINUTES_A_QUESTION * questions)
    return 5 * math.ceil(minutes / 5)


def test_the_table_lists_every_step_in_order_with_its_title():
    assert [(step, name) for step, name, _, _ in rows()] == [(s, title(s)) for s in steps()]


@pytest.mark.parametrize("row", rows(), ids=lambda row: f"step{row[0]}")
def test_each_learner_time_follows_from_the_replay_and_the_text(row):
    step, _, replay, minutes = row
    assert (replay == "-") == real_vm_only(step), "only a real-VM-only step has no replay time"
    # Within one rounding step: a small edit to the text need not touch the table.
    assert abs(minutes - estimate(step, 0 if replay == "-" else int(replay))) <= 5


def test_the_total_is_the_sum_and_about_half_a_day():
    total = sum(minutes for *_, minutes in rows())
    stated = re.search(r"In all: (\d+) h (\d+) min", README)
    assert stated and 60 * int(stated[1]) + int(stated[2]) == total
    assert 180 <= total <= 270, f"{total} min: a workshop of about half a day"
