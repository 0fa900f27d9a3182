"""Step 0: the VM's PostgreSQL runs, and `python3 server.py` answers GET and POST."""

from course import posted
from settings import S
from steplib import GO_TO_PROJECT, WEB_URL, Mistake, expect, http, messages

POSTED = posted(0)
POST = f'curl -XPOST {WEB_URL} -d "{POSTED}"'

MISTAKES = [
    Mistake(
        "the VM's PostgreSQL is stopped",
        make=["sudo systemctl stop postgresql"],
        says="The VM's PostgreSQL is not running",
    ),
    Mistake(
        "the message was never posted",
        make=[
            f"PGPASSWORD={S['DB_PASSWORD']} psql -qh localhost -U {S['DB_USER']} "
            f"-c \"DELETE FROM messages WHERE content = '{POSTED}'\" {S['DB_NAME']}"
        ],
        says=f'No "{POSTED}" message is stored',
    ),
]


def test_vm_postgresql_is_running(host):
    service = host.service("postgresql")
    expect(
        service.is_running,
        "The VM's PostgreSQL is not running.",
        "the postgresql service active",
        host.run("systemctl is-active postgresql").stdout.strip() or "no answer",
        ["sudo systemctl start postgresql"],
    )


def test_vm_database_has_the_messages_table(host):
    rows = messages(host)
    expect(
        isinstance(rows, list),
        "The workshop's database in the VM cannot be read.",
        f"a table messages in the database {S['DB_NAME']}",
        rows,
        ["vagrant provision   # on your laptop, in the project folder"],
    )


def test_server_answers_on_port_8080(host):
    status, _ = http(host)
    expect(
        status == 200,
        f"Nothing answers GET {WEB_URL} with 200.",
        "200 from python3 server.py",
        status or "no answer (connection refused)",
        [GO_TO_PROJECT, "python3 server.py   # and leave it running"],
    )


def test_hello_world_was_posted(host):
    rows = messages(host)
    expect(
        isinstance(rows, list) and POSTED in rows,
        f'No "{POSTED}" message is stored.',
        f'"{POSTED}" among the messages',
        f"{len(rows)} messages, none of them that one" if isinstance(rows, list) else rows,
        [POST],
    )
