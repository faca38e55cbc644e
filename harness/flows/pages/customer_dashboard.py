from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .contract import Attribute, By, Route, TestId


class CustomerDashboard:
    """The customer's home: Next Session (with Join Session once live) and Session History.

    The next session's status updates without a reload.
    """

    ROUTE = Route("/customer/dashboard", "the customer's home")
    NEXT = TestId("next-session", "the next (pending, waiting or live) session")
    # No guess: a status word elsewhere on the page would pass the check before the status changed.
    NEXT_STATUS = TestId("next-session-status", "its status, as text")
    JOIN = TestId(
        "join-session", "the link into a live session's chat", by=By.role("link|button", r"\bjoin\b")
    )
    NOTHING_UPCOMING = TestId(
        "no-upcoming-sessions", "shown when there is no next session", by=By.text(r"no upcoming")
    )
    PICK_PLAN = TestId("pick-plan", "the way to the plans when there is no next session")
    HISTORY = TestId("session-history", "the list of finished sessions")
    HISTORY_ITEM = TestId("history-item", "one finished session")
    SESSION_ID = Attribute("data-session-id", "a history item's session id")
    STATUS = Attribute("data-status", "a history item's session status")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.next_session = page.get_by_test_id(self.NEXT)
        self.join = self.JOIN.locate(page)
        self.nothing_upcoming = self.NOTHING_UPCOMING.locate(page)
        self.history = page.get_by_test_id(self.HISTORY)

    def open(self) -> CustomerDashboard:
        self.page.goto(self.ROUTE)
        return self

    def pick_a_plan(self) -> None:
        self.page.get_by_test_id(self.PICK_PLAN).click()

    def expect_next_session(self, status: str) -> None:
        expect(self.NEXT_STATUS.locate(self.page)).to_have_text(status)

    def expect_nothing_upcoming(self) -> None:
        expect(self.nothing_upcoming).to_be_visible()

    def join_session(self) -> None:
        self.join.click()

    def history_item(self, session_id: str) -> Locator:
        """A finished session of the history, by its id (the test id through the configured attribute)."""
        return self.history.get_by_test_id(self.HISTORY_ITEM).and_(
            self.page.locator(f"[{self.SESSION_ID}='{session_id}']")
        )

    def expect_in_history(self, session_id: str, status: str) -> None:
        expect(self.history_item(session_id)).to_have_attribute(self.STATUS, status)
