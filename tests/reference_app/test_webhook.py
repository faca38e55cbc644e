"""The Stripe webhook: signatures, a real localstripe event, and idempotent fulfillment."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import stripe

from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import Login, Stack, Users, rows
from tests.reference_app.flows import event, paid_intent, post_event, signature
from tests.reference_app.servers import wait_until


def sessions_of(store: PostgresStore, intent_id: str) -> list[tuple[object, ...]]:
    return rows(store, "select id, status from public.sessions where payment_intent_id = %s", (intent_id,))


def test_bad_signatures_are_refused_and_the_real_event_from_localstripe_fulfils(
    anonymous: httpx.Client, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    # Not yet confirmed: localstripe sends its own event only once we confirm below.
    intent_id = paid_intent(stripe_client, customer.id, confirm=False)
    payload = event(intent_id)
    good = signature(payload)
    bad_headers = {
        "missing": None,
        "garbage": "not-a-signature",
        "wrong secret": signature(payload, secret="whsec_wrong"),
        "too old": signature(payload, timestamp=int(time.time()) - 3600),
        "other payload": signature(event("pi_other")),
        "no v1": good.split(",")[0],
    }
    for name, header in bad_headers.items():
        response = post_event(anonymous, payload, header)
        assert response.status_code == 400, name
        assert "error" in response.json()
    tampered = payload.replace(b"payment_intent.succeeded", b"payment_intent.succeedeX")
    assert post_event(anonymous, tampered, good).status_code == 400
    assert sessions_of(store, intent_id) == []

    stripe_client.v1.payment_intents.confirm(intent_id)
    # localstripe signs payment_intent.succeeded with the shared secret and posts it to the app.
    wait_until(lambda: len(sessions_of(store, intent_id)) == 1, timeout=15, what="the localstripe webhook")
    assert sessions_of(store, intent_id)[0][1] == "waiting"


def test_a_signed_event_fulfils_once_however_often_it_comes(
    anonymous: httpx.Client,
    login: Login,
    users: Users,
    store: PostgresStore,
    stripe_client: stripe.StripeClient,
) -> None:
    customer = users("customer")
    intent_id = paid_intent(stripe_client, customer.id)
    payload = event(intent_id)
    first = post_event(anonymous, payload, signature(payload))
    assert first.status_code == 200
    assert first.json()["state"] == "fulfilled" and first.json()["handled"] is True
    again = post_event(anonymous, payload, signature(payload))
    assert again.json()["session_id"] == first.json()["session_id"]
    page = login(customer).get("/checkout/success", params={"payment_intent": intent_id})
    assert first.json()["session_id"] in page.text
    assert len(sessions_of(store, intent_id)) == 1
    assert rows(store, "select count(*) from public.session_requests")[0][0] == 1


def test_concurrent_webhooks_and_success_pages_make_one_session(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    client = login(customer)
    intent_id = paid_intent(stripe_client, customer.id)
    payload = event(intent_id)

    def hit(i: int) -> int:
        with httpx.Client(base_url=stack.url, cookies=client.cookies, timeout=30) as c:
            if i % 2:
                return post_event(c, payload, signature(payload)).status_code
            return c.get(f"/api/checkout/{intent_id}").status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(hit, range(12)))
    assert codes == [200] * 12
    assert len(sessions_of(store, intent_id)) == 1
    assert rows(store, "select count(*) from public.session_requests")[0][0] == 1


@pytest.mark.parametrize("event_type", ["payment_intent.payment_failed", "customer.created"])
def test_other_events_are_acknowledged_and_ignored(
    anonymous: httpx.Client,
    users: Users,
    store: PostgresStore,
    stripe_client: stripe.StripeClient,
    event_type: str,
) -> None:
    intent_id = paid_intent(stripe_client, users("customer").id, confirm=False)
    payload = event(intent_id, event_type)
    response = post_event(anonymous, payload, signature(payload))
    assert response.status_code == 200 and response.json() == {"received": True, "handled": False}
    assert sessions_of(store, intent_id) == []


def test_an_event_for_an_unknown_intent_is_refused(anonymous: httpx.Client) -> None:
    payload = event("pi_unknown12345")
    response = post_event(anonymous, payload, signature(payload))
    assert response.status_code == 400


def test_a_succeeded_intent_without_checkout_metadata_creates_nothing(
    anonymous: httpx.Client, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    intent = stripe_client.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    payload = event(intent.id)
    response = post_event(anonymous, payload, signature(payload))
    assert response.status_code == 200 and response.json()["state"] == "failed"
    assert rows(store, "select count(*) from public.sessions")[0][0] == 0
