"""The app's cleanup module against the harness's SQL functions, on the same generated states.

Each state is built, the harness function runs inside a transaction that is
rolled back (its result and the rows it leaves are recorded), then the app's
debug endpoint runs for real; results and rows must be the same.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import ADMIN_TOKEN, AppUser, Login, Users
from tests.seeding import Seeder

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
AGES = [0.5, 14, 15.2, 19, 21, 61]
STATUSES = ["pending", "waiting", "waiting", "live", "completed", "cancelled"]
REQUESTS = [None, "pending", "pending", "accepted", "expired", "cancelled"]


def state_rows(conn: psycopg.Connection[Any]) -> dict[str, set[tuple[Any, ...]]]:
    """The rows the rules touch, without the clock-dependent ``ended_at`` values."""
    queries = {
        "sessions": "select id, customer_id, mechanic_id, status, ended_at is not null from public.sessions",
        "requests": "select id, session_id, customer_id, status from public.session_requests",
        "participants": "select session_id, user_id from public.session_participants",
        "files": "select id, session_id from public.session_files",
        "messages": "select id, session_id from public.chat_messages",
    }
    return {name: set(conn.execute(query).fetchall()) for name, query in queries.items()}


def harness_outcome(
    store: PostgresStore, call: Callable[[], Any]
) -> tuple[Any, dict[str, set[tuple[Any, ...]]]]:
    """What a harness function returns (or raises) and leaves behind, then rolled back."""
    conn = store.connection
    with conn.transaction(force_rollback=True):
        try:
            with conn.transaction():
                result = call()
        except psycopg.Error as exc:  # the rule's SQLSTATE is what we compare
            result = exc.sqlstate
        if isinstance(result, dict):  # per-table counts are pitstop's addition, not the app's contract
            result.pop("tables", None)
        after = state_rows(conn)
    return result, after


def generate(seed_value: int, users: Users, store: PostgresStore) -> dict[str, AppUser]:
    rng = random.Random(seed_value)
    people = {
        "customer": users("customer"),
        "customer2": users("customer"),
        "outsider": users("customer", test=False),
        "mechanic": users("mechanic"),
        "real_mechanic": users("mechanic", test=False),
    }
    seed = Seeder(store.connection)
    customers = [people["customer"], people["customer2"], people["outsider"]]
    mechanics = [None, people["mechanic"], people["real_mechanic"]]
    for _ in range(rng.randint(6, 14)):
        customer = rng.choice(customers)
        status = rng.choice(STATUSES)
        mechanic = rng.choice(mechanics) if status in ("live", "completed", "cancelled") else None
        seeded = seed.session(
            customer.id,
            status=status,
            age_minutes=rng.choice(AGES),
            mechanic=mechanic.id if mechanic else None,
            request=rng.choice(REQUESTS),
            request_age_minutes=rng.choice(AGES),
        )
        if rng.random() < 0.5:
            seed.participant(seeded.session, customer.id, "customer")
            seed.message(seeded.session, customer.id)
            if rng.random() < 0.5:
                seed.file(seeded.session, customer.id)
            if mechanic:
                seed.participant(seeded.session, mechanic.id, "mechanic")
    for _ in range(rng.randint(0, 3)):  # requests without a session
        seed.request(
            rng.choice(customers).id, status=rng.choice(["pending", "expired"]), age_minutes=rng.choice(AGES)
        )
    return people


@pytest.mark.parametrize("seed_value", range(6))
def test_stale_cleanup_matches_the_harness(
    anonymous: httpx.Client, users: Users, store: PostgresStore, seed_value: int
) -> None:
    generate(seed_value, users, store)
    expected, expected_rows = harness_outcome(store, lambda: store.cleanup_stale())
    response = anonymous.post("/api/debug/cleanup-sessions", headers=AUTH)
    assert response.json() == expected
    assert state_rows(store.connection) == expected_rows


@pytest.mark.parametrize("seed_value", range(6))
@pytest.mark.parametrize("who", ["customer", "mechanic"])
def test_purge_matches_the_harness(
    login: Login, users: Users, store: PostgresStore, seed_value: int, who: str
) -> None:
    people = generate(seed_value, users, store)
    user = people[who]
    expected, expected_rows = harness_outcome(store, lambda: store.purge_user(user.id))
    response = login(user).post("/api/debug/cleanup-user-data", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == expected
    assert state_rows(store.connection) == expected_rows


@pytest.mark.parametrize("seed_value", range(3))
def test_force_cancel_matches_the_harness_for_every_session(
    anonymous: httpx.Client, users: Users, store: PostgresStore, seed_value: int
) -> None:
    generate(seed_value, users, store)
    ids = [UUID(str(r[0])) for r in store.connection.execute("select id from public.sessions order by id")]
    conn = store.connection
    status_of_sqlstate = {"PT404": 404, "PT409": 409}
    for session_id in ids:
        expected, expected_rows = harness_outcome(
            store,
            lambda sid=session_id: conn.execute("select pitstop.force_cancel(%s)", (sid,)).fetchone()[0],
        )
        response = anonymous.post(
            "/api/debug/force-cancel-session", json={"sessionId": str(session_id)}, headers=AUTH
        )
        if isinstance(expected, str):
            assert response.status_code == status_of_sqlstate[expected], response.text
        else:
            assert response.status_code == 200 and response.json() == expected
        assert state_rows(store.connection) == expected_rows
