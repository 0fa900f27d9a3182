"""The exercises, replayed in the real VM: the learner's terminal is a login shell over
ssh (what `vagrant ssh` opens), every command of each step runs as written, and
`workshop check N` must pass after it (tests/replay/replayer.py does both).

In the venue kit's VM, offline (tests/realvm/conftest.py: `kit_vm`): every step up to
step 7 (`steps()`), in order, with nothing to download (step 1's pip install comes from
Docker's build cache).
Step 0 also proves the forwarded port (this machine's 127.0.0.1:WEB_PORT reaches the
server in the VM), and step 7 that the same port reaches Swarm's routing mesh. The
mistakes are tried only for the steps the stand-in VM cannot replay (REAL_VM_ONLY: step
7, whose routing mesh needs the IPVS of the VM's own kernel); the stand-in (tests/replay)
tries the others' faster. Runs after test_venue_kit.py.
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


def steps():
    """The steps up to the last one that only the real VM can replay (REAL_VM_ONLY): the
    ones after it prove nothing here that the stand-in VM's replay does not."""
    every = course.steps()
    last = max((step for step in every if replayer.real_vm_only(step)), default=every[-1])
    return [step for step in every if step <= last]


def items():
    """Those steps; with its mistakes, a step whose check file says the stand-in VM cannot
    replay it."""
    plan = []
    for step in steps():
        if replayer.real_vm_only(step):
            plan += replayer.plan([step])
        else:
            plan.append((step, None))
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
    if (step, mistake) == (0, None):  # server.py, run by hand in the VM
        forwarded_port_reaches_the_server("/", "Hello world")
    if mistake is None and replayer.real_vm_only(step):
        forwarded_port_reaches_the_server("/health", "")  # step 7: the routing mesh
    broken.clear()


def forwarded_port_reaches_the_server(path, text):
    """This machine's 127.0.0.1:WEB_PORT (the Vagrantfile's forwarded port, what the
    learner's browser opens) and the VM's address both reach the server in the VM."""
    for url in (f"http://127.0.0.1:{S['WEB_PORT']}{path}",
                f"http://{S['VM_IP']}:{S['WEB_PORT']}{path}"):
        answer = subprocess.run(["curl", "-sS", "--max-time", "10", "-i", url],
                                capture_output=True, text=True)
        assert answer.returncode == 0, f"{url} from this machine: {answer.stderr}"
        assert answer.stdout.split(None, 2)[1:2] == ["200"] and text in answer.stdout, (
            f"{url} from this machine:\n{answer.stdout[:2000]}"
        )


def test_status_shows_every_step_passed(terminal):
    if broken:
        pytest.fail(f"not tried: {broken[0]} failed before it")
    status, output = terminal.run("workshop status", timeout=300)
    every = len(course.steps())
    assert status == 0 and f"Progress: {len(steps())}/{every} steps passed" in output, output
