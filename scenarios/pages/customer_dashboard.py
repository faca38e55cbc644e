from __future__ import annotations

from playwright.sync_api import Page, expect


class CustomerDashboard:
    """``/customer/dashboard``: Next Session, Join Session, Session History."""

    path = "/customer/dashboard"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.next_session = page.get_by_test_id("next-session")
        self.next_status = page.get_by_test_id("next-session-status")
        self.join = page.get_by_test_id("join-session")
        self.nothing_upcoming = page.get_by_test_id("no-upcoming-sessions")
        self.history = page.get_by_test_id("session-history")

    def open(self) -> CustomerDashboard:
        self.page.goto(self.path)
        return self

    def pick_a_plan(self) -> None:
        self.page.get_by_test_id("pick-plan").click()

    def expect_next_session(self, status: str) -> None:
        expect(self.next_status).to_have_text(status)

    def join_session(self) -> None:
        self.join.click()

    def expect_in_history(self, session_id: str, status: str) -> None:
        item = self.history.locator(f"[data-testid=history-item][data-session-id='{session_id}']")
        expect(item).to_have_attribute("data-status", status)
