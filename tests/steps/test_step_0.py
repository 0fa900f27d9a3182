"""Step 0: the VM's PostgreSQL runs, and `python3 server.py` answers GET and POST."""

from course import posted
from settings import S
from steplib import WEB_URL, Mistake, http, messages

POSTED = posted(0)

MISTAKES = [
    Mistake(
        "the VM's PostgreSQL is stopped",
        make=["sudo systemctl stop postgresql"],
        says="The VM's PostgreSQL is not running",
        undo=["sudo systemctl start postgresql"],
    ),
]


def test_vm_postgresql_is_running(host):
    assert host.service("postgresql").is_running, (
        "The VM's PostgreSQL is not running: start it with `sudo systemctl start postgresql`."
    )


def test_vm_database_has_the_messages_table(host):
    rows = messages(host)
    assert isinstance(rows, list), (
        f"The workshop's database in the VM cannot be read ({rows}): "
        "run `vagrant provision` on your laptop to create it."
    )


def test_server_answers_on_port_8080(host):
    status, _ = http(host)
    assert status == 200, (
        f"Nothing answers GET {WEB_URL} with 200 (got {status}): "
        "start the server with `python3 server.py` in ~/docker-workshop."
    )


def test_hello_world_was_posted(host):
    assert POSTED in messages(host), (
        f'No "{POSTED}" message is stored: post one with '
        f'`curl -XPOST http://localhost:{S["WEB_PORT"]} -d "{POSTED}"`.'
    )
