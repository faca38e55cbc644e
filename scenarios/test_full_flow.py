"""The whole flow, as two real browser users: payment → accept → chat → end session."""

from __future__ import annotations

import pytest

from harness import Flows, Pitstop, TestUser, card, plan, vehicle


# Both are signed in before the timed steps begin.
@pytest.mark.usefixtures("customer_page", "mechanic_page")
def test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser
) -> None:
    flows = pitstop_flows
    quick_chat = plan("Quick Chat")

    # Step 1 - the customer picks "Quick Chat", describes the car and pays by card
    session = flows.paid_session(customer, plan=quick_chat, vehicle=vehicle(), card=card(), via="ui")
    flows.open_dashboard(customer)
    flows.expect_next_session(customer, flows.WAITING)

    # Step 2 - the mechanic sees this very request (name, plan) and accepts it
    with pitstop.step("accept"):
        flows.open_requests(mechanic)
        flows.expect_request(mechanic, session, customer=customer, plan=quick_chat)
        flows.accept(mechanic, session)
    flows.expect_next_session(customer, flows.LIVE)

    # Step 3 - both are in the chat, subscribed, before anything is said
    flows.join(customer)
    flows.open_chat(mechanic, session)

    # Step 4 - they talk; each sees both messages, in order, with sender and time
    hello, reply = "Hello, I need help with my car", "Hi! What seems to be the problem?"
    latency = flows.say(customer, mechanic, hello)
    latency = max(latency, flows.say(mechanic, customer, reply))
    pitstop.record("chat_latency_ms", latency)
    for user in (customer, mechanic):
        flows.expect_message(user, hello, sender=customer)
        flows.expect_message(user, reply, sender=mechanic)
        assert flows.messages(user)[-2:] == [hello, reply]

    # Step 5 - the mechanic ends the session; both see it end without a reload
    with pitstop.step("end"):
        flows.end(mechanic)
        flows.expect_ended(mechanic)
        flows.expect_ended(customer)

    # Step 6 - the customer's history shows it completed, and nothing is upcoming
    flows.expect_history(customer, session, flows.COMPLETED)
    flows.expect_nothing_upcoming(customer)
