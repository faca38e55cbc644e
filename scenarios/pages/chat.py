from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


class ChatPage:
    """``/session/{id}``: real-time messages, photos, and (for the mechanic) End Session."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.get_by_test_id("chat")
        self.messages = page.get_by_test_id("chat-message")
        self.input = page.get_by_test_id("chat-input")
        self.send_button = page.get_by_test_id("chat-send")
        self.error = page.get_by_test_id("chat-error")
        self.end_button = page.get_by_test_id("end-session")
        self.ended = page.get_by_test_id("session-ended")

    def open(self, session_id: str) -> ChatPage:
        self.page.goto(f"/session/{session_id}")
        return self

    def wait_until_subscribed(self) -> None:
        """The server has subscribed this page to the session's channel and sent its history."""
        expect(self.root).to_have_attribute("data-ready", "true")

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.send_button.click()

    def message(self, text: str) -> Locator:
        return self.messages.filter(
            has=self.page.get_by_test_id("message-body").get_by_text(text, exact=True)
        )

    def expect_message(self, text: str, *, sender: str) -> None:
        message = self.message(text)
        expect(message.get_by_test_id("message-sender")).to_have_text(sender)
        expect(message.get_by_test_id("message-time")).to_have_attribute(
            "datetime", re.compile(r"\d{4}-\d\d-\d\dT")
        )

    def bodies(self) -> list[str]:
        return self.messages.get_by_test_id("message-body").all_inner_texts()

    def end_session(self) -> None:
        self.end_button.click()

    def expect_ended(self) -> None:
        expect(self.ended).to_be_visible()
        expect(self.root).to_have_attribute("data-status", "completed")
