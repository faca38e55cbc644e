"""How a step knows a page is ready to use: ``Ready``, a state the page shows or an event it saw.

The chat is ready once the server subscribed the page (``Flows.chat_ready``). The reference app
says so with an attribute (``data-ready="true"``); an app that does not gives one of the others:

- ``Ready.shown(find)``: something is visible;
- ``Ready.attribute(find, name, value)``: an element has an attribute's value;
- ``Ready.url(pattern)``: the page is at a URL (a glob, a regex or a predicate);
- ``Ready.response(predicate)``: the page received a matching HTTP response;
- ``Ready.frame(predicate)``: a WebSocket of the page received a matching frame (``str`` or ``bytes``);
- ``Ready.when(function)``: the team's own wait, given the page.

An event counts from the page's last document load (its navigation request; a client-side route
change loads none, so an event from before it still counts; a frame counts only on a socket the
current document opened). Events are recorded from the moment a step first takes the page in the test
(``Flows.page`` arms ``Flows.chat_ready``), so a frame that came during an earlier step (the accept
that opened the chat) still counts; one a test's own code caused before any step took the page does
not. A predicate that raises is taken as no match.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page, Request, Response, WebSocket, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .finding import Find, describe, locate

TIMEOUT_MS = 15_000  # an event's or a URL's wait (a locator's waits as Playwright's ``expect`` does)
EVENT_POLL_MS = 20  # how often an event wait looks whether a match came


class Ready:
    """A way to know a page is ready. Make one with the constructors below."""

    def arm(self, page: Page) -> None:
        """Start recording what ``wait`` needs from ``page`` (once per page; a state needs nothing)."""

    def wait(self, page: Page) -> None:
        """Return once ``page`` is ready; fail (``AssertionError``) saying what never came."""
        raise NotImplementedError

    @staticmethod
    def shown(find: Find) -> Ready:
        return _Shown(find)

    @staticmethod
    def attribute(find: Find, name: str, value: str | re.Pattern[str]) -> Ready:
        return _Attribute(find, name, value)

    @staticmethod
    def url(
        pattern: str | re.Pattern[str] | Callable[[str], bool], *, timeout_ms: float = TIMEOUT_MS
    ) -> Ready:
        return _Url(pattern, timeout_ms)

    @staticmethod
    def response(predicate: Callable[[Response], bool], *, timeout_ms: float = TIMEOUT_MS) -> Ready:
        return _Event("response", predicate, timeout_ms)

    @staticmethod
    def frame(predicate: Callable[[str | bytes], bool], *, timeout_ms: float = TIMEOUT_MS) -> Ready:
        return _Event("frame", predicate, timeout_ms)

    @staticmethod
    def when(function: Callable[[Page], Any]) -> Ready:
        return _When(function)


@dataclass(frozen=True)
class _Shown(Ready):
    find: Find

    def wait(self, page: Page) -> None:
        expect(locate(page, self.find), f"not ready: {describe(self.find)} is not shown").to_be_visible()


@dataclass(frozen=True)
class _Attribute(Ready):
    find: Find
    name: str
    value: str | re.Pattern[str]

    def wait(self, page: Page) -> None:
        expect(locate(page, self.find)).to_have_attribute(self.name, self.value)


@dataclass(frozen=True)
class _Url(Ready):
    pattern: str | re.Pattern[str] | Callable[[str], bool]
    timeout_ms: float

    def wait(self, page: Page) -> None:
        try:
            page.wait_for_url(self.pattern, timeout=self.timeout_ms)
        except PlaywrightTimeoutError:
            raise AssertionError(f"not ready: the page stayed at {page.url}, not {self.pattern!r}") from None


@dataclass(frozen=True)
class _When(Ready):
    function: Callable[[Page], Any]

    def wait(self, page: Page) -> None:
        self.function(page)


@dataclass
class _Seen:
    """What one page received for one event wait: whether a match came since its last document load."""

    matched: bool = False
    document: int = 0  # how many document loads the page began; a socket belongs to the one it opened in


@dataclass(frozen=True, eq=False)
class _Event(Ready):
    kind: str  # "response" or "frame"
    predicate: Callable[..., bool]
    timeout_ms: float
    # Per page: what it received. Weak: a page's record goes with the page.
    seen: weakref.WeakKeyDictionary[Page, _Seen] = field(default_factory=weakref.WeakKeyDictionary)

    def arm(self, page: Page) -> None:
        if page in self.seen:
            return
        seen = self.seen[page] = _Seen()

        def navigating(request: Request) -> None:
            # From the request for the page's new document: before its response and its sockets; what
            # the old document's sockets receive from now on no longer counts.
            if request.is_navigation_request() and request.frame == page.main_frame:
                seen.document += 1
                seen.matched = False

        def mark(event: Any, document: int | None = None) -> None:
            if document not in (None, seen.document):
                return
            try:
                matched = bool(self.predicate(event))
            except Exception:  # a frame or response the team's predicate cannot read is not the one
                matched = False
            seen.matched = seen.matched or matched

        def socket(websocket: WebSocket) -> None:
            document = seen.document
            websocket.on("framereceived", lambda payload: mark(payload, document))

        page.on("request", navigating)
        if self.kind == "response":
            page.on("response", mark)
        else:
            page.on("websocket", socket)

    def wait(self, page: Page) -> None:
        self.arm(page)
        seen = self.seen[page]
        deadline = time.monotonic() + self.timeout_ms / 1000
        while not seen.matched:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not ready: no {'HTTP response' if self.kind == 'response' else 'WebSocket frame'} "
                    f"matching {describe(self.predicate)} within {self.timeout_ms:g} ms of the page's "
                    "last document load"
                )
            # Playwright delivers the page's events (to ``mark``) while it waits; any socket may match.
            page.wait_for_timeout(EVENT_POLL_MS)
