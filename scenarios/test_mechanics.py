"""What mechanics see and race for."""

from __future__ import annotations

import pytest

from harness import Flows, Pitstop, TestUser, plan


@pytest.mark.usefixtures("customer_page", "mechanic_page", "second_mechanic_page")
def test_two_mechanics_race_for_one_request_and_exactly_one_wins(
    pitstop: Pitstop,
    pitstop_flows: Flows,
    customer: TestUser,
    mechanic: TestUser,
    second_mechanic: TestUser,
) -> None:
    flows = pitstop_flows
    mechanics = [mechanic, second_mechanic]

    # Step 1 - a paid request, seen by both mechanics
    session = flows.paid_session(customer)
    for each in mechanics:
        flows.open_requests(each)
        flows.expect_request(each, session, customer=customer, plan=plan("Quick Chat"))

    # Step 2 - both press Accept at once (clicks dispatched without waiting on each other)
    flows.press_accept_together(mechanics, session)

    # Step 3 - exactly one is in the chat; the other is told the request was taken
    won = [each for each in mechanics if flows.lands_in_chat(each, session)]
    assert len(won) == 1
    lost = next(each for each in mechanics if each not in won)
    flows.expect_taken(lost)

    # Step 4 - the winner ends the session, so nothing is left behind
    flows.end(won[0])
    flows.expect_ended(won[0])


@pytest.mark.usefixtures("mechanic_page")
def test_the_dashboard_lists_neither_expired_nor_stale_requests(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser
) -> None:
    flows = pitstop_flows
    fresh = pitstop.seed("waiting_session", customer, age_minutes=1)
    stale = pitstop.seed("waiting_session", customer, age_minutes=16)
    expired = pitstop.seed("expired_request", customer, age_minutes=30)

    flows.open_requests(mechanic)

    flows.expect_request(mechanic, fresh, customer=customer, plan=plan("Quick Chat"))
    flows.expect_no_request(mechanic, stale)
    flows.expect_no_request(mechanic, expired)
    pitstop.cleanup.force_cancel(fresh["session_id"])
