from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .contract import By, Route, TestId, Wording

# Said when what a check that something is absent looks in is itself missing.
ANCHOR = "the check that the request is not listed needs it; override Flows.expect_no_request for your app"


class MechanicDashboard:
    """The pending requests every mechanic sees, each with Accept.

    Always address a request by its own id: other customers' requests share the list.
    """

    ROUTE = Route("/mechanic/dashboard", "the mechanic's home: the pending requests")
    LIST = TestId("request-list", "the list of pending requests, there even when empty")
    REQUEST = TestId(
        "request-{request_id}",
        "one pending request's row, by the request's id; else the row (role row, listitem or article) "
        "that shows the customer's name and the plan",
    )
    # Without test ids: the row that shows the customer's name and the plan, and its Accept button.
    ROW_BY = By.role("row|listitem|article")
    ACCEPT = TestId(
        "accept-{request_id}",
        "accepts the request; the mechanic lands in its chat; else the row's button named /^\\s*accept\\b/i",
    )
    ACCEPT_BY = By.role("button", r"^\s*accept\b")
    ACCEPT_ERROR = TestId("accept-error", "why an accept was refused", by=By.role("alert"))
    TAKEN = Wording("already accepted", "the refusal when another mechanic was first")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.accept_error = self.ACCEPT_ERROR.locate(page)
        self.list = page.get_by_test_id(self.LIST)

    def open(self) -> MechanicDashboard:
        self.page.goto(self.ROUTE)
        return self

    def request(self, request_id: str, *, customer: str = "", plan: str = "") -> Locator:
        """The request's row: by its test id, or else the row that shows the customer's name and the plan."""
        by_test_id = self.REQUEST.locate(self.page, request_id=request_id)
        if not (customer and plan):
            return by_test_id
        shown = (
            self.ROW_BY.unmarked(self.page)
            .filter(has=self.page.get_by_text(customer, exact=True))
            .filter(has=self.page.get_by_text(plan, exact=True))
        )
        return by_test_id.or_(shown)

    def accept_button(self, request_id: str, *, customer: str = "", plan: str = "") -> Locator:
        by_test_id = self.ACCEPT.locate(self.page, request_id=request_id)
        if not (customer and plan):
            return by_test_id
        return by_test_id.or_(self.ACCEPT_BY.locate(self.request(request_id, customer=customer, plan=plan)))

    def expect_request(self, request_id: str, *, customer: str, plan: str) -> None:
        row = self.request(request_id, customer=customer, plan=plan)
        expect(row).to_contain_text(customer)
        expect(row).to_contain_text(plan)

    def expect_no_request(self, request_id: str) -> None:
        """The list, found first, holds no row of this request: a page without the list fails here,
        never passes for want of the row's test id."""
        expect(
            self.list, f"no request list (test id {self.LIST}) on the mechanic's dashboard: {ANCHOR}"
        ).to_be_attached()
        expect(self.list.get_by_test_id(self.REQUEST.format(request_id=request_id))).to_have_count(0)

    def accept(self, request_id: str, *, customer: str = "", plan: str = "") -> None:
        self.accept_button(request_id, customer=customer, plan=plan).click()

    def expect_taken(self) -> None:
        expect(self.accept_error).to_contain_text(self.TAKEN)
