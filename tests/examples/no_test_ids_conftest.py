"""A team's conftest.py for an app whose pages carry no test ids: the reference app's bare UI.

The bare UI (``APP_UI=bare``) is the classic pages without a single ``data-testid``. pitstop's default
steps find most of it by role, label and text; this subclass gives what they cannot guess: when the chat
is subscribed (a WebSocket frame), where the messages are, and the checks pitstop keeps to test ids
because they look for something to be absent or for a status word, or read app attributes. It finds
rows by what the user sees, from the session pitstop gives (the customer's name, the plan, its age).
docs/app-contract.md shows it as the way to adopt pitstop for such an app; tests/test_no_test_ids.py runs
the eight shipped scenarios with it.
"""

import dataclasses
import json
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from harness import Flows, Ready


class NoTestIds(Flows):
    def chat_ready(self):
        # The chat's socket says "ready" with the session's id once it subscribed the page and sent the
        # history (the dashboards' socket says "ready" too, without one).
        def subscribed(frame):
            said = json.loads(frame)
            return said.get("type") == "ready" and "session_id" in said

        return Ready.frame(subscribed)

    def expect_waiting(self, customer):
        page = self.page(customer)
        expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
        expect(page.get_by_text("Session status:")).to_contain_text(self.WAITING)

    def expect_next_session(self, customer, status):
        page = self.page(customer)
        upcoming = page.locator("section").filter(has=page.get_by_role("heading", name="Next Session"))
        expect(upcoming.get_by_text(status, exact=True)).to_be_visible()

    def chat_probe(self):
        return dataclasses.replace(super().chat_probe(), messages=lambda page: page.get_by_role("list"))

    def messages(self, user):
        return self.page(user).get_by_role("listitem").locator("p").all_inner_texts()

    def expect_history(self, customer, session, status):
        self.open_dashboard(customer)
        page = self.page(customer)
        history = page.locator("section").filter(has=page.get_by_role("heading", name="Session History"))
        expect(history.get_by_role("listitem").filter(has_text=session["plan"])).to_contain_text(status)

    def expect_no_request(self, mechanic, session):
        page = self.page(mechanic)
        requests = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Waiting"))
        expect(requests).to_be_visible()  # the list is there: its lack of the row means something
        made = datetime.fromisoformat(session["request"]["created_at"])
        waited = int((datetime.now(UTC) - made).total_seconds() // 60)
        shown = rf"^\s*({waited - 1}|{waited}|{waited + 1}) min\s*$"  # as the page rounds it, give or take
        rows = requests.get_by_role("row").filter(has_text=session["customer"]["name"])
        expect(
            rows.filter(has_text=session["plan"]).filter(has=page.get_by_text(re.compile(shown)))
        ).to_have_count(0)

    def expect_chat_refused(self, user, session):
        page = self.page(user)
        response = page.goto(f"/session/{session['id']}")
        assert response is not None and response.status == 403
        expect(page.get_by_text("only the session's customer and mechanic may open it")).to_be_visible()
        expect(page.get_by_role("textbox")).to_have_count(0)

    def expect_ended(self, user):
        page = self.page(user)
        expect(page.get_by_text("This session has ended")).to_be_visible()
        expect(page.get_by_text("completed", exact=True)).to_be_visible()


@pytest.fixture(scope="session")
def pitstop_flows_class():
    return NoTestIds
