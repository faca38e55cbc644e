"""The cleanup point before fulfillment and the active-session block (with its refund)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import stripe

from harness.stack.reference_app.config import Config
from harness.stack.reference_app.db import create_pool
from harness.stack.reference_app.fulfillment import Outcome, fulfill_checkout
from harness.stack.reference_app.payments import Intent, Payments
from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import Login, Stack, Users, rows
from tests.reference_app.flows import pay, start_checkout
from tests.seeding import Seeder


def refunds(stripe_client: stripe.StripeClient, intent_id: str) -> int:
    return len(stripe_client.v1.refunds.list(params={"payment_intent": intent_id}).data)


def test_old_waiting_sessions_are_cancelled_before_fulfillment(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    seed = Seeder(store.connection)
    old = seed.session(customer.id, status="waiting", age_minutes=16)
    older_pending = seed.session(customer.id, status="pending", age_minutes=40, request=None)
    client = login(customer)
    intent_id = start_checkout(client)
    assert pay(client, stack.localstripe.url, intent_id).json()["status"] == "succeeded"

    page = client.get("/checkout/success", params={"payment_intent": intent_id})
    assert page.status_code == 200 and 'data-testid="payment-success"' in page.text
    assert seed.status(old.session) == "cancelled"
    assert old.request is not None and seed.request_status(old.request) == "cancelled"
    assert seed.status(older_pending.session) == "cancelled"
    assert rows(store, "select status from public.sessions where payment_intent_id = %s", (intent_id,)) == [
        ("waiting",)
    ]
    assert refunds(stripe_client, intent_id) == 0


def test_an_active_session_blocks_the_payment_which_is_refunded_once(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    seed = Seeder(store.connection)
    active = seed.session(customer.id, status="waiting", age_minutes=14)
    client = login(customer)
    intent_id = start_checkout(client)
    assert pay(client, stack.localstripe.url, intent_id).json()["status"] == "succeeded"

    page = client.get("/checkout/success", params={"payment_intent": intent_id})
    assert page.status_code == 409
    assert 'data-testid="active-session-error"' in page.text
    assert "Customer already has an active session" in page.text
    assert 'data-testid="payment-success"' not in page.text
    assert refunds(stripe_client, intent_id) == 1
    assert client.get(f"/api/checkout/{intent_id}").json()["state"] == "blocked"
    assert refunds(stripe_client, intent_id) == 1
    assert seed.status(active.session) == "waiting"

    # Once refunded, the payment never becomes a session, even when nothing blocks any more.
    store.connection.execute(
        "update public.sessions set status = 'completed' where id = %s", (active.session,)
    )
    assert client.get(f"/api/checkout/{intent_id}").json()["state"] == "blocked"
    assert rows(store, "select count(*) from public.sessions where payment_intent_id = %s", (intent_id,)) == [
        (0,)
    ]


def test_a_live_session_blocks_too(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    mechanic = users("mechanic")
    Seeder(store.connection).session(
        customer.id, status="live", age_minutes=90, mechanic=mechanic.id, request="accepted"
    )
    client = login(customer)
    intent_id = start_checkout(client)
    pay(client, stack.localstripe.url, intent_id)
    assert client.get(f"/api/checkout/{intent_id}").json()["state"] == "blocked"
    assert refunds(stripe_client, intent_id) == 1


def test_a_fulfillment_that_read_the_payment_before_its_refund_does_not_fulfill_it(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    # A webhook may read the PaymentIntent, then wait for the customer's lock while the
    # success page refunds it; once the block is gone it must still not fulfill.
    customer = users("customer")
    active = Seeder(store.connection).session(customer.id, status="waiting", age_minutes=1)
    client = login(customer)
    intent_id = start_checkout(client)
    pay(client, stack.localstripe.url, intent_id)
    assert client.get(f"/api/checkout/{intent_id}").json()["state"] == "blocked"
    store.connection.execute(
        "update public.sessions set status = 'completed' where id = %s", (active.session,)
    )
    read_before_the_refund = Intent(
        id=intent_id,
        status="succeeded",
        amount=1999,
        currency="usd",
        client_secret=None,
        metadata=dict(stripe_client.v1.payment_intents.retrieve(intent_id).to_dict()["metadata"]),
        amount_refunded=0,
    )

    # In a thread of its own: a Playwright page earlier in this process leaves its event loop
    # running in this thread, where asyncio.run would refuse.
    with ThreadPoolExecutor(1) as thread:
        outcome = thread.submit(asyncio.run, _fulfill(stack.env, read_before_the_refund)).result()

    assert outcome.state == "blocked"
    assert rows(store, "select count(*) from public.sessions where payment_intent_id = %s", (intent_id,)) == [
        (0,)
    ]


async def _fulfill(env: dict[str, str], intent: Intent) -> Outcome:
    config = Config.from_env(env)
    pool = create_pool(config.database_url, max_size=2)
    await pool.open(wait=True, timeout=10)
    try:
        return await fulfill_checkout(pool, Payments(config), intent)
    finally:
        await pool.close()


def test_a_late_event_for_a_fulfilled_payment_whose_session_was_purged_creates_nothing(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    # The hazard of a test run: a test pays, the next test's reset purges the session,
    # and only then Stripe's (delayed) webhook for the first payment arrives.
    customer = users("customer")
    client = login(customer)
    intent_id = start_checkout(client)
    pay(client, stack.localstripe.url, intent_id)
    assert client.get(f"/api/checkout/{intent_id}").json()["state"] == "fulfilled"
    metadata = stripe_client.v1.payment_intents.retrieve(intent_id).to_dict()["metadata"]
    assert metadata["fulfilled_session"]
    store.purge_user(customer.id)

    assert client.get(f"/api/checkout/{intent_id}").json()["state"] == "failed"
    assert rows(store, "select count(*) from public.sessions where customer_id = %s", (customer.id,)) == [
        (0,)
    ]
