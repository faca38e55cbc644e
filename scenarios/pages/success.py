from __future__ import annotations

from playwright.sync_api import Page, expect


class SuccessPage:
    """After the payment: the session once it exists, or why it was refused."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.success = page.get_by_test_id("payment-success")
        self.status = page.get_by_test_id("session-status")
        self.blocked = page.get_by_test_id("active-session-error")

    def expect_session(self, status: str = "waiting") -> None:
        expect(self.success).to_be_visible()
        expect(self.status).to_have_text(status)

    def expect_blocked(self) -> None:
        expect(self.blocked).to_contain_text("Customer already has an active session")
