"""A team's conftest.py that overrides too little: only ``sign_in`` (the second UI's own).

For the reference app's second UI (its other paths and wording) with ``test_id_attribute`` set to a
name the app never renders (tests/test_no_vacuous_pass.py): no default step finds what it relies on,
neither by test id nor by the role, label or text it guesses, so each scenario that looks at a page
must fail, naming its step. Short timeouts: a hook that is missing is missing at once.
"""

import pytest
from playwright.sync_api import expect
from second_ui import SecondUIFlows  # tests/examples/second_ui_conftest.py, copied in beside this

from harness import Flows

TIMEOUT_MS = 2_000
expect.set_options(timeout=TIMEOUT_MS)


class SignInOnly(Flows):
    sign_in = SecondUIFlows.sign_in  # the second UI's, and no other step


@pytest.fixture(scope="session")
def pitstop_flows_class():
    return SignInOnly


@pytest.fixture
def new_context(new_context):
    def make(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(TIMEOUT_MS)
        return context

    return make
