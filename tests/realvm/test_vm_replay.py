"""The exercises, replayed in the real VM: the learner's terminal is a login shell over
ssh (what `vagrant ssh` opens), every command of the step runs as written, and
`workshop check N` must pass after it (tests/replay/replayer.py does both).

In the venue kit's VM, offline (tests/realvm/conftest.py: `kit_vm`): steps 0 to 4, so
that step 1's build (its pip install), step 4's PostgreSQL image and the checks work with
nothing to download; step 0 also proves the forwarded port (this machine's
127.0.0.1:WEB_PORT reaches the server in the VM). Every step replays in about 45 minutes
under TCG on this machine (bench/README.md), too long for CI: the stand-in VM
(tests/replay) replays them all, with their mistakes. Runs after test_venue_kit.py.
"""

import subprocess
import time

import pytest

import course
import replayer
from settings import S
from shell import Shell

pytestmark = pytest.mark.realvm
broken = []  # the first item that failed: the later ones say so rather than skip


@pytest.fixture(scope="module")
def terminal(kit_vm):
    """The learner's terminal after `vagrant ssh`: a login shell as vagrant, at home."""
    shell = Shell([*kit_vm.ssh_argv(), "bash -l"])
    yield shell
    shell.close()


KIT_STEPS = 5  # steps 0 to 4: the image build, its run, PostgreSQL in a container


def items():
    """Steps 0 to 4, and any step whose check file says the stand-in VM cannot replay it
    (REAL_VM_ONLY), with its mistakes."""
    plan = [(step, None) for step in course.steps()[:KIT_STEPS]]
    for step in course.steps()[KIT_STEPS:]:
        if getattr(replayer.check_module(step), "REAL_VM_ONLY", False):
            plan += replayer.plan([step])
    return plan


@pytest.mark.parametrize("item", items(), ids=replayer.plan_id)
def test_replay_in_the_real_vm(terminal, item, say):
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    broken.append(replayer.plan_id(item))
    step, mistake = item
    started = time.monotonic()
    if mistake is None:
        replayer.replay_step(terminal, step)
    else:
        replayer.try_mistake(terminal, step, mistake)
    say(f"{replayer.plan_id(item)} replayed in {time.monotonic() - started:.0f} s")
    if (step, mistake) == (0, None):
        forwarded_port_reaches_the_server()
    broken.clear()


def forwarded_port_reaches_the_server():
    """Step 0 left server.py running in the VM: this machine's 127.0.0.1:WEB_PORT (the
    Vagrantfile's forwarded port) and the VM's address both reach it."""
    for url in (f"http://127.0.0.1:{S['WEB_PORT']}/", f"http://{S['VM_IP']}:{S['WEB_PORT']}/"):
        answer = subprocess.run(["curl", "-sS", "--max-time", "10", "-i", url],
                                capture_output=True, text=True)
        assert answer.returncode == 0, f"{url} from this machine: {answer.stderr}"
        assert answer.stdout.split(None, 2)[1:2] == ["200"] and "Hello world" in answer.stdout, (
            f"{url} from this machine:\n{answer.stdout[:2000]}"
        )


def test_status_shows_the_replayed_steps_passed(terminal):
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    status, output = terminal.run("workshop status", timeout=300)
    every, done = len(course.steps()), len({step for step, _ in items()})
    assert status == 0 and f"Progress: {done}/{every} steps passed" in output, output
