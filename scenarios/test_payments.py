"""Payments: declined cards, the stale-session block and its cleanup, and webhook idempotency."""

from __future__ import annotations

import concurrent.futures

import pytest
from playwright.sync_api import Page

from harness.data import load
from harness.handle import Pitstop
from harness.payments import deliver
from harness.personas import TestUser

from .flows import buy_through_checkout, card, pay, vehicle
from .pages import CheckoutPage, CustomerDashboard, SuccessPage


def sessions_of(pitstop: Pitstop, user: TestUser) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pitstop.store.user_rows([user.id])["sessions"]
    return rows


def test_a_declined_card_shows_the_error_and_creates_no_session(
    pitstop: Pitstop, customer: TestUser, customer_page: Page
) -> None:
    buy_through_checkout(
        customer_page, plan_slug="quick-chat", details=vehicle(), payment_card=card("declined")
    )
    CheckoutPage(customer_page).expect_declined(load("cards")["declined"]["message"])
    assert sessions_of(pitstop, customer) == []


def test_a_stale_waiting_session_does_not_block_a_new_payment(
    pitstop: Pitstop, customer: TestUser, customer_page: Page
) -> None:
    # Step 1 - a waiting session left 20 minutes ago, past the 15-minute threshold
    stale = pitstop.seed("waiting_session", customer, age_minutes=20)

    # Step 2 - the customer pays again, through the card form
    buy_through_checkout(customer_page, plan_slug="quick-chat", details=vehicle(1), payment_card=card())
    SuccessPage(customer_page).expect_session("waiting")

    # Step 3 - the old one was cancelled on the way, the new one waits
    statuses = {str(s["id"]): s["status"] for s in sessions_of(pitstop, customer)}
    assert statuses.pop(stale["session_id"]) == "cancelled"
    assert list(statuses.values()) == ["waiting"]
    pitstop.cleanup.force_cancel(pitstop.active_session(customer)["id"])


def test_an_active_session_blocks_a_second_payment(
    pitstop: Pitstop, customer: TestUser, customer_page: Page
) -> None:
    active = pitstop.seed("waiting_session", customer, age_minutes=2)
    buy_through_checkout(customer_page, plan_slug="quick-chat", details=vehicle(), payment_card=card())
    SuccessPage(customer_page).expect_blocked()
    assert [s["id"] for s in sessions_of(pitstop, customer)] == [active["session_id"]]
    CustomerDashboard(customer_page).open().expect_next_session("waiting")
    pitstop.cleanup.force_cancel(active["session_id"])


def test_the_webhook_path_fulfills_exactly_once_when_the_event_arrives_twice(
    pitstop: Pitstop, customer: TestUser, customer_page: Page
) -> None:
    target = pitstop.target
    if not target.stripe_webhook_secret:
        pytest.skip("re-sending the event needs the app's webhook secret: set STRIPE_WEBHOOK_SECRET")

    # Step 1 - pay through the Stripe API; Stripe tells the app by webhook
    session = pay(pitstop, customer, customer_page, via="webhook")

    # Step 2 - the same signed event arrives twice more, at once
    payments = pitstop.payments()
    event = payments.event_for(session["payment_intent_id"])
    url = f"{target.app_url}/api/stripe/webhook"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        statuses = list(
            pool.map(lambda _: deliver(event, url=url, secret=target.stripe_webhook_secret or ""), [1, 2])
        )
    assert statuses == [200, 200]

    # Step 3 - and the success page too: still exactly one session
    customer_page.goto(f"/checkout/success?payment_intent={session['payment_intent_id']}")
    SuccessPage(customer_page).expect_session("waiting")
    assert [s["id"] for s in sessions_of(pitstop, customer)] == [session["id"]]
    pitstop.cleanup.force_cancel(session["id"])
