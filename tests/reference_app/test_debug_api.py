"""The debug API: mounted in test mode only, behind the admin token, with the harness's JSON shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import ADMIN_TOKEN, Login, Stack, Users, rows
from tests.reference_app.servers import AppServer
from tests.seeding import Seeder

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ROUTES = [
    ("GET", "/api/debug/cleanup-user-data"),
    ("POST", "/api/debug/cleanup-user-data"),
    ("GET", "/api/debug/cleanup-sessions"),
    ("POST", "/api/debug/cleanup-sessions"),
    ("POST", "/api/debug/force-cancel-session"),
    ("GET", "/api/debug/session-health"),
]


@pytest.fixture(scope="module")
def production_app(stack: Stack, server_logs: Path) -> Iterator[AppServer]:
    server = AppServer("app-not-test-mode", {**stack.env, "TEST_MODE": "0"}, server_logs)
    yield server
    server.stop()


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_outside_test_mode_the_debug_routes_do_not_exist(
    production_app: AppServer, method: str, path: str
) -> None:
    response = httpx.request(
        method, production_app.url + path, headers=AUTH, json={"sessionId": str(uuid4())}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {ADMIN_TOKEN}", "Bearer", f"Bearer {ADMIN_TOKEN}x"]
)
def test_without_the_admin_token_every_route_answers_401(
    anonymous: httpx.Client, store: PostgresStore, method: str, path: str, header: str | None
) -> None:
    seeded = Seeder(store.connection).session(Seeder(store.connection).user(), age_minutes=30)
    headers = {"Authorization": header} if header else {}
    response = anonymous.request(method, path, headers=headers, json={"sessionId": str(seeded.session)})
    assert response.status_code == 401 and "error" in response.json()
    assert Seeder(store.connection).status(seeded.session) == "waiting"


def test_cleanup_user_data_needs_the_signed_in_user(anonymous: httpx.Client) -> None:
    response = anonymous.post("/api/debug/cleanup-user-data", headers=AUTH)
    assert response.status_code == 401 and "sign in" in response.json()["error"]


def test_cleanup_user_data_checks_then_purges_the_signed_in_test_user(
    login: Login, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    seed = Seeder(store.connection)
    seed.full_session(customer.id, mechanic=users("mechanic").id)
    seed.session(customer.id, status="completed", request="accepted")
    other = seed.session(users("customer").id)
    client = login(customer)
    expected = store.purge_user(customer.id, dry_run=True)
    del expected["tables"]  # pitstop's addition: the app's answer has the contract's keys

    check = client.get("/api/debug/cleanup-user-data", headers=AUTH)
    assert check.status_code == 200 and check.json() == expected
    assert rows(store, "select count(*) from public.sessions") == [(3,)]
    purge = client.post("/api/debug/cleanup-user-data", headers=AUTH)
    assert purge.status_code == 200 and purge.json() == expected
    assert expected["sessions"] == 2 and expected["chat_messages"] == 2 and expected["session_files"] == 1
    assert rows(store, "select id from public.sessions") == [(other.session,)]
    assert client.post("/api/debug/cleanup-user-data", headers=AUTH).json()["sessions"] == 0


def test_cleanup_user_data_refuses_a_user_without_both_test_marks(
    login: Login, users: Users, store: PostgresStore
) -> None:
    real = users("customer", test=False)
    half = users("customer", email=f"half-{uuid4().hex[:6]}@pitstop.test")
    store.connection.execute("update auth.users set raw_user_meta_data = '{}' where id = %s", (half.id,))
    seed = Seeder(store.connection)
    for user in (real, half):
        seed.session(user.id)
        client = login(user)
        for method in ("GET", "POST"):
            response = client.request(method, "/api/debug/cleanup-user-data", headers=AUTH)
            assert response.status_code == 403 and "not a test user" in response.json()["error"]
    assert rows(store, "select count(*) from public.sessions") == [(2,)]


def test_cleanup_sessions_checks_then_runs_the_stale_cleanup(
    anonymous: httpx.Client, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    stale = seed.session(seed.user(), age_minutes=16)
    seed.session(seed.user(), age_minutes=21, request=None)
    fresh = seed.session(seed.user(), age_minutes=3)
    expected = store.cleanup_stale(dry_run=True)
    check = anonymous.get("/api/debug/cleanup-sessions", headers=AUTH)
    assert check.status_code == 200 and check.json() == expected
    assert seed.status(stale.session) == "waiting"
    run = anonymous.post("/api/debug/cleanup-sessions", headers=AUTH)
    assert (
        run.json()
        == expected
        == {"requests_expired": 1, "requests_cancelled": 0, "sessions_cancelled": 2, "orphans_cancelled": 1}
    )
    assert seed.status(stale.session) == "cancelled" and seed.status(fresh.session) == "waiting"
    tight = anonymous.get("/api/debug/cleanup-sessions", params={"waitingMinutes": 2}, headers=AUTH)
    assert tight.json() == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
    }


@pytest.mark.parametrize(
    "query", [{"waitingMinutes": "-1"}, {"orphanMinutes": "abc"}, {"waitingMinutes": "1.5"}]
)
def test_cleanup_sessions_refuses_bad_thresholds(anonymous: httpx.Client, query: dict[str, str]) -> None:
    response = anonymous.post("/api/debug/cleanup-sessions", params=query, headers=AUTH)
    assert response.status_code == 422 and "minutes" in response.json()["error"]


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'"x"', b"{}", b'{"sessionId": 42}', b'{"sessionId": "not-a-uuid"}', b""]
)
def test_force_cancel_refuses_malformed_input_with_422(anonymous: httpx.Client, body: bytes) -> None:
    response = anonymous.post(
        "/api/debug/force-cancel-session", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "error" in response.json()


def test_force_cancel_cancels_once_and_says_why_it_cannot(
    anonymous: httpx.Client, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    live = seed.session(seed.user(), status="live", mechanic=seed.user(role="mechanic"), request="pending")
    url = "/api/debug/force-cancel-session"
    response = anonymous.post(url, json={"sessionId": str(live.session)}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "session_id": str(live.session),
        "previous_status": "live",
        "requests_cancelled": 1,
    }
    assert seed.status(live.session) == "cancelled"
    again = anonymous.post(url, json={"sessionId": str(live.session)}, headers=AUTH)
    assert again.status_code == 409 and "already ended" in again.json()["error"]
    unknown = anonymous.post(url, json={"sessionId": str(uuid4())}, headers=AUTH)
    assert unknown.status_code == 404 and "unknown session" in unknown.json()["error"]


def test_session_health_matches_the_harness_health(anonymous: httpx.Client, store: PostgresStore) -> None:
    seed = Seeder(store.connection)
    customer = seed.user()
    seed.session(customer, age_minutes=5)
    seed.session(customer, age_minutes=16)
    seed.session(customer, status="pending", age_minutes=61, request="accepted")
    seed.session(customer, age_minutes=1, request=None)
    seed.session(customer, status="live", age_minutes=3, request="accepted")
    seed.session(customer, status="completed", request="accepted")
    response = anonymous.get("/api/debug/session-health", headers=AUTH)
    assert response.status_code == 200
    assert_same_health(response.json(), store.health())
    tight = anonymous.get(
        "/api/debug/session-health", params={"staleMinutes": 4, "veryStaleMinutes": 10}, headers=AUTH
    )
    assert_same_health(tight.json(), store.health(stale_minutes=4, very_stale_minutes=10))
    bad = anonymous.get(
        "/api/debug/session-health", params={"staleMinutes": 30, "veryStaleMinutes": 10}, headers=AUTH
    )
    assert bad.status_code == 422 and "very_stale_minutes" in bad.json()["error"]


def assert_same_health(app: dict[str, object], harness: dict[str, object]) -> None:
    assert set(app) == set(harness) == {"checked_at", "sessions", "requests", "orphans", "problems"}
    assert isinstance(app["checked_at"], str) and "T" in app["checked_at"]
    for key in ("sessions", "requests", "orphans"):
        assert app[key] == harness[key], key

    def codes(health: dict[str, object]) -> list[tuple[object, object]]:
        problems = health["problems"]
        assert isinstance(problems, list)
        return [(p["code"], p["count"]) for p in problems]

    assert codes(app) == codes(harness)
