"""The step checks run through `workshop check N` (pytest on this folder), in the VM or
anywhere with --hosts. Put tests/ on sys.path so `from settings import S` works even
when pytest does not find the project's pyproject.toml."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402

import steplib  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def late_starters(host):
    """Before a step's checks: wait for the containers that are still starting (a check
    run right after `docker run -d`), and keep the last log line of any that never came
    up, for the checks' messages (steplib.no_answer)."""
    steplib.LATE.update(steplib.wait_for_starting_containers(host))
    yield
    steplib.LATE.clear()
