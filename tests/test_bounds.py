"""Every wait in the harness has a bound: the database's, the polls', the subprocesses' and HTTP's."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import psycopg
import pytest

from harness.config.settings import RunConfig, Settings
from harness.engine.handle import Pitstop
from harness.engine.run import Run, Target
from harness.errors import BadInput, PitstopError, Unreachable
from harness.store import open_store
from harness.store.postgres import NoAnswer, PostgresStore
from tests.seeding import Seeder

ROOT = Path(__file__).parents[1]
# The package and the shipped scenarios (installed inside it).
SOURCES = (ROOT / "harness", ROOT / "scenarios")
# Calls that may wait, and the argument that bounds them.
BOUNDED_CALLS = {"run": "timeout", "urlopen": "timeout", "wait": "timeout", "wait_for_url": "timeout"}
# Waits that are bounded by what they run, not by a clock: a server's main loop lasts until
# whoever started it stops it.
# The xdist broker's thread waits to be released for as long as the stack it started runs.
UNBOUNDED_BY_DESIGN = {("app.py", "main"), ("xdist.py", "_serve")}


def test_pitstop_connections_carry_statement_and_lock_timeouts(database_url: str) -> None:
    with PostgresStore(database_url=database_url) as store:
        settings = store.connection.execute(
            "select current_setting('statement_timeout'), current_setting('lock_timeout')"
        ).fetchone()
    assert settings == ("30s", "10s")
    # The URL's own settings win over the defaults.
    with PostgresStore(database_url=database_url + "?options=-c%20lock_timeout%3D2s") as store:
        assert store.connection.execute("show lock_timeout").fetchone() == ("2s",)


def test_the_client_gives_up_a_little_after_the_servers_statement_timeout(database_url: str) -> None:
    """A running server ends a slow statement itself, before the client's bound (tests/test_faults.py:
    a stopped one)."""
    with PostgresStore(database_url=database_url, statement_timeout=1) as store:
        assert store.client_bound == 3
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            store.connection.execute("select pg_sleep(10)")
        assert 1 <= time.monotonic() - started < 2.5
        assert store.connection.execute("select 1").fetchone() == (1,)  # not closed
    # A statement timeout in the URL's options wins, and the client's bound follows it; 0 is none.
    with PostgresStore(database_url=database_url + "?options=-c%20statement_timeout%3D1min") as store:
        assert store.client_bound == 62
    with PostgresStore(database_url=database_url, statement_timeout=0) as store:
        assert store.client_bound is None
        assert store.connection.execute("show statement_timeout").fetchone() == ("0",)
    assert issubclass(NoAnswer, psycopg.OperationalError)  # what psycopg's own callers see


def test_the_statement_timeout_comes_from_the_environment(database_url: str) -> None:
    settings = Settings.load(database_url=database_url, env={"PITSTOP_STATEMENT_TIMEOUT": "4.5"})
    store = open_store(settings)
    try:
        assert isinstance(store, PostgresStore) and store.client_bound == 6.5
        assert store.connection.execute("show statement_timeout").fetchone() == ("4500ms",)
    finally:
        store.close()
    for wrong in ("soon", "-1", "nan"):
        with pytest.raises(BadInput, match="PITSTOP_STATEMENT_TIMEOUT"):
            Settings.load(env={"PITSTOP_STATEMENT_TIMEOUT": wrong})


def test_a_lock_held_elsewhere_fails_a_purge_at_the_lock_timeout(
    database_url: str, store: PostgresStore, seed: Seeder
) -> None:
    customer = seed.user()
    seed.session(customer)
    with (
        psycopg.connect(database_url, autocommit=True) as holder,
        PostgresStore(database_url=database_url, lock_timeout=1) as bounded,
    ):
        holder.execute("begin")
        holder.execute("lock table public.sessions in access exclusive mode")
        started = time.monotonic()
        with pytest.raises(
            Unreachable, match="did not finish in time: canceling statement due to lock timeout"
        ):
            bounded.purge_user(customer)
        took = time.monotonic() - started
        holder.execute("rollback")
    assert 1 <= took < 3, took
    assert store.active_sessions([customer])  # nothing was purged


def test_waiting_for_a_session_gives_up_at_its_bound(database_url: str) -> None:
    settings = Settings(database_url=database_url, app_url="http://127.0.0.1:9")
    run = Run(RunConfig(settings=settings), target=Target(settings, "given"))
    try:
        pitstop = Pitstop(run)
        customer = run.user("customer")
        started = time.monotonic()
        with pytest.raises(PitstopError, match=r"has no active session after 0\.3 s"):
            pitstop.active_session(customer, timeout_s=0.3)
        assert 0.3 <= time.monotonic() - started < 2
    finally:
        run.close(delete_users=True)


def _unbounded_calls() -> list[str]:
    found = []
    for path in sorted(p for source in SOURCES for p in source.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef) or (path.name, func.name) in UNBOUNDED_BY_DESIGN:
                continue
            for call in ast.walk(func):
                if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute | ast.Name):
                    continue
                name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
                bound = BOUNDED_CALLS.get(name)
                positional = name == "wait" and bool(call.args)  # Popen.wait(seconds)
                if bound and not positional and not any(k.arg == bound for k in call.keywords):
                    found.append(f"{path.name}:{call.lineno} {name}() in {func.name}")
    return found


def test_every_subprocess_http_call_and_process_wait_in_the_harness_has_a_timeout() -> None:
    assert _unbounded_calls() == []
