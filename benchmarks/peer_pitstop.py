"""pitstop's side of the peer benchmark (benchmarks/peer.py), as a team's suite with pitstop holds it.

The shipped full UI flow, eight times, as eight tests of one file; run by the benchmark as
``test_flow.py`` in a folder of its own (its own rootdir, no configuration but pitstop's
defaults), against the benchmark's stack as a given target.
"""

from __future__ import annotations

import pytest
from harness.scenarios.test_full_flow import (
    test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it as full_flow,
)

from harness import Flows, Pitstop, TestUser

FLOWS = 8


@pytest.mark.parametrize("flow", range(FLOWS))
@pytest.mark.usefixtures("customer_page", "mechanic_page")
def test_full_flow(
    flow: int, pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser
) -> None:
    full_flow(pitstop, pitstop_flows, customer, mechanic)
