"""Row-level security of the app's tables, as the API roles (anon, authenticated, service_role) meet it.

Each check runs in a transaction that is rolled back, under ``set local role``
and the JWT claims PostgREST would set for the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest

from harness.rules.sql import app_schema
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder

Conn = psycopg.Connection[Any]

APP_TABLES = re.findall(r"create table if not exists public\.(\w+)", app_schema())


@dataclass(frozen=True)
class World:
    alice: UUID  # customer: a live session served by mech, and a waiting one
    bob: UUID  # customer: a completed session served by other_mech, and a waiting one
    mech: UUID
    other_mech: UUID
    alice_live: UUID
    alice_waiting: UUID
    bob_done: UUID
    bob_waiting: UUID
    requests: dict[UUID, UUID]  # session -> its request


@pytest.fixture
def world(seed: Seeder) -> World:
    alice, bob = seed.user(), seed.user()
    mech, other_mech = seed.user(role="mechanic"), seed.user(role="mechanic")
    live = seed.full_session(alice, mech, status="live", request="accepted")
    waiting = seed.session(alice, status="waiting")
    done = seed.full_session(bob, other_mech, status="completed", request="accepted")
    bob_waiting = seed.session(bob, status="waiting")
    sessions = (live, waiting, done, bob_waiting)
    requests = {s.session: s.request for s in sessions if s.request is not None}
    return World(
        alice,
        bob,
        mech,
        other_mech,
        live.session,
        waiting.session,
        done.session,
        bob_waiting.session,
        requests,
    )


@contextmanager
def acting_as(store: PostgresStore, role: str, user: UUID | None = None) -> Iterator[Conn]:
    """The connection as PostgREST would run a request: the API role and (for a user) its claims."""
    conn = store.connection
    with conn.transaction(force_rollback=True):
        conn.execute(f"set local role {role}")
        if user is not None:
            claims = json.dumps({"sub": str(user), "role": "authenticated"})
            conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
        yield conn


def ids(conn: Conn, query: str, params: Any = None) -> set[UUID]:
    return {UUID(str(row[0])) for row in conn.execute(query, params)}


def count(conn: Conn, table: str) -> int:
    row = conn.execute(f"select count(*) from public.{table}").fetchone()
    assert row is not None
    return int(row[0])


def refused(conn: Conn, query: str, params: Any = None) -> str:
    """The statement fails for want of rights (a grant or a policy); the transaction goes on."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught, conn.transaction():
        conn.execute(query, params)
    return str(caught.value)


def inserts(w: World) -> dict[str, tuple[str, tuple[Any, ...]]]:
    """One valid row per app table (the owner could insert each)."""
    return {
        "profiles": (
            "insert into public.profiles (id, role, full_name) values (%s, 'admin', 'X')",
            (w.alice,),
        ),
        "sessions": (
            "insert into public.sessions (customer_id, plan, status) values (%s, 'Quick Chat', 'live')",
            (w.alice,),
        ),
        "session_requests": (
            "insert into public.session_requests (customer_id, plan, status)"
            " values (%s, 'Quick Chat', 'pending')",
            (w.alice,),
        ),
        "session_participants": (
            "insert into public.session_participants (session_id, user_id, role) values (%s, %s, 'mechanic')",
            (w.alice_waiting, w.mech),
        ),
        "session_files": (
            "insert into public.session_files (session_id, uploaded_by, file_name, storage_path)"
            " values (%s, %s, 'x.jpg', 'sessions/x.jpg')",
            (w.alice_live, w.alice),
        ),
        "chat_messages": (
            "insert into public.chat_messages (session_id, sender_id, body) values (%s, %s, 'hi')",
            (w.alice_live, w.alice),
        ),
    }


def test_the_schema_creates_the_six_app_tables() -> None:
    assert sorted(APP_TABLES) == sorted(
        ["profiles", "sessions", "session_requests", "session_participants", "session_files", "chat_messages"]
    )


def test_row_level_security_is_on_for_every_app_table(store: PostgresStore) -> None:
    rows = store.connection.execute(
        "select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relname = any(%s)",
        (APP_TABLES,),
    ).fetchall()
    assert dict(rows) == dict.fromkeys(APP_TABLES, True)


def test_the_api_roles_have_the_grants_so_policies_decide(store: PostgresStore) -> None:
    """anon's rights come from the platform's default privileges: row-level security is what stops it."""
    for table in APP_TABLES:
        for role in ("anon", "authenticated", "service_role"):
            row = store.connection.execute(
                "select has_table_privilege(%s, %s, 'select')", (role, f"public.{table}")
            ).fetchone()
            assert row == (True,), (role, table)


def test_the_schema_applies_twice_without_change(store: PostgresStore) -> None:
    conn = store.connection
    policies = (
        "select tablename, policyname, cmd, roles, qual, with_check from pg_policies"
        " where schemaname = 'public' order by tablename, policyname"
    )
    before = conn.execute(policies).fetchall()
    with conn.transaction(force_rollback=True):
        conn.execute(app_schema().encode())
        conn.execute(app_schema().encode())
        assert conn.execute(policies).fetchall() == before
    assert len(before) >= len(APP_TABLES)


def test_anon_reads_nothing_and_writes_nothing(store: PostgresStore, world: World) -> None:
    with acting_as(store, "anon") as conn:
        for table in APP_TABLES:
            assert count(conn, table) == 0, table
        for table, (query, params) in inserts(world).items():
            assert "row-level security" in refused(conn, query, params), table
        updated = conn.execute("update public.sessions set status = 'cancelled'")
        assert updated.rowcount == 0


def test_service_role_sees_everything(store: PostgresStore, world: World) -> None:
    owner = {table: count(store.connection, table) for table in APP_TABLES}
    assert all(owner.values())
    with acting_as(store, "service_role") as conn:
        assert {table: count(conn, table) for table in APP_TABLES} == owner


def test_a_customer_sees_only_its_own_sessions_requests_and_profile(
    store: PostgresStore, world: World
) -> None:
    w = world
    with acting_as(store, "authenticated", w.alice) as conn:
        assert ids(conn, "select id from public.sessions") == {w.alice_live, w.alice_waiting}
        assert ids(conn, "select id from public.session_requests") == {
            w.requests[w.alice_live],
            w.requests[w.alice_waiting],
        }
        assert ids(conn, "select id from public.profiles") == {w.alice}
        assert ids(conn, "select user_id from public.session_participants") == {w.alice, w.mech}
        assert ids(conn, "select session_id from public.session_files") == {w.alice_live}
    with acting_as(store, "authenticated", w.bob) as conn:
        assert ids(conn, "select id from public.sessions") == {w.bob_done, w.bob_waiting}
        assert w.requests[w.alice_waiting] not in ids(conn, "select id from public.session_requests")


def test_a_mechanic_sees_pending_requests_and_the_sessions_it_serves(
    store: PostgresStore, world: World
) -> None:
    w = world
    with acting_as(store, "authenticated", w.mech) as conn:
        assert ids(conn, "select id from public.sessions") == {w.alice_live}
        assert ids(conn, "select id from public.session_requests") == {
            w.requests[w.alice_live],  # accepted by it
            w.requests[w.alice_waiting],  # pending
            w.requests[w.bob_waiting],  # pending
        }
        # Another mechanic's finished session, and its request, stay out of sight.
        assert not ids(conn, "select id from public.sessions where id = %s", (w.bob_done,))
        assert not ids(conn, "select id from public.chat_messages where session_id = %s", (w.bob_done,))
        assert ids(conn, "select id from public.profiles") == {w.mech}


def test_participants_read_and_post_in_their_chat_and_nobody_else_does(
    store: PostgresStore, world: World
) -> None:
    w = world
    post = (
        "insert into public.chat_messages (session_id, sender_id, body) values (%s, %s, 'hello') returning id"
    )
    for user in (w.alice, w.mech):
        with acting_as(store, "authenticated", user) as conn:
            assert (
                len(ids(conn, "select id from public.chat_messages where session_id = %s", (w.alice_live,)))
                == 2
            )
            assert len(ids(conn, post, (w.alice_live, user))) == 1
            # Nobody posts as someone else, even in its own session.
            other = w.mech if user == w.alice else w.alice
            assert "row-level security" in refused(conn, post, (w.alice_live, other))
    for outsider in (w.bob, w.other_mech):
        with acting_as(store, "authenticated", outsider) as conn:
            assert not ids(conn, "select id from public.chat_messages where session_id = %s", (w.alice_live,))
            assert "row-level security" in refused(conn, post, (w.alice_live, outsider))


def test_files_are_uploaded_by_participants_as_themselves(store: PostgresStore, world: World) -> None:
    w = world
    upload = (
        "insert into public.session_files (session_id, uploaded_by, file_name, storage_path)"
        " values (%s, %s, 'p.jpg', 'sessions/p.jpg') returning id"
    )
    with acting_as(store, "authenticated", w.mech) as conn:
        assert len(ids(conn, upload, (w.alice_live, w.mech))) == 1
        assert "row-level security" in refused(conn, upload, (w.alice_live, w.alice))
    with acting_as(store, "authenticated", w.bob) as conn:
        assert "row-level security" in refused(conn, upload, (w.alice_live, w.bob))


def test_users_write_nothing_else(store: PostgresStore, world: World) -> None:
    """No policy lets a user make sessions, requests or profiles, or change a session."""
    w = world
    rows = inserts(w)
    with acting_as(store, "authenticated", w.alice) as conn:
        for table in ("profiles", "sessions", "session_requests", "session_participants"):
            refused(conn, *rows[table])
        updated = conn.execute(
            "update public.sessions set status = 'completed' where id = %s", (w.alice_live,)
        )
        assert updated.rowcount == 0
        deleted = conn.execute("delete from public.chat_messages where session_id = %s", (w.alice_live,))
        assert deleted.rowcount == 0


def test_a_user_renames_itself_but_cannot_change_its_role(store: PostgresStore, world: World) -> None:
    w = world
    with acting_as(store, "authenticated", w.alice) as conn:
        renamed = conn.execute("update public.profiles set full_name = 'Alice' where id = %s", (w.alice,))
        assert renamed.rowcount == 1
        others = conn.execute("update public.profiles set full_name = 'Mallory' where id = %s", (w.mech,))
        assert others.rowcount == 0
        assert "permission denied" in refused(
            conn, "update public.profiles set role = 'admin' where id = %s", (w.alice,)
        )
