"""What mechanics see and race for."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from harness.handle import Pitstop
from harness.personas import TestUser

from .flows import pay
from .pages import ChatPage, MechanicDashboard


def test_two_mechanics_race_for_one_request_and_exactly_one_wins(
    pitstop: Pitstop,
    customer: TestUser,
    customer_page: Page,
    mechanic_page: Page,
    second_mechanic_page: Page,
) -> None:
    # Step 1 - a paid request, seen by both mechanics
    session = pay(pitstop, customer, customer_page)
    dashboards = [MechanicDashboard(mechanic_page).open(), MechanicDashboard(second_mechanic_page).open()]
    for dashboard in dashboards:
        dashboard.expect_request(session["request_id"], customer=customer.name, plan="Quick Chat")

    # Step 2 - both press Accept at once (clicks dispatched without waiting on each other)
    for dashboard in dashboards:
        dashboard.page.get_by_test_id(f"accept-{session['request_id']}").evaluate("button => button.click()")

    # Step 3 - exactly one is in the chat; the other is told the request was taken
    chat_url = re.compile(rf"/session/{session['id']}$")
    won = [d for d in dashboards if _lands_in(d.page, chat_url)]
    assert len(won) == 1
    lost = next(d for d in dashboards if d not in won)
    lost.expect_taken()

    # Step 4 - the winner ends the session, so nothing is left behind
    chat = ChatPage(won[0].page)
    chat.end_session()
    chat.expect_ended()


def _lands_in(page: Page, url: re.Pattern[str]) -> bool:
    try:
        expect(page).to_have_url(url, timeout=5_000)
    except AssertionError:
        return False
    return True


def test_the_dashboard_lists_neither_expired_nor_stale_requests(
    pitstop: Pitstop, customer: TestUser, mechanic_page: Page
) -> None:
    fresh = pitstop.seed("waiting_session", customer, age_minutes=1)
    stale = pitstop.seed("waiting_session", customer, age_minutes=16)
    expired = pitstop.seed("expired_request", customer, age_minutes=30)

    dashboard = MechanicDashboard(mechanic_page).open()

    dashboard.expect_request(fresh["request_id"], customer=customer.name, plan="Quick Chat")
    dashboard.expect_no_request(stale["request_id"])
    dashboard.expect_no_request(expired["request_id"])
    pitstop.cleanup.force_cancel(fresh["session_id"])
