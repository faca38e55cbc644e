"""The whole flow, as two real browser users: payment → accept → chat → end session."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from harness.handle import Pitstop
from harness.personas import TestUser

from .flows import accept, buy_through_checkout, card, plan, say, vehicle
from .pages import ChatPage, CustomerDashboard, SuccessPage


def test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it(
    pitstop: Pitstop, customer: TestUser, mechanic: TestUser, customer_page: Page, mechanic_page: Page
) -> None:
    quick_chat = plan("Quick Chat")

    # Step 1 - the customer picks "Quick Chat", describes the car and pays by card
    with pitstop.step("payment"):
        buy_through_checkout(
            customer_page, plan_slug=quick_chat["slug"], details=vehicle(), payment_card=card()
        )
        SuccessPage(customer_page).expect_session("waiting")
        session = pitstop.active_session(customer)
    dashboard = CustomerDashboard(customer_page).open()
    dashboard.expect_next_session("waiting")

    # Step 2 - the mechanic sees this very request (name, plan) and accepts it
    mechanic_chat = accept(pitstop, mechanic_page, session, customer=customer, plan_name=quick_chat["name"])
    dashboard.expect_next_session("live")

    # Step 3 - both are in the chat, subscribed, before anything is said
    dashboard.join_session()
    customer_chat = ChatPage(customer_page)
    customer_chat.wait_until_subscribed()
    mechanic_chat.wait_until_subscribed()

    # Step 4 - they talk; each sees both messages, in order, with sender and time
    hello, reply = "Hello, I need help with my car", "Hi! What seems to be the problem?"
    latency = say(customer_chat, mechanic_chat, hello)
    latency = max(latency, say(mechanic_chat, customer_chat, reply))
    pitstop.record("chat_latency_ms", latency)
    for chat in (customer_chat, mechanic_chat):
        chat.expect_message(hello, sender=customer.name)
        chat.expect_message(reply, sender=mechanic.name)
        assert chat.bodies()[-2:] == [hello, reply]

    # Step 5 - the mechanic ends the session; both see it end without a reload
    with pitstop.step("end"):
        mechanic_chat.end_session()
        mechanic_chat.expect_ended()
        customer_chat.expect_ended()

    # Step 6 - the customer's history shows it completed
    dashboard.open().expect_in_history(session["id"], "completed")
    expect(dashboard.nothing_upcoming).to_be_visible()
