"""The customer dashboard (page and JSON) and the admin cleanup page."""

from __future__ import annotations

import re

import httpx
import pytest

from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import Login, Users
from tests.seeding import Seeder


def shown(html: str) -> str:
    """The page without its <template>s (the markup dashboard.js copies as sessions change)."""
    return re.sub(r"<template\b.*?</template>", "", html, flags=re.S)


def test_without_sessions_the_dashboard_offers_a_plan(login: Login, users: Users) -> None:
    client = login(users("customer"))
    html = shown(client.get("/customer/dashboard").text)
    assert "Next Session" in html and "Session History" in html
    assert 'data-testid="no-upcoming-sessions"' in html and "No upcoming sessions" in html
    assert 'data-testid="session-history"' in html and 'data-testid="history-item"' not in html
    assert client.get("/api/customer/sessions").json() == {"next": None, "history": []}


@pytest.mark.parametrize("status", ["pending", "waiting", "live"])
def test_the_next_session_shows_its_status_and_join_only_when_live(
    login: Login, users: Users, store: PostgresStore, status: str
) -> None:
    customer = users("customer")
    mechanic = users("mechanic") if status == "live" else None
    seeded = Seeder(store.connection).session(
        customer.id, status=status, mechanic=mechanic.id if mechanic else None
    )
    client = login(customer)
    html = shown(client.get("/customer/dashboard").text)
    assert f'data-testid="next-session" data-session-id="{seeded.session}"' in html
    assert re.search(rf'data-testid="next-session-status">{status}<', html)
    assert ('data-testid="join-session"' in html) is (status == "live")
    assert 'data-testid="no-upcoming-sessions"' not in html
    body = client.get("/api/customer/sessions").json()
    assert body["next"]["id"] == str(seeded.session) and body["next"]["status"] == status
    assert body["next"]["url"] == f"/session/{seeded.session}"


def test_history_lists_completed_and_cancelled_sessions_only_of_this_customer(
    login: Login, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    customer = users("customer")
    done = seed.session(customer.id, status="completed", request="accepted")
    cancelled = seed.session(customer.id, status="cancelled", request="expired")
    seed.session(users("customer").id, status="completed", request="accepted")
    client = login(customer)
    html = client.get("/customer/dashboard").text
    items = set(re.findall(r'data-testid="history-item" data-session-id="([^"]+)" data-status="(\w+)"', html))
    assert items == {(str(done.session), "completed"), (str(cancelled.session), "cancelled")}
    history = client.get("/api/customer/sessions").json()["history"]
    assert {(h["id"], h["status"]) for h in history} == items


def test_the_admin_page_checks_and_runs_the_cleanup(
    login: Login, users: Users, store: PostgresStore, anonymous: httpx.Client
) -> None:
    seed = Seeder(store.connection)
    stale = seed.session(seed.user(), age_minutes=16)
    admin = login(users("admin"))
    html = admin.get("/admin/cleanup").text
    for testid in ("cleanup-check", "cleanup-run", "cleanup-result", "health-summary"):
        assert f'data-testid="{testid}"' in html
    assert 'data-code="stale_waiting"' in html

    check = admin.get("/api/admin/cleanup").json()
    assert check["dry_run"] is True
    assert check["result"] == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
    }
    assert seed.status(stale.session) == "waiting"
    run = admin.post("/api/admin/cleanup").json()
    assert run["result"] == check["result"] and seed.status(stale.session) == "cancelled"
    assert run["health"]["sessions"]["cancelled"] == {"total": 1} and run["health"]["problems"] == []

    customer = login(users("customer"))
    assert customer.post("/api/admin/cleanup").status_code == 403
    assert anonymous.post("/api/admin/cleanup").status_code == 401
