"""Who may join a session's chat."""

from __future__ import annotations

import pytest

from harness import Flows, Pitstop, TestUser


@pytest.mark.usefixtures("second_mechanic_page")
def test_a_user_who_is_not_a_participant_cannot_join_the_chat(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser, second_mechanic: TestUser
) -> None:
    live = pitstop.seed("live_session", customer, mechanic=mechanic)

    pitstop_flows.expect_chat_refused(second_mechanic, live)

    pitstop.cleanup.force_cancel(live["id"])
