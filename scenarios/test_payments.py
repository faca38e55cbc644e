"""Payments: declined cards, the stale-session block and its cleanup, and webhook idempotency."""

from __future__ import annotations

import concurrent.futures

import pytest

from harness import Flows, Pitstop, TestUser, card, plan, vehicle
from harness.engine.data import load
from harness.stripe_wire import deliver


def sessions_of(pitstop: Pitstop, user: TestUser) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pitstop.store.user_rows([user.id])["sessions"]
    return rows


@pytest.mark.usefixtures("customer_page")
def test_a_declined_card_shows_the_error_and_creates_no_session(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser
) -> None:
    pitstop_flows.pay(customer, plan=plan("Quick Chat"), vehicle=vehicle(), card=card("declined"))
    pitstop_flows.expect_declined(customer, load("cards")["declined"]["message"])
    assert sessions_of(pitstop, customer) == []


@pytest.mark.usefixtures("customer_page")
def test_a_stale_waiting_session_does_not_block_a_new_payment(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser
) -> None:
    # Step 1 - a waiting session left 20 minutes ago, past the 15-minute threshold
    stale = pitstop.seed("waiting_session", customer, age_minutes=20)

    # Step 2 - the customer pays again, through the card form
    pitstop_flows.pay(customer, plan=plan("Quick Chat"), vehicle=vehicle(1), card=card())
    pitstop_flows.expect_waiting(customer)

    # Step 3 - the old one was cancelled on the way, the new one waits
    statuses = {str(s["id"]): s["status"] for s in sessions_of(pitstop, customer)}
    assert statuses.pop(stale["session_id"]) == "cancelled"
    assert list(statuses.values()) == ["waiting"]
    pitstop.cleanup.force_cancel(pitstop.active_session(customer)["id"])


@pytest.mark.usefixtures("customer_page")
def test_an_active_session_blocks_a_second_payment(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser
) -> None:
    flows = pitstop_flows
    active = pitstop.seed("waiting_session", customer, age_minutes=2)
    flows.pay(customer, plan=plan("Quick Chat"), vehicle=vehicle(), card=card())
    flows.expect_blocked(customer)
    assert [s["id"] for s in sessions_of(pitstop, customer)] == [active["session_id"]]
    flows.open_dashboard(customer)
    flows.expect_next_session(customer, flows.WAITING)
    pitstop.cleanup.force_cancel(active["session_id"])


@pytest.mark.usefixtures("customer_page")
def test_the_webhook_path_fulfills_exactly_once_when_the_event_arrives_twice(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser
) -> None:
    target = pitstop.target
    if not target.stripe_webhook_secret:
        pytest.skip("re-sending the event needs the app's webhook secret: set STRIPE_WEBHOOK_SECRET")

    # Step 1 - pay through the Stripe API; Stripe tells the app by webhook
    session = pitstop_flows.paid_session(customer, via="webhook")

    # Step 2 - the same signed event (the app's kind's: payment_intent.succeeded or
    # checkout.session.completed) arrives twice more, at once
    event = pitstop.payment_event(session)
    url = target.app_url + pitstop.run.config.settings.payments.webhook_path  # [tool.pitstop.payments]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        statuses = list(
            pool.map(lambda _: deliver(event, url=url, secret=target.stripe_webhook_secret or ""), [1, 2])
        )
    assert statuses == [200, 200]

    # Step 3 - and the success page too: still exactly one session
    pitstop_flows.revisit_payment(customer, session)
    pitstop_flows.expect_waiting(customer)
    assert [s["id"] for s in sessions_of(pitstop, customer)] == [session["id"]]
    pitstop.cleanup.force_cancel(session["id"])
