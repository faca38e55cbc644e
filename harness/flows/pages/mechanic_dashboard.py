from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .contract import Route, TestId, Wording

# Said when what a check that something is absent looks in is itself missing.
ANCHOR = "the check that the request is not listed needs it; override Flows.expect_no_request for your app"


class MechanicDashboard:
    """The pending requests every mechanic sees, each with Accept.

    Always address a request by its own id: other customers' requests share the list.
    """

    ROUTE = Route("/mechanic/dashboard", "the mechanic's home: the pending requests")
    LIST = TestId("request-list", "the list of pending requests, there even when empty")
    REQUEST = TestId("request-{request_id}", "one pending request's row, by the request's id")
    REQUEST_CUSTOMER = TestId("request-customer", "in a row: the customer's name")
    REQUEST_PLAN = TestId("request-plan", "in a row: the plan's name")
    ACCEPT = TestId("accept-{request_id}", "accepts the request; the mechanic lands in its chat")
    ACCEPT_ERROR = TestId("accept-error", "why an accept was refused")
    TAKEN = Wording("already accepted", "the refusal when another mechanic was first")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.accept_error = page.get_by_test_id(self.ACCEPT_ERROR)
        self.list = page.get_by_test_id(self.LIST)

    def open(self) -> MechanicDashboard:
        self.page.goto(self.ROUTE)
        return self

    def request(self, request_id: str) -> Locator:
        return self.page.get_by_test_id(self.REQUEST.format(request_id=request_id))

    def accept_button(self, request_id: str) -> Locator:
        return self.page.get_by_test_id(self.ACCEPT.format(request_id=request_id))

    def expect_request(self, request_id: str, *, customer: str, plan: str) -> None:
        row = self.request(request_id)
        expect(row.get_by_test_id(self.REQUEST_CUSTOMER)).to_have_text(customer)
        expect(row.get_by_test_id(self.REQUEST_PLAN)).to_have_text(plan)

    def expect_no_request(self, request_id: str) -> None:
        """The list, found first, holds no row of this request: a page without the list fails here,
        never passes for want of the row's test id."""
        expect(
            self.list, f"no request list (test id {self.LIST}) on the mechanic's dashboard: {ANCHOR}"
        ).to_be_attached()
        expect(self.list.get_by_test_id(self.REQUEST.format(request_id=request_id))).to_have_count(0)

    def accept(self, request_id: str) -> None:
        self.accept_button(request_id).click()

    def expect_taken(self) -> None:
        expect(self.accept_error).to_contain_text(self.TAKEN)
