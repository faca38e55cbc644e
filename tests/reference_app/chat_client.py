"""A WebSocket chat client for the tests (the ``websockets`` sync client)."""

from __future__ import annotations

import contextlib
import json
import time
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

EVENT_TIMEOUT_S = 10.0


class ChatClient:
    def __init__(self, base_url: str, session_id: object, cookie: str | None) -> None:
        url = base_url.replace("http://", "ws://") + f"/session/{session_id}/ws"
        headers = {"Cookie": f"pitstop_session={cookie}"} if cookie else {}
        self._exit = contextlib.ExitStack()
        self.ws: ClientConnection = self._exit.enter_context(
            connect(url, additional_headers=headers, open_timeout=10)
        )
        self.seen: list[dict[str, Any]] = []

    def next(self, timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        self.seen.append(event)
        return event

    def wait_for(self, kind: str, timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        """The next event of type ``kind``, skipping others; bounded by ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.01, deadline - time.monotonic()))
            if event["type"] == kind:
                return event

    def first_of_each(self, *kinds: str, timeout: float = EVENT_TIMEOUT_S) -> dict[str, dict[str, Any]]:
        """The first event of each type in ``kinds``, in whatever order they come; others skipped.

        The sender's "sent" and its own "message" are not ordered: the message reaches it
        through the database's NOTIFY, which may come before the handler's acknowledgement.
        """
        deadline = time.monotonic() + timeout
        found: dict[str, dict[str, Any]] = {}
        while len(found) < len(kinds):
            event = self.next(max(0.01, deadline - time.monotonic()))
            if event["type"] in kinds:
                found.setdefault(event["type"], event)
        return found

    def message(self, body: str, timeout: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        """The next chat message with this body (the sender gets its own messages too)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.wait_for("message", max(0.01, deadline - time.monotonic()))
            if event["message"]["body"] == body:
                message: dict[str, Any] = event["message"]
                return message

    def ready(self) -> list[dict[str, Any]]:
        """Wait for the server's "ready"; return the history it sent before."""
        history = self.wait_for("history")
        self.wait_for("ready")
        items: list[dict[str, Any]] = history["items"]
        return items

    def send(self, body: Any) -> None:
        self.ws.send(json.dumps({"type": "message", "body": body}))

    def close(self) -> None:
        self._exit.close()

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
