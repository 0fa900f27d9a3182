"""The exercise files themselves: their shape, and every literal name a learner types
matches the single source of names, .env. The course is the folder: every test here
reads the list of steps from exercises/NN-*.md (course.py), never a number of steps."""

import re

import pytest
import yaml

from course import CHECKS, commands, hint, learner_text, quoted_messages, step_files, steps
from docker_deprecated import DEPRECATED
from replayer import check_module, mistakes
from settings import PROJECT, S

INSTRUCTORS = PROJECT / "exercises" / "INSTRUCTORS.md"
TEXTS = [*step_files().values(), PROJECT / "exercises" / "files" / "stack.yml", INSTRUCTORS]


def every(pattern, texts=None):
    """{match: [file names]} of `pattern` over the exercise files and hints."""
    found = {}
    for path in texts or TEXTS:
        for match in re.findall(pattern, path.read_text()):
            found.setdefault(match, []).append(path.name)
    return found


def test_steps_are_numbered_from_0_without_gaps():
    assert steps() == list(range(len(steps())))


def test_every_step_has_a_check_file_and_every_check_file_a_step():
    checks = sorted(int(p.stem.rsplit("_", 1)[1]) for p in CHECKS.glob("test_step_*.py"))
    assert checks == steps()


@pytest.mark.parametrize("step", steps())
def test_every_step_opens_with_a_picture(step):
    """A Mermaid flowchart right under the title: what runs where at this step."""
    title, _, rest = step_files()[step].read_text().partition("\n\n")
    assert rest.startswith("```mermaid\nflowchart "), f"step {step}: no picture under the title"
    picture = rest.split("```", 2)[1]
    assert "subgraph vm" in picture, f"step {step}: the picture does not show the VM"


@pytest.mark.parametrize("step", steps())
def test_every_step_has_a_hint(step):
    assert hint(step), f"step {step}: no <details><summary>Hint</summary> block"


@pytest.mark.parametrize("step", steps())
def test_every_step_declares_a_mistake_for_the_replay(step):
    assert mistakes(step), f"tests/steps/test_step_{step}.py declares no MISTAKES"


@pytest.mark.parametrize("step", steps())
def test_each_step_has_questions_answers_and_its_check(step):
    path = step_files()[step]
    text = path.read_text()
    assert text.startswith(f"# Step {step}: ") and "**What you'll learn:**" in text
    assert "## EXERCISE" in text and "<details>" in text and "</details>" in text
    assert text.rstrip().count(f"Check your work: `workshop check {step}`") == 1
    for question in re.split(r"\n\*\*Q\d\.\d\*\* ", text)[1:]:
        choices = re.findall(r"^(\d)\. ", question.split("\n\n**Q")[0], re.M)
        assert choices in ([], ["1", "2", "3", "4"]), f"step {step}: {question[:60]!r}"
    assert len(re.findall(r"^\d\. ", text, re.M)) >= 8  # at least two four-choice questions
    assert commands(step), f"step {step} has no command for the replay"


def test_the_instructors_page_quotes_mistakes_the_checks_declare():
    """Each quoted message belongs to a mistake the step's check file declares, so that the
    replay makes it and compares the quote with what the check says (test_replay.py)."""
    quoted = quoted_messages()
    assert len(quoted) >= 5, "the instructors' page names the five problems learners hit most"
    for step, what, body in quoted:
        declared = {mistake.what: mistake for mistake in check_module(step).MISTAKES}
        assert what in declared, f"step {step} declares no mistake {what!r}: {sorted(declared)}"
        assert declared[what].says and declared[what].says in body, (step, what)


def test_every_docker_workshop_name_is_from_env():
    image_repo = {S[k].split(":")[0] for k in ("WEB_IMAGE", "DB_COMMIT_IMAGE")}
    project = S["VM_PROJECT_DIR"].rsplit("/", 1)[1]
    allowed = {
        S[k]
        for k in ("WEB_IMAGE", "WEB_CONTAINER", "DB_CONTAINER", "DB_COMMIT_IMAGE", "DB_VOLUME",
                  "DB_NETWORK")
    }
    allowed |= image_repo | {project, f"{project}_web", S["DB_COMMIT_IMAGE"].split(":")[0] + ".tar"}
    # Compose's own names: <project>_<network or volume of docker-compose.yml>.
    compose = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    allowed |= {f"{project}_{key}" for key in ["default", *compose.get("volumes", {})]}
    found = every(r"docker-workshop[\w.-]*\w(?::[\d.]+)?")
    assert {name: files for name, files in found.items() if name not in allowed} == {}


@pytest.mark.parametrize(
    ("pattern", "key"),
    [
        (r"POSTGRES_PASSWORD=([\w-]+)", "DB_ADMIN_PASSWORD"),
        (r"localhost:(\d+)", "WEB_PORT"),
        (r"-p (\d+):8080", "WEB_PORT"),
        (r"\b192\.168\.56\.\d+\b(?!/)", "VM_IP"),
        (r"-U (\w+) [^\n]*\.sql (\w+)$", None),
    ],
)
def test_literal_in_commands_matches_env(pattern, key):
    commands_text = "\n".join(learner_text())
    found = set(re.findall(pattern, commands_text, re.M))
    assert found, f"no {pattern} in the commands: this test checks nothing"
    if key is None:  # psql's user and database: the admin's, or the workshop's own
        assert found <= {("postgres", "postgres"), (S["DB_USER"], S["DB_NAME"])}
    else:
        assert found == {S[key]}


@pytest.mark.parametrize(
    ("pattern", "key"),
    [(r"\bpostgres:\d+\b", "POSTGRES_IMAGE"), (r"\bpython:[\d.]+-slim\b", "PYTHON_IMAGE")],
)
def test_image_names_in_the_text_match_env(pattern, key):
    assert set(every(pattern)) == {S[key]}


def test_passwords_given_to_psql_are_from_env():
    found = set(re.findall(r"PGPASSWORD=([\w-]+)", "\n".join(learner_text())))
    assert found == {S["DB_ADMIN_PASSWORD"], S["DB_PASSWORD"]}


def test_project_folder_matches_env():
    assert S["VM_PROJECT_DIR"] == "/home/vagrant/docker-workshop"  # `cd ~/docker-workshop`
    assert "cd ~/docker-workshop" in learner_text(0)


def scanned():
    """(where, line) of what a learner types or runs: the commands in the exercises,
    the step checks (and their library), the files the exercises use, the Dockerfile.
    A line that says "legacy, on purpose" is left out: a check that makes or accepts the
    2016 way on purpose (MISTAKES)."""
    lines = [("exercises' commands", line) for line in learner_text()]
    for path in [*sorted(CHECKS.glob("*.py")), *sorted((PROJECT / "exercises/files").glob("*")),
                 PROJECT / "Dockerfile"]:
        lines += [(path.relative_to(PROJECT).as_posix(), line)
                  for line in path.read_text().splitlines()]
    return lines


@pytest.mark.parametrize("feature", DEPRECATED, ids=lambda d: d.feature)
def test_nothing_docker_removed_or_deprecated_is_used(feature):
    found = [f"{where}: {line.strip()}" for where, line in scanned()
             if re.search(feature.pattern, line) and "legacy, on purpose" not in line]
    assert found == [], f"{feature.feature} ({feature.status}); use {feature.instead}"


@pytest.mark.parametrize(
    ("feature", "line"),
    [
        ("Top-level network properties in NetworkSettings",
         "docker inspect --format '{{.NetworkSettings.IPAddress}}' db"),
        ("Top-level network properties in NetworkSettings",
         'return info["NetworkSettings"]["IPAddress"]'),
        ("Legacy links environment variables (`docker run --link`)",
         "docker run --link db:postgres web"),
        ("--time option on docker stop and docker restart", "docker stop -t 5 web"),
        ("Compose v1 (the docker-compose command)", "docker-compose up -d"),
        ("Dockerfile legacy `ENV name value` syntax", "ENV PGDATA /pg_data"),
    ],
)
def test_the_deprecation_patterns_catch_what_they_name(feature, line):
    (entry,) = [d for d in DEPRECATED if d.feature == feature]
    assert re.search(entry.pattern, line)
    assert not re.search(entry.pattern, "docker compose up -d --network docker-workshop-net")


def test_the_copies_listed_in_env_are_watched_by_tests_that_exist():
    header = "".join(line for line in (PROJECT / ".env").read_text().splitlines(True)
                     if line.startswith("#"))
    files = re.findall(r"\b(tests/\S+\.py)", header)
    names = re.findall(r"\((test_\w+)\)", header)
    assert len(files) >= 4 and names, "the .env header lists no test"
    assert [f for f in files if not (PROJECT / f).is_file()] == []
    sources = "".join((PROJECT / f).read_text() for f in files)
    assert [n for n in names if f"def {n}(" not in sources] == []


def test_compose_scale_only_says_what_changes_from_docker_compose_yml():
    """Step 7's file is an override (a second -f): it repeats nothing of the main file."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor("!reset", lambda *_: "!reset")
    scale = yaml.load((PROJECT / "exercises/files/compose-scale.yml").read_text(), loader)
    main = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    assert scale["services"]["web"] == {"ports": "!reset"}
    assert set(scale["services"]) - {"web"} == {"lb"} and "lb" not in main["services"]
    assert "volumes" not in scale
