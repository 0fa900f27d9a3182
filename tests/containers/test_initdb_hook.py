"""sql/initdb.sh, compose's first-init hook, in a postgres container mounted as
docker-compose.yml mounts it: the SQL files run as the right users, whether the image
executes the hook or sources it (a checkout without the executable bit), and an error
stops the first init."""

import shutil

import pytest

from dockertools import ADMIN_PASSWORD, docker, inspect_field, ip_of, sql, stored_messages, wait_for
from dockertools import wait_until_ready as wait_ready
from settings import PROJECT, S

pytestmark = pytest.mark.docker


def start_db(made, sql_dir, hook_mode=0o755):
    hook = sql_dir / "initdb.sh"
    hook.chmod(hook_mode)
    name = made.container()
    docker("run", "-d", "--name", name, "-e", f"POSTGRES_PASSWORD={ADMIN_PASSWORD}",
           *[f"--env={key}={S[key]}" for key in ("DB_NAME", "DB_USER", "DB_PASSWORD")],
           "-v", f"{sql_dir}:/sql:ro", "-v", f"{hook}:/docker-entrypoint-initdb.d/initdb.sh:ro",
           S["POSTGRES_IMAGE"], "postgres", "-c", "password_encryption=md5")
    return name


def copy_of_sql(tmp_path):
    copy = tmp_path / "sql"
    shutil.copytree(PROJECT / "sql", copy)
    copy.chmod(0o755)
    return copy


@pytest.mark.parametrize("mode", [0o755, 0o644], ids=["executed", "sourced"])
def test_initdb_sh_creates_the_workshop_database_as_the_right_users(made, tmp_path, mode):
    db = start_db(made, copy_of_sql(tmp_path), mode)
    wait_ready(db)
    assert sql(ip_of(db), "SELECT tableowner FROM pg_tables WHERE tablename = 'messages'",
               "postgres", ADMIN_PASSWORD, S["DB_NAME"]) == [(S["DB_USER"],)]
    assert stored_messages(ip_of(db))[0] == "Welcome to the Docker workshop!"
    how = "running" if mode == 0o755 else "sourcing"
    assert f"{how} /docker-entrypoint-initdb.d/initdb.sh" in docker("logs", db).stdout


def test_initdb_sh_stops_the_first_init_on_an_sql_error(made, tmp_path):
    broken = copy_of_sql(tmp_path)
    (broken / "create_db.sql").write_text("\\set ON_ERROR_STOP on\nSELECT no_such_column;\n")
    db = start_db(made, broken)
    wait_for("the db container to exit",
             lambda: inspect_field(db, "{{.State.Running}}") == "false")
    assert inspect_field(db, "{{.State.ExitCode}}") != "0"
