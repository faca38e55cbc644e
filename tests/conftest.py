"""A real PostgreSQL per test worker, with the app schema and the pitstop functions."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import bcrypt
import pytest
from hypothesis import HealthCheck, settings

from harness.cli import main
from harness.stack.embedded import EmbeddedStack, StackInfo
from harness.stack.postgres import LocalPostgres
from harness.store.api import ApiStore
from harness.store.postgres import PostgresStore
from tests.fleet import TARGET_VARIABLES  # command-line tests start without them
from tests.seeding import Seeder, truncate_all

# Database round trips vary on a shared machine: no per-example deadline. Set here, not in
# the root conftest.py, so that runs outside tests/ (the demo, the benchmark's inner runs)
# do not import Hypothesis (~0.3 s per process, more when bytecode is not cached).
settings.register_profile(
    "pitstop", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("pitstop")


@pytest.fixture
def no_target_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TARGET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``pitstop ARGV`` through ``main``: exit code, stdout, stderr (never a traceback)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def pitstop_run(
    pytester: pytest.Pytester, conftest: Path, *args: str, pyproject: str = "", timeout: float = 240
) -> pytest.RunResult:
    """The shipped scenarios as a team runs them: ``pitstop run ARGS`` in the folder of its
    ``conftest.py`` (a copy of ``conftest``) and ``pyproject.toml``, against an embedded stack."""
    shutil.copy(conftest, pytester.path / "conftest.py")
    if pyproject:
        pytester.makepyprojecttoml(pyproject)
    return pytester.run(sys.executable, "-m", "harness", "run", "-p", "no:randomly", *args, timeout=timeout)


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


# -- the embedded stack, for the stores that go through the app ---------------------

PASSWORD = "correct horse battery"
# Supabase stores $2a$ hashes; cost 4 keeps sign-ins fast.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2a$", 1)


@pytest.fixture(scope="session")
def embedded(postgres: LocalPostgres) -> Iterator[StackInfo]:
    """One embedded stack per worker (app and localstripe), on a database of its own."""
    import psycopg

    name = f"stack_{uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    with EmbeddedStack(database_url=postgres.url(name)) as info:
        yield info


@pytest.fixture
def stack_store(embedded: StackInfo) -> Iterator[PostgresStore]:
    """The postgres store on the embedded stack's database, emptied."""
    with PostgresStore(database_url=embedded.database_url) as store:
        truncate_all(store.connection)
        yield store


@pytest.fixture
def stack_seed(stack_store: PostgresStore) -> Seeder:
    return Seeder(stack_store.connection)


@pytest.fixture
def api_store(embedded: StackInfo, stack_store: PostgresStore) -> Iterator[ApiStore]:
    """The api store on the same app and database (emptied first by ``stack_store``)."""
    with ApiStore(app_url=embedded.app_url, admin_token=embedded.admin_token) as store:
        yield store
