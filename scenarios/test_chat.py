"""Who may join a session's chat."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from harness.handle import Pitstop
from harness.personas import TestUser


def test_a_user_who_is_not_a_participant_cannot_join_the_chat(
    pitstop: Pitstop, customer: TestUser, mechanic: TestUser, second_mechanic_page: Page
) -> None:
    live = pitstop.seed("live_session", customer, mechanic=mechanic)

    response = second_mechanic_page.goto(f"/session/{live['session_id']}")

    assert response is not None and response.status == 403
    expect(second_mechanic_page.get_by_test_id("chat")).to_have_count(0)
    pitstop.cleanup.force_cancel(live["session_id"])
