"""The pages' updates: one WebSocket per open page that says "what you show changed".

The customer's dashboard and success page watch the customer's sessions, the
mechanic's dashboard the pending requests (``realtime.py``: the database's
triggers send the notices, whoever writes). The socket sends ``ready`` once
it is subscribed, then ``changed`` after each change (a burst makes one);
the page fetches its JSON on each, so nothing falls between its render and
the subscription. A WebSocket, not a server-sent event stream: on shutdown
uvicorn closes sockets (1012) but waits for open HTTP responses to finish.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from harness.stack.reference_app.auth import User
from harness.stack.reference_app.deps import AppState, accepted_user
from harness.stack.reference_app.realtime import MECHANICS, customer_topic

router = APIRouter()


def topics(user: User) -> list[str]:
    """What ``user``'s pages show: a customer's sessions, or the requests every mechanic sees."""
    if user.role == "customer":
        return [customer_topic(user.id)]
    if user.role == "mechanic":
        return [MECHANICS]
    return []


@router.websocket("/api/updates")
async def updates_socket(websocket: WebSocket) -> None:
    state: AppState = websocket.app.state.pitstop
    user = await accepted_user(websocket)
    if user is None:
        return
    watched = topics(user)
    changed = asyncio.Event()
    for topic in watched:  # before "ready": a change after it is never missed
        state.hub.watch(topic, changed)
    sender = asyncio.create_task(_send_changes(websocket, changed))
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # the page sends nothing; a message is ignored
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away
    finally:
        for topic in watched:
            state.hub.unwatch(topic, changed)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _send_changes(websocket: WebSocket, changed: asyncio.Event) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json({"type": "ready"})
        while True:
            await changed.wait()
            changed.clear()
            await websocket.send_json({"type": "changed"})
