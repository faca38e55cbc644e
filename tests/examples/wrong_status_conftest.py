"""A team's conftest.py (copied in as conftest.py) with a bug: a Flows subclass that expects the wrong status.

Once paid, the customer's next session is waiting for a mechanic; this one
expects it live already, so the full flow fails on its first dashboard check,
with the session it paid for in the database.
"""

import pytest

from harness import Flows


class WrongStatusFlows(Flows):
    def expect_next_session(self, customer, status):
        super().expect_next_session(customer, self.LIVE)


@pytest.fixture(scope="session")
def pitstop_flows_class():
    return WrongStatusFlows
