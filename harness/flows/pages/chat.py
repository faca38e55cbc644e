from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, Response, expect

from ..probe import ChatProbe
from ..readiness import Ready
from .contract import Attribute, HttpStatus, Route, TestId


class ChatPage:
    """A session's chat: real-time messages, photos, and (for the mechanic) End Session."""

    ROUTE = Route("/session/{session_id}", "a session's chat, for its two participants")
    ROOT = TestId("chat", "the chat")
    READY = Attribute(
        "data-ready", "on the chat: 'true' once the server subscribed the page and sent the history"
    )
    STATUS = Attribute("data-status", "on the chat: the session's status, updated without a reload")
    MESSAGES = TestId("chat-messages", "the list of messages (the latency probe watches it)")
    MESSAGE = TestId("chat-message", "one message")
    BODY = TestId("message-body", "in a message: its text")
    SENDER = TestId("message-sender", "in a message: the sender's name")
    TIME = TestId("message-time", "in a message: when it was sent")
    DATETIME = Attribute("datetime", "on the message time: an ISO 8601 timestamp")
    INPUT = TestId("chat-input", "the message box")
    SEND = TestId(
        "chat-send", "sends the message (the latency probe takes a click on it, or Enter, as the send)"
    )
    ERROR = TestId("chat-error", "why a message was refused")
    END = TestId("end-session", "the mechanic's End Session button")
    ENDED = TestId("session-ended", "shown to both once the session ended")
    REFUSED = HttpStatus("403", "the chat's answer to a user who is not a participant")
    REFUSAL = TestId("error-message", "on the page that refuses the chat: why")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.get_by_test_id(self.ROOT)
        self.messages = page.get_by_test_id(self.MESSAGE)
        self.input = page.get_by_test_id(self.INPUT)
        self.send_button = page.get_by_test_id(self.SEND)
        self.error = page.get_by_test_id(self.ERROR)
        self.end_button = page.get_by_test_id(self.END)
        self.ended = page.get_by_test_id(self.ENDED)

    def open(self, session_id: str) -> ChatPage:
        self.visit(session_id)
        return self

    def visit(self, session_id: str) -> Response | None:
        """Go to the session's chat; the app's answer."""
        return self.page.goto(self.ROUTE.format(session_id=session_id))

    def is_open(self, session_id: str) -> bool:
        """Whether the page is this session's chat already."""
        return self.page.url.split("?")[0].endswith(self.ROUTE.format(session_id=session_id))

    def expect_open(self, session_id: str, timeout: float | None = None) -> None:
        """The page is this session's chat, its URL ending in the route (waits up to ``timeout`` ms)."""
        path = self.ROUTE.format(session_id=session_id)
        expect(self.page).to_have_url(re.compile(re.escape(path) + "$"), timeout=timeout)

    @classmethod
    def ready(cls) -> Ready:
        """The server has subscribed the page to the session's channel and sent its history."""
        return Ready.attribute(lambda page: page.get_by_test_id(cls.ROOT), cls.READY, "true")

    @classmethod
    def probe(cls) -> ChatProbe:
        """Where the chat-latency probe looks: the message list, the send button, the message box."""
        return ChatProbe(
            messages=lambda page: page.get_by_test_id(cls.MESSAGES),
            send=lambda page: page.get_by_test_id(cls.SEND),
            input=lambda page: page.get_by_test_id(cls.INPUT),
        )

    def expect_refused(self, response: Response | None) -> None:
        """Opening the chat was refused: the refusal is shown (found first), and no chat is. A page
        without the refusal's test id fails here, never passes for want of the chat's."""
        assert response is not None and response.status == int(self.REFUSED)
        refusal = self.page.get_by_test_id(self.REFUSAL)
        expect(
            refusal,
            f"no refusal (test id {self.REFUSAL}) on the page that refused the chat: the check that no chat "
            "is shown needs it; override Flows.expect_chat_refused for your app",
        ).to_be_visible()
        expect(self.root).to_have_count(0)

    def send(self, text: str) -> None:
        self.input.fill(text)
        self.send_button.click()

    def message(self, text: str) -> Locator:
        return self.messages.filter(has=self.page.get_by_test_id(self.BODY).get_by_text(text, exact=True))

    def expect_message(self, text: str, *, sender: str) -> None:
        message = self.message(text)
        expect(message.get_by_test_id(self.SENDER)).to_have_text(sender)
        expect(message.get_by_test_id(self.TIME)).to_have_attribute(
            self.DATETIME, re.compile(r"\d{4}-\d\d-\d\dT")
        )

    def bodies(self) -> list[str]:
        return self.messages.get_by_test_id(self.BODY).all_inner_texts()

    def end_session(self) -> None:
        self.end_button.click()

    def expect_ended(self, status: str = "completed") -> None:
        expect(self.ended).to_be_visible()
        expect(self.root).to_have_attribute(self.STATUS, status)
