from __future__ import annotations

import re
import warnings

from playwright.sync_api import Locator, Page, Response, expect

from ..probe import ChatProbe
from ..readiness import Ready
from .contract import Attribute, By, HttpStatus, Route, TestId


class ChatPage:
    """A session's chat: real-time messages, photos, and (for the mechanic) End Session."""

    ROUTE = Route("/session/{session_id}", "a session's chat, for its two participants")
    ROOT = TestId("chat", "the chat")
    READY = Attribute(
        "data-ready", "on the chat: 'true' once the server subscribed the page and sent the history"
    )
    STATUS = Attribute("data-status", "on the chat: the session's status, updated without a reload")
    MESSAGES = TestId("chat-messages", "the list of messages (the latency probe watches it)")
    MESSAGE = TestId("chat-message", "one message", by=By.role("listitem|article"))
    BODY = TestId("message-body", "in a message: its text")
    SENDER = TestId("message-sender", "in a message: the sender's name")
    TIME = TestId("message-time", "in a message: when it was sent; else its <time> element")
    DATETIME = Attribute("datetime", "on the message time: an ISO 8601 timestamp")
    INPUT = TestId("chat-input", "the message box", by=By.role("textbox", r"message"))
    SEND = TestId(
        "chat-send",
        "sends the message (the latency probe takes a click on it, or Enter, as the send)",
        by=By.role("button", r"^\s*send\s*$"),
    )
    ERROR = TestId("chat-error", "why a message was refused", by=By.role("alert"))
    END = TestId(
        "end-session", "the mechanic's End Session button", by=By.role("button", r"^\s*end( session)?\s*$")
    )
    ENDED = TestId(
        "session-ended",
        "shown to both once the session ended",
        by=By.text(r"session (has )?ended|session is over"),
    )
    REFUSED = HttpStatus("403", "the chat's answer to a user who is not a participant")
    REFUSAL = TestId("error-message", "on the page that refuses the chat: why")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.root = page.get_by_test_id(self.ROOT)
        self.messages = page.get_by_test_id(self.MESSAGE)
        self.input = self.INPUT.locate(page)
        self.send_button = self.SEND.locate(page)
        self.error = self.ERROR.locate(page)
        self.end_button = self.END.locate(page)
        self.ended = self.ENDED.locate(page)

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

    def wait_until_subscribed(self) -> None:
        """Deprecated (kept for 0.1.x): ``ChatPage.ready().wait(page)``, or ``Flows.chat_ready``."""
        warnings.warn(
            "ChatPage.wait_until_subscribed is now ChatPage.ready().wait(page); it goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        self.ready().wait(self.page)

    @classmethod
    def ready(cls) -> Ready:
        """The server has subscribed the page to the session's channel and sent its history."""
        return Ready.attribute(lambda page: page.get_by_test_id(cls.ROOT), cls.READY, "true")

    @classmethod
    def probe(cls) -> ChatProbe:
        """Where the chat-latency probe looks: the message list, the send button, the message box."""
        return ChatProbe(
            messages=lambda page: page.get_by_test_id(cls.MESSAGES),
            send=cls.SEND.locate,
            input=cls.INPUT.locate,
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
        """The message with this text: by its test ids, or else the list item that shows the text."""
        by_test_id = self.messages.filter(
            has=self.page.get_by_test_id(self.BODY).get_by_text(text, exact=True)
        )
        if self.MESSAGE.by is None:
            return by_test_id
        shown = self.MESSAGE.by.unmarked(self.page).filter(has=self.page.get_by_text(text, exact=True))
        return by_test_id.or_(shown)

    def expect_message(self, text: str, *, sender: str) -> None:
        """The message shows its sender's name and when it was sent (an ISO 8601 ``datetime``)."""
        message = self.message(text)
        expect(message).to_contain_text(sender)
        expect(message.get_by_test_id(self.TIME).or_(message.locator("time"))).to_have_attribute(
            self.DATETIME, re.compile(r"\d{4}-\d\d-\d\dT")
        )

    def bodies(self) -> list[str]:
        return self.messages.get_by_test_id(self.BODY).all_inner_texts()

    def end_session(self) -> None:
        self.end_button.click()

    def expect_ended(self, status: str = "completed") -> None:
        expect(self.ended).to_be_visible()
        expect(self.root).to_have_attribute(self.STATUS, status)
