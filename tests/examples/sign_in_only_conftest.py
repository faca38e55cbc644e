"""A team's conftest.py that overrides too little: only ``sign_in``, by label and role.

For the reference app's second UI (its other paths and wording) with ``test_id_attribute`` set to a
name the app never renders (tests/test_no_vacuous_pass.py): no default step finds what it relies on,
neither by test id nor by the role, label or text it guesses, so each scenario that looks at a page
must fail, naming its step. Short timeouts: a hook that is missing is missing at once.
"""

import pytest
from playwright.sync_api import expect

from harness import Flows

TIMEOUT_MS = 2_000
expect.set_options(timeout=TIMEOUT_MS)


class SignInOnly(Flows):
    def sign_in(self, page, user):
        page.goto(self.contract.login_path(user.role))
        page.get_by_label("Email address").fill(user.email)
        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/signin" not in url, timeout=15_000)


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
