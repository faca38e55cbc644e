"""A rule interrupted half way leaves all or nothing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from harness.errors import Unreachable
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder

WAIT_S = 10


def wait_until_blocked(conn: Any, pid: int) -> None:
    """Poll (bounded) until backend ``pid`` waits on a lock."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        row = conn.execute("select wait_event_type from pg_stat_activity where pid = %s", (pid,)).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never blocked")


def test_a_connection_dropped_mid_purge_leaves_everything(
    store: PostgresStore, seed: Seeder, database_url: str
) -> None:
    user = seed.user()
    for _ in range(3):
        seed.full_session(user)
    before = seed.snapshot()
    conn = store.connection

    with PostgresStore(database_url=database_url) as purger:
        pid = purger.connection.info.backend_pid
        outcome: list[BaseException | dict[str, Any]] = []

        def purge() -> None:
            try:
                outcome.append(purger.purge_user(user))
            except BaseException as exc:
                outcome.append(exc)

        # Hold a lock on one file row: the purge deletes chat messages, then
        # waits here, half done, until its connection is cut.
        with conn.transaction():
            conn.execute("select 1 from public.session_files limit 1 for update")
            worker = threading.Thread(target=purge)
            worker.start()
            wait_until_blocked(conn, pid)
            deleted_so_far = conn.execute(
                "select count(*) from public.chat_messages where session_id in"
                " (select id from public.sessions where customer_id = %s)",
                (user,),
            ).fetchone()
            conn.execute("select pg_terminate_backend(%s)", (pid,))
        worker.join(WAIT_S)

    assert deleted_so_far == (3,)  # still visible to others: the purge had not committed
    assert len(outcome) == 1 and isinstance(outcome[0], Unreachable)
    assert "lost the database connection" in str(outcome[0])
    assert seed.snapshot() == before


def test_a_cleanup_killed_by_a_statement_timeout_changes_nothing(store: PostgresStore, seed: Seeder) -> None:
    for age in (20, 30, 40):
        seed.session(seed.user(), age_minutes=age)
    before = seed.snapshot()
    conn = store.connection
    with conn.transaction():
        # Lock the last session the cleanup will want; requests are already expired by then.
        conn.execute("select 1 from public.sessions order by created_at limit 1 for update")
        with PostgresStore(database_url=_url(store)) as other:
            other.connection.execute("set statement_timeout = 300")
            with pytest.raises(Unreachable, match="did not finish in time"):
                other.cleanup_stale()
    assert seed.snapshot() == before


def _url(store: PostgresStore) -> str:
    info = store.connection.info
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
