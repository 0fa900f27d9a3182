"""The learner's VM after `vagrant up`, proven on the stand-in VM (tests/vm/standin_vm.py).

The real playbook runs in a Debian 13 container with systemd and its own Docker engine,
twice; then these tests check what a learner finds after `vagrant ssh`. The VM's paths
and addresses are the playbook's own (provisioning/vars/main.yml, via playbook_var).
"""

import contextlib
import json
import shlex

import pytest

from settings import S
from vm.standin_vm import OFFLINE_VARS, playbook_var

pytestmark = pytest.mark.vm

PG_CONFIG = playbook_var("postgresql_config_dir")  # /etc/postgresql/17/main
PG_CLUSTER = playbook_var("postgresql_service")  # postgresql@17-main
BRIDGE = playbook_var("docker_bridge_address")  # the VM's docker0, fixed by the playbook
VENV = playbook_var("workshop_venv")
WORKSHOP_COMMAND = playbook_var("workshop_command")
PSQL = (f"PGPASSWORD={S['DB_PASSWORD']} psql -X -h localhost -p {S['DB_PORT']} "
        f"-U {S['DB_USER']} -d {S['DB_NAME']} -tA")


def postgres_addresses(vm):
    """The addresses PostgreSQL listens on, e.g. {"127.0.0.1", "172.17.0.1"}."""
    out = vm.run(f"ss -Hltn 'sport = :{S['DB_PORT']}'").stdout
    return {line.split()[3].rsplit(":", 1)[0].strip("[]") for line in out.splitlines()}


def assert_listens_where_it_should(vm):
    addresses = postgres_addresses(vm)
    assert {"127.0.0.1", BRIDGE} <= addresses, f"PostgreSQL listens on {addresses}"
    assert addresses <= {"127.0.0.1", "::1", BRIDGE}, f"PostgreSQL listens on {addresses}"


def messages(vm):
    return vm.learner(f"{PSQL} -c 'SELECT content FROM messages ORDER BY id'").stdout


@contextlib.contextmanager
def server(vm):
    """`python3 server.py` started by the learner in the project folder."""
    pid = vm.learner("nohup python3 server.py > /tmp/server.log 2>&1 & echo $!").stdout.strip()
    try:
        vm.learner(f"for i in $(seq 50); do curl -sf localhost:{S['WEB_PORT']}/health "
                   "> /dev/null && exit 0; sleep 0.2; done; cat /tmp/server.log; exit 1")
        yield
    finally:
        vm.run(f"kill {pid}; tail -n 20 /tmp/server.log", check=False)


def test_first_provisioning_run_succeeds(standin_vm):
    first = standin_vm.runs[0]
    assert first.returncode == 0, first.output[-6000:]
    assert first.recap["failed"] == 0
    assert first.recap["changed"] > 0


def test_second_run_changes_nothing(standin_vm):
    second = standin_vm.provision()
    assert second.returncode == 0, second.output[-6000:]
    assert second.recap["changed"] == 0, second.changed_tasks()
    assert second.recap["failed"] == 0


def test_postgresql_enabled_and_running(standin_vm):
    host = standin_vm.host()
    assert host.service("postgresql").is_enabled  # Debian starts every cluster through it
    assert host.service(PG_CLUSTER).is_running


def test_postgresql_listens_on_localhost_and_the_docker_bridge_only(standin_vm):
    assert_listens_where_it_should(standin_vm)
    # Nothing answers on the VM's own network address (VirtualBox's private network).
    refused = standin_vm.run(f"timeout 5 bash -c '</dev/tcp/{standin_vm.ip}/{S['DB_PORT']}'",
                             check=False)
    assert refused.returncode != 0


def test_logins_need_the_md5_password(standin_vm):
    wrong = standin_vm.learner(PSQL.replace(S["DB_PASSWORD"], "wrong", 1) + " -c 'SELECT 1'",
                               check=False)
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr
    # Stored as md5, the only hash server.py's driver can log in with.
    stored = standin_vm.run(f"sudo -u postgres psql -tAc \"SELECT left(rolpassword, 3) "
                            f"FROM pg_authid WHERE rolname = '{S['DB_USER']}'\"").stdout
    assert stored.strip() == "md5"


def test_database_and_table_present(standin_vm):
    assert "Welcome to the Docker workshop!" in messages(standin_vm)


def test_postgresql_data_outside_the_synced_folder(standin_vm):
    data = standin_vm.run("sudo -u postgres psql -tAc 'SHOW data_directory'").stdout.strip()
    assert data.startswith("/var/lib/postgresql/")
    assert not data.startswith(standin_vm.project_dir)


def test_learner_runs_server_py(standin_vm):
    """Step 0: `python3 server.py`, then GET and POST with curl, inside the VM."""
    web = f"http://localhost:{S['WEB_PORT']}"
    with server(standin_vm):
        posted = standin_vm.learner(f"curl -s -w ' %{{http_code}}' -XPOST {web} "
                                    "-d 'Hello from the VM test'").stdout
        assert posted.endswith(" 201")
        listed = standin_vm.learner(f"curl -s {web}").stdout
        assert "Welcome to the Docker workshop!" in listed
        assert "Hello from the VM test" in listed


def test_pip_uninstall_py_postgresql_needs_no_sudo(standin_vm):
    """The workshop's experiment: the VM's server breaks, without sudo."""
    try:
        standin_vm.learner("pip uninstall -y py-postgresql")
        broken = standin_vm.learner("timeout 10 python3 server.py", check=False)
        assert broken.returncode != 0
        assert "No module named 'postgresql'" in broken.stderr
    finally:
        standin_vm.learner("pip install -q -r requirements.txt", timeout=300)
    standin_vm.learner("python3 -c 'import postgresql'")


def test_learners_python_is_the_workshop_venv(standin_vm):
    assert standin_vm.learner("command -v python3 pip").stdout.split() == [
        f"{VENV}/bin/python3", f"{VENV}/bin/pip"]
    # The venv belongs to the learner; the system's Python is left to apt (PEP 668).
    assert standin_vm.host().file(VENV).user == "vagrant"


def test_the_vms_own_docker_engine_serves_the_learner(standin_vm):
    host = standin_vm.host()
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled
    assert "docker" in host.user("vagrant").groups
    # Without sudo; and it is the VM's engine, not this machine's.
    name = standin_vm.learner("docker info --format '{{.Name}}'").stdout.strip()
    assert name == "docker-workshop"
    assert standin_vm.learner("ip -4 -o addr show docker0").stdout.split()[3] == f"{BRIDGE}/16"


def test_docker_keeps_images_in_containerds_store(standin_vm):
    """daemon.json turns on the containerd image store, Engine 29's default."""
    config = json.loads(standin_vm.run("cat /etc/docker/daemon.json").stdout)
    assert config["features"] == {"containerd-snapshotter": True}
    status = standin_vm.learner("docker info --format '{{json .DriverStatus}}'").stdout
    assert "io.containerd.snapshotter.v1" in status, status


def test_offline_docker_has_compose_v2_and_buildkit(standin_vm):
    """WORKSHOP_DOCKER_SOURCE=debian: Debian 13's docker-compose is Compose v2, a CLI
    plugin (`docker compose`, as step 6 teaches), and docker-buildx builds with BuildKit."""
    version = standin_vm.learner("docker compose version --short").stdout.strip()
    assert version.split(".")[0] in ("2", "v2"), version
    assert standin_vm.learner("docker buildx version").stdout.startswith(
        "github.com/docker/buildx")
    standin_vm.learner("mkdir -p /tmp/bk && echo hi > /tmp/bk/f && "
                       "printf 'FROM scratch\\nCOPY f /f\\n' > /tmp/bk/Dockerfile")
    build = standin_vm.learner("docker build -t vm-test-buildkit:1 /tmp/bk 2>&1").stdout
    assert "DEPRECATED" not in build, build  # the legacy builder's warning
    assert "[internal] load build definition from Dockerfile" in build, build  # BuildKit's
    standin_vm.learner("docker rmi vm-test-buildkit:1")


def test_a_container_reaches_postgresql_over_the_docker_bridge(standin_vm):
    """Step 3's path: server.py in a container, the database on the VM at the bridge."""
    image = S["PYTHON_IMAGE"]
    standin_vm.load_images(image)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = standin_vm.learner(f'python3 -c "{purelib}"').stdout.strip()
    name = f"vm-test-web-{standin_vm.name}"
    # The image has no py-postgresql: lend it the VM's (pure Python) copy.
    standin_vm.learner(
        f"docker run -d --name {name} -p 8081:{S['WEB_PORT']} "
        f"-v \"$PWD/server.py:/app/server.py:ro\" -v {site}:/deps:ro -e PYTHONPATH=/deps "
        f"-e POSTGRES_HOST={BRIDGE} {shlex.quote(image)} python /app/server.py")
    try:
        answer = standin_vm.learner(
            "for i in $(seq 50); do curl -sf localhost:8081 && exit 0; sleep 0.2; done; exit 1",
            check=False)
        logs = standin_vm.learner(f"docker logs {name}", check=False)
        assert answer.returncode == 0, logs.stdout + logs.stderr
        assert "Welcome to the Docker workshop!" in answer.stdout
    finally:
        standin_vm.learner(f"docker rm -f {name}", check=False)


def test_step_check_tools_and_the_workshop_command(standin_vm):
    standin_vm.learner("python3 -c 'import pytest, testinfra, psycopg2'")
    host = standin_vm.host()
    workshop = host.file(WORKSHOP_COMMAND)
    assert workshop.is_file and workshop.mode == 0o755
    assert workshop.contains(f"{VENV}/bin/python {standin_vm.project_dir}/tests/steps/workshop.py")
    assert standin_vm.learner("command -v workshop").stdout.strip() == WORKSHOP_COMMAND
    # The wrapper reaches the exercises' script (tests/steps/workshop.py) with the venv.
    assert standin_vm.learner("workshop hint 0").stdout.strip()


def test_a_fresh_clone_boots_provisioned(vm_factory):
    """vm_factory.fresh() (the exercises' replay uses it): a clone booted from the VM's disk."""
    with vm_factory.fresh() as clone:
        assert_listens_where_it_should(clone)
        assert "Welcome to the Docker workshop!" in messages(clone)
        assert clone.learner("docker info --format '{{.Name}}'").stdout.strip() == "docker-workshop"


def test_reboot_keeps_postgresql_on_the_docker_bridge(standin_vm):
    """PostgreSQL starts after Docker, once the bridge's address exists."""
    standin_vm.reboot()
    assert_listens_where_it_should(standin_vm)


def test_provisioning_repairs_a_drifted_vm(standin_vm):
    """Idempotence is not 'nothing ever changes': a broken VM is noticed and repaired."""
    vm = standin_vm
    vm.run(f"echo 'host all all 0.0.0.0/0 trust' >> {PG_CONFIG}/pg_hba.conf")
    vm.run(f"sed -i \"s/^listen_addresses = .*/listen_addresses = '*'/\" "
           f"{PG_CONFIG}/conf.d/docker-workshop.conf && systemctl restart {PG_CLUSTER}")
    vm.run("gpasswd -d vagrant docker")
    vm.learner(f"{PSQL} -c 'DELETE FROM messages'")
    with pytest.raises(AssertionError):  # the check above sees the wrong state
        assert_listens_where_it_should(vm)

    run = vm.provision()
    assert run.returncode == 0, run.output[-6000:]
    changed = "\n".join(run.changed_tasks())
    for task in ("Configure PostgreSQL", "Allow md5 password logins", "use docker without sudo",
                 "Create the table and the first messages", "Restart PostgreSQL"):
        assert task in changed
    assert_listens_where_it_should(vm)
    assert "trust" not in vm.run(f"grep -v '^#' {PG_CONFIG}/pg_hba.conf").stdout
    assert "docker" in vm.host().user("vagrant").groups
    assert "Welcome to the Docker workshop!" in messages(vm)


# -- provisioning that fails half-way (issue 13) ---------------------------------------
# A registry that cannot answer, inside the VM (nothing leaves it): its pulls fail as they
# do on a laptop without network.
NO_REGISTRY = "127.0.0.1:9"


def unreachable_images():
    return [f"{NO_REGISTRY}/{S['PYTHON_IMAGE']}", f"{NO_REGISTRY}/{S['POSTGRES_IMAGE']}"]


def pulling(**extra):
    return {**OFFLINE_VARS, "workshop_pull_images": "yes", "workshop_images":
            unreachable_images(), **extra}


def containerd_store(vm):
    return "io.containerd.snapshotter.v1" in vm.run(
        "docker info --format '{{json .DriverStatus}}'").stdout


def test_offline_provisioning_pulls_nothing(standin_vm):
    """WORKSHOP_PULL_IMAGES=no (the Vagrantfile passes the string "no"): no pull runs."""
    run = standin_vm.runs[0]
    pulls = run.output.split("TASK [Pull the workshop's images]", 1)[1].split("TASK [", 1)[0]
    assert "skipping" in pulls and "changed:" not in pulls and "ok:" not in pulls


def test_a_failed_pull_says_what_failed_and_how_to_retry(vm_factory):
    """No registry answers: everything else is provisioned; the one failure names the
    images, the cause, and `vagrant provision` (which then succeeds, offline here)."""
    with vm_factory.fresh() as vm:
        vm.run("systemctl stop " + PG_CLUSTER)  # something for this run to repair first
        run = vm.provision(pulling())
        assert run.returncode != 0
        assert run.recap["failed"] == 1, run.output[-4000:]
        message = run.output.split("TASK [Stop with a clear message", 1)[1]
        for image in unreachable_images():
            assert image in message
        assert "connection refused" in message.lower()
        assert "Run `vagrant provision` to try again" in message
        assert "WORKSHOP_PULL_IMAGES=no vagrant provision" in message
        # The rest of the VM is there: the database runs again, the server works.
        assert vm.host().service(PG_CLUSTER).is_running
        assert "Welcome to the Docker workshop!" in messages(vm)
        retry = vm.provision()
        assert retry.returncode == 0, retry.output[-4000:]


@pytest.mark.parametrize("variables, named", [
    ({"workshop_pull_images": "maybe"}, "WORKSHOP_PULL_IMAGES yes or no (it is 'maybe')"),
    ({"workshop_docker_source": "ubuntu"}, "(it is 'ubuntu')"),
])
def test_a_wrong_setting_stops_provisioning_before_anything_changes(vm_factory, variables,
                                                                     named):
    with vm_factory.fresh() as vm:
        run = vm.provision({**OFFLINE_VARS, **variables})
        assert run.returncode != 0
        assert named in run.output
        assert run.recap["changed"] == 0 and run.recap["failed"] == 1


def test_docker_restarts_with_a_new_configuration_even_if_the_run_fails(vm_factory):
    """A lost handler: daemon.json changed and notified "Restart docker", then the run
    failed (here: the pulls). The next run sees daemon.json as it should be; Docker must
    nevertheless run with it, not with the configuration it had before."""
    with vm_factory.fresh() as vm:
        # As provisioned by the playbook before the containerd image store was turned on.
        vm.run("""printf '{"bip": "%s/16"}\\n' """ + BRIDGE + " > /etc/docker/daemon.json"
               " && systemctl restart docker")
        assert not containerd_store(vm)

        failed = vm.provision(pulling())
        assert failed.returncode != 0 and failed.recap["failed"] == 1
        assert "Configure Docker" in "\n".join(failed.changed_tasks())

        rerun = vm.provision()
        assert rerun.returncode == 0, rerun.output[-4000:]
        assert rerun.recap["changed"] == 0, rerun.changed_tasks()  # daemon.json is right...
        assert containerd_store(vm)  # ...and Docker runs with it
        assert vm.learner("ip -4 -o addr show docker0").stdout.split()[3] == f"{BRIDGE}/16"


@pytest.mark.parametrize("leftover, named", [
    ("docker create --name kit-leftover kit-empty true",
     "Check that the VM has no containers (the kit would hand them out)"),
    ("mkdir -p ~/.local/state/docker-workshop && echo '{}' > "
     "~/.local/state/docker-workshop/progress.json",
     "Check that no learner's progress is recorded (workshop status)"),
])
def test_the_kit_refuses_a_vm_a_learner_used(standin_vm, leftover, named):
    """WORKSHOP_KIT=yes (provisioning/kit.sh) on a VM with a container or a learner's
    progress stops at that check, before it builds or packages anything."""
    # An empty image to create a container from (no registry answers here).
    standin_vm.run("tar -cf - --files-from /dev/null | docker import - kit-empty")
    standin_vm.learner(leftover)
    try:
        run = standin_vm.provision({**OFFLINE_VARS, "workshop_kit": "yes"})
        assert run.returncode != 0 and run.recap["failed"] == 1, run.output[-4000:]
        failed = run.output.split("fatal:", 1)[0].rsplit("TASK [", 1)[1]
        assert failed.startswith(named), run.output[-4000:]
        assert "Build the web image once" not in run.output
    finally:
        standin_vm.run("docker rm -f kit-leftover; docker rmi kit-empty; "
                       "rm -f ~vagrant/.local/state/docker-workshop/progress.json", check=False)
