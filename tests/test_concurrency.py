"""Rules that meet another run's statements on the same rows (issue 19, part 2).

The rules take locks in one order (sessions first, in id order: a purge and the
stale cleanup alike); a rule that the server still ends for a deadlock with
some other writer changed nothing, and the store runs it again. On a real
PostgreSQL, with real locks held by a second connection.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from harness.store.postgres import PostgresStore
from tests.seeding import Seeder
from tests.test_atomicity import wait_until_blocked


def test_a_purge_that_the_server_ends_for_a_deadlock_is_run_again_and_purges(
    store: PostgresStore, seed: Seeder, database_url: str
) -> None:
    customer = seed.user()
    seeded = seed.session(customer, status="waiting")
    assert seeded.request is not None
    store_pid = store.connection.info.backend_pid
    results: dict[str, Any] = {}
    with psycopg.connect(database_url) as other, psycopg.connect(database_url, autocommit=True) as watch:
        before = _deadlocks(watch)
        # Another writer holds the request, then wants the session: the purge holds the session
        # (it locks sessions first) and wants the request. The purge's backend waited first, so it is
        # the one that finds the deadlock and ends its own transaction.
        other.execute("update public.session_requests set status = status where id = %s", (seeded.request,))
        purge = threading.Thread(target=lambda: results.update(purged=store.purge_user(customer)))
        purge.start()
        wait_until_blocked(watch, store_pid)

        def other_wants_the_session() -> None:
            other.execute("update public.sessions set status = status where id = %s", (seeded.session,))
            other.commit()  # once the purge gave way: its retry then finds both rows free

        writer = threading.Thread(target=other_wants_the_session)
        writer.start()
        writer.join(30)
        purge.join(30)
        assert not writer.is_alive() and not purge.is_alive()
        # The server did end one (the statistics arrive within a second or so): the retry was needed.
        deadline = time.monotonic() + 10
        while _deadlocks(watch) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _deadlocks(watch) > before
    assert results["purged"]["sessions"] == 1 and results["purged"]["session_requests"] == 1
    assert seed.conn.execute("select count(*) from public.sessions").fetchone() == (0,)


def _deadlocks(conn: psycopg.Connection[Any]) -> int:
    conn.execute("select pg_stat_clear_snapshot()")
    row = conn.execute("select deadlocks from pg_stat_database where datname = current_database()").fetchone()
    assert row is not None
    return int(row[0])
