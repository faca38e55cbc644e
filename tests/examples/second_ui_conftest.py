"""A team's conftest.py (copied in as conftest.py): Flows for the reference app's second UI.

The second UI (``APP_UI=second``, harness/stack/reference_app/ui.py) has other paths, wording and test ids
(under ``data-test``) and pays by Checkout Session; ``[tool.pitstop]`` says the rest (see
tests/test_second_ui.py). Kept from the default: paying on the hosted Checkout page
(``pay_with_card``, ``expect_declined``) and the steps built on others (``pay``, ``say``…).
"""

import re

import pytest
from playwright.sync_api import expect

from harness import ChatProbe, Flows


def room(session):
    return f"/room/{session['id']}"


class SecondUIFlows(Flows):
    def sign_in(self, page, user):
        page.goto(self.contract.login_path(user.role))
        page.get_by_label("Email address").fill(user.email)
        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/signin" not in url, timeout=15_000)

    def choose_plan(self, customer, plan):
        page = self.page(customer)
        page.goto("/book")
        page.get_by_test_id(f"package-{plan['slug']}").get_by_role("link", name="Select").click()

    def describe(self, customer, vehicle):
        page = self.page(customer)
        for label, key in (("Year", "year"), ("Make", "make"), ("Model", "model"), ("Odometer", "mileage")):
            page.get_by_label(label).fill(str(vehicle[key]))
        page.get_by_label("Describe the issue").fill(vehicle["description"])
        page.get_by_role("button", name="Go to payment").click()

    def expect_waiting(self, customer):
        expect(self.page(customer).get_by_test_id("booking-state")).to_have_text(self.WAITING)

    def expect_blocked(self, customer):
        refused = self.page(customer).get_by_test_id("booking-refused")
        expect(refused).to_contain_text("You already have a session booked")

    def revisit_payment(self, customer, session):
        self.page(customer).goto(f"/book/done?session_id={session['checkout_session_id']}")

    def open_dashboard(self, customer):
        self.page(customer).goto("/app/home")

    def expect_next_session(self, customer, status):
        expect(self.page(customer).get_by_test_id("upcoming-state")).to_have_text(status)

    def expect_nothing_upcoming(self, customer):
        expect(self.page(customer).get_by_text("Nothing booked")).to_be_visible()

    def join(self, customer):
        self.page(customer).get_by_role("link", name="Enter room").click()
        self._subscribed(customer)

    def expect_history(self, customer, session, status):
        self.open_dashboard(customer)
        past = self.page(customer).get_by_test_id("past").locator(f"[data-session-id='{session['id']}']")
        expect(past).to_have_attribute("data-status", status)

    def _job(self, mechanic, session):
        return self.page(mechanic).get_by_test_id(f"job-{session['request_id']}")

    def open_requests(self, mechanic):
        self.page(mechanic).goto("/garage/queue")

    def expect_request(self, mechanic, session, *, customer, plan):
        job = self._job(mechanic, session)
        expect(job.get_by_test_id("job-customer")).to_have_text(customer.name)
        expect(job.get_by_test_id("job-package")).to_have_text(plan["name"])

    def expect_no_request(self, mechanic, session):
        expect(self._job(mechanic, session)).to_have_count(0)

    def accept(self, mechanic, session):
        self._job(mechanic, session).get_by_role("button", name="Take job").click()
        expect(self.page(mechanic)).to_have_url(re.compile(re.escape(room(session)) + "$"))

    def accept_button(self, mechanic, session):
        return self._job(mechanic, session).get_by_role("button", name="Take job")

    def lands_in_chat(self, mechanic, session, *, timeout_ms=5_000):
        try:
            expect(self.page(mechanic)).to_have_url(
                re.compile(re.escape(room(session)) + "$"), timeout=timeout_ms
            )
        except AssertionError:
            return False
        return True

    def expect_taken(self, mechanic):
        expect(self.page(mechanic).get_by_test_id("take-problem")).to_contain_text("already accepted")

    def _subscribed(self, user):
        expect(self.page(user).get_by_test_id("room")).to_have_attribute("data-ready", "true")

    def open_chat(self, user, session):
        if not self.page(user).url.split("?")[0].endswith(room(session)):
            self.page(user).goto(room(session))
        self._subscribed(user)

    def expect_chat_refused(self, user, session):
        response = self.page(user).goto(room(session))
        assert response is not None and response.status == 403
        expect(self.page(user).get_by_test_id("room")).to_have_count(0)

    def send(self, user, text):
        self.page(user).get_by_label("Message").fill(text)
        self.page(user).get_by_role("button", name="Post").click()

    def expect_message(self, user, text, *, sender):
        page = self.page(user)
        line = page.get_by_test_id("room-line").filter(has=page.get_by_text(text, exact=True))
        expect(line.get_by_test_id("line-from")).to_have_text(sender.name)
        expect(line.get_by_test_id("line-at")).to_have_attribute("datetime", re.compile(r"\d{4}-\d\d-\d\dT"))

    def messages(self, user):
        return self.page(user).get_by_test_id("room-line").get_by_test_id("line-text").all_inner_texts()

    def end(self, mechanic):
        self.page(mechanic).get_by_role("button", name="Finish").click()

    def expect_ended(self, user):
        expect(self.page(user).get_by_text("This session is over")).to_be_visible()
        expect(self.page(user).get_by_test_id("room")).to_have_attribute("data-status", self.COMPLETED)

    def chat_probe(self):  # test ids through [tool.pitstop] test_id_attribute ("data-test")
        return ChatProbe(
            messages=lambda page: page.get_by_test_id("room-log"),
            send=lambda page: page.get_by_role("button", name="Post"),
            input=lambda page: page.get_by_label("Message"),
        )


@pytest.fixture(scope="session")
def pitstop_flows_class():
    return SecondUIFlows
