"""A real PostgreSQL per test worker, with the app schema and the pitstop functions."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from harness.postgres_server import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder, truncate_all

# Example test files for the plugin's tests (run by pytester, not collected here).
collect_ignore = ["examples"]
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    with LocalPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def database_url(postgres: LocalPostgres) -> str:
    with PostgresStore(database_url=postgres.url()) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
    return postgres.url()


@pytest.fixture
def store(database_url: str) -> Iterator[PostgresStore]:
    """A store on an emptied database."""
    with PostgresStore(database_url=database_url) as store:
        truncate_all(store.connection)
        yield store


@pytest.fixture
def seed(store: PostgresStore) -> Seeder:
    return Seeder(store.connection)


@pytest.fixture
def postgres_db_url(postgres: LocalPostgres) -> Iterator[str]:
    """A blank database of its own, dropped afterwards."""
    import psycopg

    name = f"blank_{uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    yield postgres.url(name)
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"drop database {name} with (force)")
