"""A throwaway PostgreSQL cluster (Debian's binaries, the newest major installed) on a
free port, for tests and benchmarks. Host logins use md5 passwords, as the workshop's VM
and images do."""

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from settings import PROJECT, S


def newest_bin(root=Path("/usr/lib/postgresql")):
    """The bin folder of the newest PostgreSQL major installed (15 on Debian 12, 17 on
    Debian 13), or a path that does not exist when there is none."""
    majors = [path for path in root.glob("*/bin") if path.parent.name.isdigit()]
    return max(majors, key=lambda path: int(path.parent.name), default=root / "none/bin")


BIN = newest_bin()
SUPERUSER_PASSWORD = "test-superuser"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self):
        if not (BIN / "initdb").exists():
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/"
                               "initdb): run tests/run")
        self.dir = Path(tempfile.mkdtemp(prefix="workshop-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres")
        password_file = self.dir / "superuser-password"
        password_file.write_text(SUPERUSER_PASSWORD)
        shutil.chown(password_file, "postgres")
        self.as_postgres(BIN / "initdb", "-D", self.data, "-U", "postgres", "--pwfile",
                         password_file, "--auth-local=trust", "--auth-host=md5")

    def as_postgres(self, *command):
        # PostgreSQL refuses to run as root: run its programs as the postgres user.
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, command)],
                       check=True, capture_output=True, text=True)

    def start(self):
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c password_encryption=md5")
        self.as_postgres(BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log",
                         "-o", options, "-w", "start")

    def stop(self):
        self.as_postgres(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, *args, user="postgres", password=SUPERUSER_PASSWORD, check=True):
        """Run psql over TCP exactly as a learner does, e.g. psql("-f", file, "postgres")."""
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-X", *args],
            env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, check=check)

    def create_workshop_db(self):
        """The two sql/ files, run as the README and the exercises run them."""
        self.psql("-f", PROJECT / "sql/create_db.sql", "postgres")
        self.psql("-f", PROJECT / "sql/create_schema_and_fixtures.sql", S["DB_NAME"],
                  user=S["DB_USER"], password=S["DB_PASSWORD"])

    def server_env(self):
        """The environment that points server.py at this cluster."""
        return {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.port),
                "POSTGRES_DB": S["DB_NAME"], "POSTGRES_USER": S["DB_USER"],
                "POSTGRES_PASSWORD": S["DB_PASSWORD"]}
