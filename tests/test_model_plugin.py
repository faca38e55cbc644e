"""The plugin's resets on a schema we did not design: an inner run (pytester) on the garage
(tests/schemas/garage.sql) with --pitstop-config tests/schemas/garage.toml and no app."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.model_worlds import DOMAIN, SCHEMAS, create_database, drop_database, model_of

EXAMPLES = Path(__file__).parent / "examples"
WAIT_S = 180


@pytest.fixture
def garage_url(postgres: LocalPostgres) -> Iterator[str]:
    """The garage's tables with the rules installed for its model, in a database of its own."""
    url = create_database(postgres.url(), "garage")
    with PostgresStore(database_url=url, model=model_of("garage")) as store:
        store.install(test_domain=DOMAIN)
    yield url
    drop_database(postgres.url(), url)


def test_a_customers_rows_written_in_sql_are_purged_before_the_next_test(
    pytester: pytest.Pytester, garage_url: str, no_target_environment: None
) -> None:
    shutil.copy(EXAMPLES / "test_garage_reset.py", pytester.path / "test_garage_reset.py")
    report = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(
        "--base-url", "http://127.0.0.1:9",  # no app: these tests write and read the database only
        "--pitstop-database-url", garage_url,
        "--pitstop-config", str(SCHEMAS / "garage.toml"),
        f"--pitstop-health={report}",
        "--pitstop-leaks=fail",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        timeout=WAIT_S,
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    data = json.loads(report.read_text())
    assert data["run"]["resets"]["count"] == 2
    assert data["run"]["leaks"] == []
    health = data["health"]
    assert set(health["sessions"]) == {"pending", "waiting", "live", "scheduled", "completed", "cancelled"}
    assert set(health["requests"]) == {"pending", "accepted", "cancelled"}
    assert health["problems"] == []
    with psycopg.connect(garage_url) as conn:
        # The run deleted its users at its end; the payment (no foreign key to them) stays, nulled.
        assert conn.execute("select count(*) from auth.users").fetchone() == (0,)
        assert conn.execute("select count(*) from public.sessions").fetchone() == (0,)
        assert conn.execute("select session_id from public.session_payments").fetchall() == [(None,)]
