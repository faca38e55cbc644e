"""Chat delivery: browser to browser (Playwright, through the plugin), and WebSocket client to client.

Both go through the app: the sender's socket, an INSERT and NOTIFY in PostgreSQL,
the app's LISTEN connection, the receiver's socket.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.sync.client import connect
from websockets.sync.connection import Connection

from benchmarks.figures import ANCHOR_REALTIME, Figure, Part, Target, percentile
from benchmarks.target import Bench

COOKIE = "pitstop_session"  # the reference app's session cookie
RECEIVE_TIMEOUT_S = 10.0
WARMUP = 10


def run(bench: Bench) -> Part:
    part = Part("chat")
    browser(bench, part, bench.n(150, 20))
    websocket(bench, part, bench.n(500, 50))
    return part


def browser(bench: Bench, part: Part, messages: int) -> None:
    inner = bench.pytest("-k", "chat_messages", env={"PITSTOP_BENCH_MESSAGES": str(messages)})
    latencies = json.loads((inner.out / "chat.json").read_text())
    part.figures += [
        Figure(
            "chat.p50_ms", f"chat, browser to browser, p50 (n={len(latencies)})",
            percentile(latencies, 50), "ms",
        ),
        Figure(
            "chat.p95_ms", "chat, browser to browser, p95", percentile(latencies, 95), "ms",
            Target("<=", 50, "ms"), ANCHOR_REALTIME,
        ),
    ]  # fmt: skip
    part.extra["messages"] = len(latencies)
    part.extra["max_ms"] = max(latencies)
    part.notes.append(
        f"browser: {len(latencies)} messages in one live session, alternating sender, between two "
        "signed-in pages of one Chromium (scenarios.flows.delivery_ms: from the send button's click to the "
        "message appearing in the other page's DOM, both on the browser's clock, 1 ms resolution)."
    )


def websocket(bench: Bench, part: Part, messages: int) -> None:
    """Two WebSocket clients in one live session; one sends, the time until the other has it."""
    with bench.store() as store:
        customer, mechanic = bench.users(store, "customer", "mechanic")
        seeded = store.seed_session(
            {"customer": customer.id, "mechanic": mechanic.id, "status": "live", "request": "accepted",
             "plan": "Quick Chat", "age_s": 0.0, "vehicle": {}}
        )  # fmt: skip
        assert seeded is not None
        cookies = []
        for user in (customer, mechanic):
            client = bench.sign_in(user)
            cookies.append(str(client.cookies[COOKIE]))
            client.close()
        url = bench.stack.app_url.replace("http://", "ws://") + f"/session/{seeded['session_id']}/ws"
        with (
            connect(url, additional_headers={"Cookie": f"{COOKIE}={cookies[0]}"}) as a,
            connect(url, additional_headers={"Cookie": f"{COOKIE}={cookies[1]}"}) as b,
        ):
            for ws in (a, b):
                _wait_for(ws, lambda e: e["type"] == "ready")
            latencies = []
            for i in range(WARMUP + messages):
                sender, receiver = (a, b) if i % 2 == 0 else (b, a)
                body = f"ws message {i}"
                started = time.perf_counter()
                sender.send(json.dumps({"type": "message", "body": body}))
                _wait_for(receiver, functools.partial(_is_message, body=body))
                elapsed = (time.perf_counter() - started) * 1000
                _wait_for(sender, functools.partial(_is_message, body=body))  # its own copy
                if i >= WARMUP:
                    latencies.append(elapsed)
        store.purge_users([customer.id, mechanic.id])
    part.figures += [
        Figure(
            "chat.ws_p50_ms", f"chat, WebSocket client to client, p50 (n={len(latencies)})",
            percentile(latencies, 50), "ms",
        ),
        Figure(
            "chat.ws_p95_ms", "chat, WebSocket client to client, p95", percentile(latencies, 95), "ms",
            Target("<=", 20, "ms"), ANCHOR_REALTIME,
        ),
    ]  # fmt: skip
    part.notes.append(
        f"WebSocket: {len(latencies)} messages (after {WARMUP} untimed) between two `websockets` clients "
        "in one live session on loopback, alternating sender, one at a time; from send() to the "
        "other client receiving it (same clock)."
    )


def _is_message(event: dict[str, Any], body: str) -> bool:
    return bool(event["type"] == "message" and event["message"]["body"] == body)


def _wait_for(ws: Connection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next event that ``wanted`` accepts; others (history, ready) are skipped."""
    deadline = time.monotonic() + RECEIVE_TIMEOUT_S
    while True:
        event: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if event["type"] == "error":
            raise RuntimeError(f"the app refused a chat message: {event}")
        if wanted(event):
            return event
