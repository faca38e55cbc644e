"""A team's conftest.py whose app has no password form: with [tool.pitstop.auth] mode = "supabase"
the page fixtures never ask Flows.sign_in, so this one only says so if they ever do."""

import pytest

from harness import Flows


class NoLoginPage(Flows):
    def sign_in(self, page, user):
        raise AssertionError(f"{user.email} was sent to the login page: mode = supabase needs none")


@pytest.fixture(scope="session")
def pitstop_flows_class():
    return NoLoginPage
