"""Reads the learner's commands out of exercises/*.md, exactly as written.

A fenced block's info string says what the replay does with it (exercises/README.md):
```sh (run, must succeed), ```sh expect=fail, ```sh retry=SECONDS,
```sh replay=background, ```sh replay=skip, ```text keys=ctrl-c. Other blocks are
output to read, never run.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from settings import PROJECT

EXERCISES = PROJECT / "exercises"
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.M | re.S)


@dataclass
class Command:
    step: int
    text: str  # one command, continuation lines joined as the shell reads them
    action: str = "run"  # run | fail | background | ctrl-c
    retry: int = 0  # seconds the replay may retry it for
    attributes: dict = field(default_factory=dict)


def step_files():
    return sorted(EXERCISES.glob("[0-9][0-9]-*.md"))


def blocks(path):
    """(language, attributes, body) of every fenced block in the file."""
    for language, info, body in FENCE.findall(Path(path).read_text()):
        yield language, dict(re.findall(r"(\w+)=(\S+)", info)), body


def commands_in(body):
    """Split a block into commands: one per line, `\\` continues a line."""
    joined = re.sub(r"\\\n\s*", "", body)
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def commands(step=None):
    """Every command the replay runs, in order; only step `step`'s if given."""
    found = []
    for path in step_files():
        number = int(path.name[:2])
        if step is not None and number != step:
            continue
        for language, attrs, body in blocks(path):
            if language == "text" and attrs.get("keys") == "ctrl-c":
                found.append(Command(number, "Ctrl+C", "ctrl-c", attributes=attrs))
            if language != "sh" or attrs.get("replay") == "skip":
                continue
            action = "background" if attrs.get("replay") == "background" else "run"
            action = "fail" if attrs.get("expect") == "fail" else action
            for text in commands_in(body):
                found.append(Command(number, text, action, int(attrs.get("retry", 0)), attrs))
    return found


def learner_text(step=None):
    """Every shell command the learner reads, skipped ones included."""
    texts = []
    for path in step_files():
        if step is None or int(path.name[:2]) == step:
            for language, _, body in blocks(path):
                if language == "sh":
                    texts += commands_in(body)
    return texts
