"""Differential tests: the pitstop functions (postgres store) against the app's own rules (api store).

Both run on the embedded stack's database. Each example seeds the same
generated state twice (same ids), applies the same operations through each
store, and compares what they answered and what they left behind. A
disagreement is a bug in one of them; the failure shows both sides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from harness.errors import PitstopError
from harness.store import Store, auth_users
from harness.store.api import ApiStore
from harness.store.postgres import PostgresStore
from tests.conftest import PASSWORD, PASSWORD_HASH
from tests.seeding import truncate_all
from tests.states import USER_KINDS, SessionSpec, sessions

# Ages kept clear of every threshold, so that the time between the two runs
# cannot move a row across one.
AGES = [0.5, 9.5, 14.5, 16.0, 19.5, 21.0, 29.5, 31.0, 59.5, 61.0, 240.0]
THRESHOLDS = [10, 15, 20, 30, 60]
METADATA = {"test": {"pitstop": True}, "real": {}, "email_only": {}, "metadata_only": {"pitstop": True}}
DOMAIN = {
    "test": "pitstop.test",
    "real": "example.com",
    "email_only": "pitstop.test",
    "metadata_only": "example.com",
}


@dataclass(frozen=True)
class World:
    users: list[str]
    sessions: list[SessionSpec]

    def user_id(self, i: int) -> UUID:
        return UUID(int=0x1000 + i, version=4)

    def email(self, i: int) -> str:
        return f"user{i}@{DOMAIN[self.users[i]]}"

    def session_id(self, j: int) -> UUID:
        return UUID(int=0x2000 + j, version=4)  # j beyond the sessions: an unknown session


worlds = st.lists(st.sampled_from(USER_KINDS), min_size=2, max_size=5).flatmap(
    lambda kinds: st.builds(World, st.just(kinds), st.lists(sessions(len(kinds), AGES), max_size=8))
)

Op = tuple[Any, ...]
OPS: dict[str, st.SearchStrategy[Op]] = {
    "purge": st.tuples(st.just("purge"), st.integers(0, 4), st.booleans()),
    "cleanup": st.tuples(
        st.just("cleanup"), st.sampled_from(THRESHOLDS), st.sampled_from(THRESHOLDS), st.booleans()
    ),
    "force_cancel": st.tuples(st.just("force_cancel"), st.integers(0, 8)),
    "health": st.tuples(st.just("health"), st.sampled_from(THRESHOLDS), st.sampled_from(THRESHOLDS)),
}


def seed(conn: Any, world: World) -> None:
    """The world's rows with fixed ids, ages relative to the database clock."""
    truncate_all(conn)
    make_user = auth_users.create_user_statement(auth_users.read_shape(conn))  # the api store signs in
    for i, kind in enumerate(world.users):
        conn.execute(
            make_user,
            {
                "id": world.user_id(i),
                "email": world.email(i),
                "password_hash": PASSWORD_HASH,
                "metadata": Jsonb(METADATA[kind]),
            },
        )
        conn.execute(
            "insert into public.profiles (id, role, full_name) values (%s, 'customer', %s)",
            (world.user_id(i), f"User {i}"),
        )
    for j, s in enumerate(world.sessions):
        session, customer = world.session_id(j), world.user_id(s.customer)
        mechanic = None if s.mechanic is None else world.user_id(s.mechanic)
        conn.execute(
            "insert into public.sessions (id, customer_id, mechanic_id, plan, status, created_at)"
            " values (%s, %s, %s, 'Quick Chat', %s, now() - make_interval(secs => %s))",
            (session, customer, mechanic, s.status, s.age * 60),
        )
        if s.request is not None:
            conn.execute(
                "insert into public.session_requests"
                " (session_id, customer_id, plan, status, vehicle, created_at)"
                " values (%s, %s, 'Quick Chat', %s, '{}', now() - make_interval(secs => %s))",
                (session, customer, s.request, s.request_age * 60),
            )
        if s.children:
            conn.execute(
                "insert into public.session_participants (session_id, user_id, role)"
                " values (%s, %s, 'customer')",
                (session, customer),
            )
            conn.execute(
                "insert into public.chat_messages (session_id, sender_id, body) values (%s, %s, 'hi')",
                (session, customer),
            )


def state(conn: Any) -> dict[str, list[Any]]:
    """What the rules may change, without the clock (ended_at only as set or not)."""
    queries = {
        "sessions": "select id, status, ended_at is null from public.sessions order by id",
        "requests": "select session_id, customer_id, status from public.session_requests"
        " order by session_id nulls first, customer_id, status",
        "participants": "select session_id, user_id from public.session_participants order by 1, 2",
        "messages": "select session_id from public.chat_messages order by 1",
        "users": "select id from auth.users order by id",
    }
    return {name: [tuple(str(v) for v in row) for row in conn.execute(q)] for name, q in queries.items()}


def apply(store: Store, world: World, op: Op) -> Any:
    """One operation; an expected error is an outcome too (its kind and exit code)."""
    try:
        if op[0] == "purge":
            i = op[1] % len(world.users)
            if isinstance(store, ApiStore):
                store.sign_in(world.email(i), PASSWORD)
            return store.purge_user(world.user_id(i), dry_run=op[2])
        if op[0] == "cleanup":
            return store.cleanup_stale(waiting_minutes=op[1], orphan_minutes=op[2], dry_run=op[3])
        if op[0] == "force_cancel":
            return store.force_cancel(world.session_id(op[1]))
        health = store.health(stale_minutes=op[1], very_stale_minutes=op[2])
        return {k: v for k, v in health.items() if k != "checked_at"}  # the clock differs
    except PitstopError as exc:
        return {"error": type(exc).__name__, "exit_code": int(exc.exit_code), "message": exc.message}


def run(store: Store, conn: Any, world: World, ops: list[Op]) -> dict[str, Any]:
    seed(conn, world)
    outcomes = [apply(store, world, op) for op in ops]
    return {"outcomes": outcomes, "state": state(conn)}


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """Messages are each implementation's own words: compare an error's kind and exit code, and
    a health problem's code and count."""

    def outcome(o: Any) -> Any:
        if isinstance(o, dict) and "error" in o:
            return {k: v for k, v in o.items() if k != "message"}
        if isinstance(o, dict) and "problems" in o:
            return {**o, "problems": [{k: v for k, v in p.items() if k != "message"} for p in o["problems"]]}
        return o

    return {**result, "outcomes": [outcome(o) for o in result["outcomes"]]}


def check(sql_side: Store, app_side: Store, conn: Any, world: World, ops: list[Op]) -> None:
    via_sql = run(sql_side, conn, world, ops)
    via_app = run(app_side, conn, world, ops)
    assert comparable(via_sql) == comparable(via_app), (
        f"the stores disagree on {ops} over {world}\n"
        f"postgres (pitstop functions): {json.dumps(via_sql, indent=1, default=str)}\n"
        f"api (the app's cleanup module): {json.dumps(via_app, indent=1, default=str)}"
    )


Differ = Callable[[World, list[Op]], None]


@pytest.fixture
def differ(stack_store: PostgresStore, api_store: ApiStore) -> Differ:
    return lambda world, ops: check(stack_store, api_store, stack_store.connection, world, ops)


@pytest.mark.parametrize("kind", list(OPS))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_stores_agree(differ: Differ, kind: str, data: st.DataObject) -> None:
    world = data.draw(worlds, label="world")
    ops = data.draw(st.lists(OPS[kind], min_size=1, max_size=3), label="ops")
    differ(world, ops)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds, ops=st.lists(st.one_of(*OPS.values()), min_size=2, max_size=4))
def test_the_stores_agree_on_mixed_sequences(differ: Differ, world: World, ops: list[Op]) -> None:
    differ(world, ops)


class OffByFive:
    """The app's rules with a bug: its stale cleanup uses a threshold five minutes longer."""

    def __init__(self, store: ApiStore) -> None:
        self.store = store

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> Any:
        return self.store.cleanup_stale(
            waiting_minutes=waiting_minutes + 5, orphan_minutes=orphan_minutes, dry_run=dry_run
        )


def test_a_disagreement_fails_and_shows_both_results(stack_store: PostgresStore, api_store: ApiStore) -> None:
    world = World(["test"], [SessionSpec(0, None, "waiting", 16.0, "pending", 16.0, False)])
    buggy: Any = OffByFive(api_store)
    with pytest.raises(AssertionError) as caught:
        check(stack_store, buggy, stack_store.connection, world, [("cleanup", 15, 20, False)])
    shown = str(caught.value)
    assert "postgres (pitstop functions)" in shown and "api (the app's cleanup module)" in shown
    assert '"sessions_cancelled": 1' in shown and '"sessions_cancelled": 0' in shown
