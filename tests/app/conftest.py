"""Fixtures for the app tests: a real PostgreSQL and server.py started as a process."""

import pytest

from harness import Server
from pg import Cluster


def running_cluster():
    """A PostgreSQL with the workshop's database and fixtures, removed afterwards."""
    pg = Cluster()
    pg.start()
    pg.create_workshop_db()
    yield pg
    pg.destroy()


# One for the whole session, and one of a test's own for tests that stop and start it.
cluster = pytest.fixture(running_cluster, scope="session", name="cluster")
own_cluster = pytest.fixture(running_cluster, name="own_cluster")


@pytest.fixture
def start_server():
    """start_server(env) -> a running Server; every one is stopped after the test."""
    servers = []

    def start(env):
        servers.append(Server(env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(cluster, start_server):
    return start_server(cluster.server_env())
