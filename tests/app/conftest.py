"""Fixtures for the app tests: a real PostgreSQL and server.py started as a process."""

import pytest

from harness import Server
from pg import Cluster


@pytest.fixture(scope="session")
def cluster():
    """One PostgreSQL for the session, with the workshop's database and fixtures."""
    pg = Cluster()
    pg.start()
    pg.create_workshop_db()
    yield pg
    pg.destroy()


@pytest.fixture
def own_cluster():
    """A PostgreSQL of the test's own, for tests that stop and start it."""
    pg = Cluster()
    pg.start()
    pg.create_workshop_db()
    yield pg
    pg.destroy()


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
