"""The mechanic's request list (after the stale cleanup) and the accept race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from uuid import uuid4

import httpx

from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import Login, Stack, Users, rows
from tests.seeding import Seeder


def test_the_list_runs_the_stale_cleanup_first_and_shows_the_pending_requests(
    login: Login, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    customer = users("customer", name="Ada Driver")
    fresh = seed.session(customer.id, age_minutes=2)
    stale = seed.session(users("customer").id, age_minutes=16)
    orphan = seed.session(users("customer").id, age_minutes=21, request=None)
    mechanic = login(users("mechanic"))

    body = mechanic.get("/api/mechanics/requests").json()
    assert body["cleanup"] == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 2,
        "orphans_cancelled": 1,
    }
    assert [r["id"] for r in body["requests"]] == [str(fresh.request)]
    item = body["requests"][0]
    assert item["customer_name"] == "Ada Driver" and item["plan"] == "Quick Chat"
    assert item["session_id"] == str(fresh.session) and item["vehicle"] == {"make": "Honda"}
    assert 100 <= item["age_seconds"] <= 200
    assert stale.request is not None and seed.request_status(stale.request) == "expired"
    assert seed.status(stale.session) == "cancelled" and seed.status(orphan.session) == "cancelled"

    html = mechanic.get("/mechanic/dashboard").text
    assert 'data-testid="request-list"' in html
    row = html.split(f'data-testid="request-{fresh.request}"')[1].split("</tr>")[0]
    for testid in ("request-customer", "request-plan", "request-vehicle", "request-age"):
        assert f'data-testid="{testid}"' in row
    assert f'data-testid="accept-{fresh.request}"' in row and "Ada Driver" in row
    assert f'data-testid="request-{stale.request}"' not in html


def test_an_empty_list_says_so(login: Login, users: Users) -> None:
    mechanic = login(users("mechanic"))
    assert mechanic.get("/api/mechanics/requests").json()["requests"] == []
    html = mechanic.get("/mechanic/dashboard").text
    assert 'data-testid="no-requests"' in html and 'id="no-requests" hidden' not in html


def test_accepting_makes_the_session_live_with_both_participants(
    login: Login, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    customer = users("customer")
    seeded = seed.session(customer.id)
    mechanic_user = users("mechanic")
    mechanic = login(mechanic_user)

    response = mechanic.post(f"/api/mechanics/requests/{seeded.request}/accept")
    assert response.status_code == 200
    assert response.json() == {"session_id": str(seeded.session), "url": f"/session/{seeded.session}"}
    session = rows(
        store, "select status, mechanic_id, started_at from public.sessions where id = %s", (seeded.session,)
    )[0]
    assert session[0] == "live" and session[1] == mechanic_user.id and session[2] is not None
    request = rows(
        store,
        "select status, accepted_by, accepted_at from public.session_requests where id = %s",
        (seeded.request,),
    )[0]
    assert request[0] == "accepted" and request[1] == mechanic_user.id and request[2] is not None
    assert set(rows(store, "select user_id, role from public.session_participants")) == {
        (customer.id, "customer"),
        (mechanic_user.id, "mechanic"),
    }
    again = mechanic.post(f"/api/mechanics/requests/{seeded.request}/accept")
    assert again.status_code == 409 and "already accepted" in again.json()["error"]
    assert mechanic.get("/api/mechanics/requests").json()["requests"] == []


def test_accept_refuses_unknown_bad_and_ended_requests(
    login: Login, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    mechanic = login(users("mechanic"))
    assert mechanic.post(f"/api/mechanics/requests/{uuid4()}/accept").status_code == 404
    assert mechanic.post("/api/mechanics/requests/not-a-uuid/accept").status_code == 422
    expired = seed.session(users("customer").id, status="cancelled", request="expired")
    response = mechanic.post(f"/api/mechanics/requests/{expired.request}/accept")
    assert response.status_code == 409 and "expired" in response.json()["error"]
    # A pending request whose session was cancelled meanwhile: refused, and nothing changes.
    orphaned = seed.session(users("customer").id, status="cancelled", request="pending")
    assert mechanic.post(f"/api/mechanics/requests/{orphaned.request}/accept").status_code == 409
    assert orphaned.request is not None and seed.request_status(orphaned.request) == "pending"


def test_customers_cannot_accept(login: Login, users: Users, store: PostgresStore) -> None:
    seeded = Seeder(store.connection).session(users("customer").id)
    customer = login(users("customer"))
    assert customer.post(f"/api/mechanics/requests/{seeded.request}/accept").status_code == 403


def test_of_twenty_mechanics_accepting_at_once_exactly_one_wins(
    stack: Stack, login: Login, users: Users, store: PostgresStore
) -> None:
    seeded = Seeder(store.connection).session(users("customer").id)
    mechanics = [users("mechanic") for _ in range(20)]
    clients = [login(m) for m in mechanics]
    barrier = Barrier(len(clients))

    def accept(client: httpx.Client) -> tuple[int, str]:
        barrier.wait(timeout=30)
        response = client.post(f"/api/mechanics/requests/{seeded.request}/accept")
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        results = list(pool.map(accept, clients))
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * 19
    assert all("already accepted" in text for code, text in results if code == 409)
    winner = mechanics[next(i for i, (code, _) in enumerate(results) if code == 200)]
    assert rows(store, "select status, mechanic_id from public.sessions") == [("live", winner.id)]
    assert rows(store, "select accepted_by from public.session_requests") == [(winner.id,)]
    assert rows(store, "select count(*) from public.session_participants where role = 'mechanic'") == [(1,)]
