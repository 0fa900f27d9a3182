"""The course is the folder: every step is one file `exercises/NN-<name>.md`, checked by
`tests/steps/test_step_N.py`. Everything that needs the list of steps, a step's title,
its hint or its commands (the `workshop` command, the checks, the replay, the text
tests, bench/) reads it here, from the exercise files, and nowhere else.

A fenced block's info string says what the replay does with it (exercises/README.md):
```sh (run, must succeed), ```sh expect=fail, ```sh retry=SECONDS,
```sh replay=background, ```sh replay=skip, ```text keys=ctrl-c. Other blocks are
output to read, never run.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent
EXERCISES = PROJECT / "exercises"
CHECKS = PROJECT / "tests" / "steps"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.M | re.S)
HINT = re.compile(r"<details>\s*<summary>Hint</summary>\s*(.*?)\s*</details>", re.S)


def step_files(exercises=None):
    """{step number: its exercise file}, in order."""
    found = sorted(Path(exercises or EXERCISES).glob("[0-9][0-9]-*.md"))
    return {int(path.name[:2]): path for path in found}


def steps(exercises=None):
    return list(step_files(exercises))


def text(step, exercises=None):
    path = step_files(exercises).get(step)
    return path.read_text() if path else ""


def title(step, exercises=None):
    """The step's title: its first heading, without "Step N: "."""
    first = text(step, exercises).partition("\n")[0]
    return first.lstrip("# ").split(": ", 1)[-1]


def hint(step, exercises=None):
    """The step's hint: its `<details><summary>Hint</summary>` block, as plain text."""
    found = HINT.search(text(step, exercises))
    return found.group(1).strip() if found else ""


@dataclass
class Command:
    step: int
    text: str  # one command, continuation lines joined as the shell reads them
    action: str = "run"  # run | fail | background | ctrl-c
    retry: int = 0  # seconds the replay may retry it for
    attributes: dict = field(default_factory=dict)


def blocks(path):
    """(language, attributes, body) of every fenced block in the file."""
    for language, info, body in FENCE.findall(Path(path).read_text()):
        yield language, dict(re.findall(r"(\w+)=(\S+)", info)), body


def commands_in(body):
    """Split a block into commands: one per line, `\\` continues a line."""
    joined = re.sub(r"\\\n\s*", "", body)
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def commands(step=None, exercises=None):
    """Every command the replay runs, in order; only step `step`'s if given."""
    found = []
    for number, path in step_files(exercises).items():
        if step is not None and number != step:
            continue
        for language, attrs, body in blocks(path):
            if language == "text" and attrs.get("keys") == "ctrl-c":
                found.append(Command(number, "Ctrl+C", "ctrl-c", attributes=attrs))
            if language != "sh" or attrs.get("replay") == "skip":
                continue
            action = "background" if attrs.get("replay") == "background" else "run"
            action = "fail" if attrs.get("expect") == "fail" else action
            for line in commands_in(body):
                found.append(Command(number, line, action, int(attrs.get("retry", 0)), attrs))
    return found


def learner_text(step=None, exercises=None):
    """Every shell command the learner reads, skipped ones included."""
    texts = []
    for number, path in step_files(exercises).items():
        if step is None or number == step:
            for language, _, body in blocks(path):
                if language == "sh":
                    texts += commands_in(body)
    return texts


def command(step, start, exercises=None):
    """The text of step `step`'s last command that starts with `start`."""
    found = [c.text for c in commands(step, exercises) if c.text.startswith(start)]
    if not found:
        raise LookupError(f"step {step} has no command that starts with {start!r}")
    return found[-1]


def posted(step, exercises=None):
    """The last message step `step` tells the learner to POST (`-d "..."`)."""
    found = re.findall(r"-XPOST \S+ -d ([\"'])(.*?)\1", "\n".join(learner_text(step, exercises)))
    if not found:
        raise LookupError(f"step {step} posts no message")
    return found[-1][1]


def commands_from(step, text, exercises=None):
    """Step `step`'s commands from its last command `text` to its end."""
    found = [c.text for c in commands(step, exercises)]
    if text not in found:
        raise LookupError(f"step {step} has no command {text!r}")
    return found[len(found) - 1 - found[::-1].index(text) :]


QUOTED_CHECK = re.compile(r"^\s*check (\d+): (.+?)\s*$")


def quoted_messages(path=None):
    """The check messages the instructors' page quotes: its ```text check N: WHAT``` blocks
    (step N, the mistake WHAT its check file declares, the lines quoted). The replay makes
    each mistake and finds these lines in what `workshop check N` really says."""
    quoted = []
    for kind, info, body in FENCE.findall(Path(path or EXERCISES / "INSTRUCTORS.md").read_text()):
        found = QUOTED_CHECK.match(info)
        if kind == "text" and found:
            quoted.append((int(found[1]), found[2], body.strip("\n")))
    return quoted
