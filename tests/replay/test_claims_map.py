"""Every EXERCISE answer that states how Docker behaves is backed by a named test that
observes it. The exercise file says which, right below the answer, in a comment that
renders as nothing: `<!-- proof: tests/path.py::test_name, ... -->` (statements in the
text carry one too). This fails if an answer has no proof, or a proof names a test that
does not exist (renamed, removed)."""

import re

import pytest

from course import step_files, steps
from replayer import plan, plan_id
from settings import PROJECT

PROOF = re.compile(r"<!-- proof: (.*?) -->", re.S)


def answers(text):
    """{question: the answer's text up to the next answer or the end of the block}."""
    parts = re.split(r"^\*\*(Q\d+\.\d+):", text, flags=re.M)
    pairs = zip(parts[1::2], parts[2::2], strict=True)
    return {question: body.split("</details>")[0] for question, body in pairs}


def proofs(text):
    return [ref.strip() for found in PROOF.findall(text) for ref in found.split(",")]


def defined(reference):
    """The test exists; a parametrized one (name[id]) has that id too."""
    path, _, name = reference.partition("::")
    name, _, case = name.partition("[")
    file = PROJECT / path
    if not file.is_file() or not re.search(rf"^def {name}\(", file.read_text(), re.M):
        return False
    return not case or case.rstrip("]") in {plan_id(item) for item in plan()}


@pytest.mark.parametrize("step", steps())
def test_every_question_has_an_answer_with_its_proof(step):
    text = step_files()[step].read_text()
    asked = re.findall(r"^\*\*(Q\d+\.\d+)\*\* ", text, re.M)
    given = answers(text)
    assert sorted(given) == sorted(asked), f"step {step}: questions vs answers"
    assert [q for q in asked if not proofs(given[q])] == [], f"step {step}: answers without proof"


@pytest.mark.parametrize("step", steps())
def test_every_proof_names_a_test_that_exists(step):
    found = proofs(step_files()[step].read_text())
    assert [reference for reference in found if not defined(reference)] == []


def test_the_proofs_are_found_at_all():
    assert sum(len(proofs(path.read_text())) for path in step_files().values()) >= 20


def test_every_proof_on_docker_runs_on_the_replays_engine():
    """A proof in tests/containers is in a module marked replay_engine: it runs on the
    learner's engine (tests/containers/conftest.py), not on this machine's."""
    files = {reference.partition("::")[0] for path in step_files().values()
             for reference in proofs(path.read_text())}
    on_docker = sorted(f for f in files if f.startswith("tests/containers/"))
    assert on_docker
    marked = re.compile(r"^pytestmark = .*pytest\.mark\.replay_engine", re.M)
    assert [f for f in on_docker if not marked.search((PROJECT / f).read_text())] == []
