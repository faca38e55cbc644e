from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


class MechanicDashboard:
    """``/mechanic/dashboard``: the pending requests every mechanic sees, each with Accept.

    Always address a request by its own id: other customers' requests share the list.
    """

    path = "/mechanic/dashboard"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.accept_error = page.get_by_test_id("accept-error")

    def open(self) -> MechanicDashboard:
        self.page.goto(self.path)
        return self

    def request(self, request_id: str) -> Locator:
        return self.page.get_by_test_id(f"request-{request_id}")

    def expect_request(self, request_id: str, *, customer: str, plan: str) -> None:
        row = self.request(request_id)
        expect(row.get_by_test_id("request-customer")).to_have_text(customer)
        expect(row.get_by_test_id("request-plan")).to_have_text(plan)

    def expect_no_request(self, request_id: str) -> None:
        expect(self.request(request_id)).to_have_count(0)

    def accept(self, request_id: str) -> None:
        self.page.get_by_test_id(f"accept-{request_id}").click()

    def expect_taken(self) -> None:
        expect(self.accept_error).to_contain_text("already accepted")
