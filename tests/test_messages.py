"""What a test sees when the ``pitstop`` handle raises: the test's line, pitstop's message and its fix,
and no traceback into pitstop's code. An inner run (pytester) on a database of its own, with no app."""

from __future__ import annotations

import pytest

from harness.store.postgres import PostgresStore

WAIT_S = 180

TESTS = """
import pytest

from harness.errors import BadInput


def test_an_unknown_state(pitstop, customer):
    pitstop.seed("no_such_state", customer)


def test_a_required_column_seeding_cannot_fill(pitstop, customer):
    pitstop.seed("orphaned_session", customer)


def test_the_error_keeps_its_type(pitstop, customer):
    with pytest.raises(BadInput, match="unknown state"):
        pitstop.seed("no_such_state", customer)
"""


@pytest.fixture
def required_column_url(postgres_db_url: str) -> str:
    """The reference schema with the rules installed, and a required column that seeding does not know."""
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        # A row of another table, which seeding cannot make: the model must declare a value.
        store.connection.execute("create table public.regions (id uuid primary key)")
        store.connection.execute(
            "alter table public.sessions add column region uuid not null references public.regions"
        )
    return postgres_db_url


def test_a_seed_error_fails_the_test_with_its_message_and_fix_and_no_traceback_into_pitstop(
    pytester: pytest.Pytester, required_column_url: str, no_target_environment: None
) -> None:
    pytester.makepyfile(test_seeding=TESTS)
    result = pytester.runpytest_subprocess(
        "--base-url", "http://127.0.0.1:9",  # no app: these tests seed the database only
        "--pitstop-database-url", required_column_url,
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        timeout=WAIT_S,
    )  # fmt: skip
    result.assert_outcomes(failed=2, passed=1)
    out = result.stdout.str()
    assert "public.sessions.region" in out and "needs a value pitstop cannot make" in out
    result.stdout.fnmatch_lines(
        [
            "*_ test_an_unknown_state _*",
            '>       pitstop.seed("no_such_state", customer)',
            "E       harness.errors.BadInput: unknown state 'no_such_state'",
            "E         fix: use one of waiting_session, pending_request, *",
            "*_ test_a_required_column_seeding_cannot_fill _*",
            '>       pitstop.seed("orphaned_session", customer)',
            "E       harness.errors.BadInput: cannot seed a state: 1 required column * needs a value *",
            "E         *public.sessions.region*",
            "E         fix: declare ?tool.pitstop.model.sessions.values? region = * (nothing was written)",
        ]
    )
    # The test's line is the traceback: none of pitstop's frames (the handle, the store, contextlib).
    for internal in ("handle.py", "postgres.py", "contextlib.py", "harness/"):
        assert internal not in out, out
