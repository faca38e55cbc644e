"""Chat fan-out and page updates through PostgreSQL LISTEN/NOTIFY.

Every app process listens on two channels, on one connection. The chat's:
writers NOTIFY in the transaction that stores the row (so the notice goes out
at commit), with the row's id as payload; each process reads the row and hands
it to its own sockets. Two processes on one database therefore deliver each
other's messages. And ``page_changes``, which the database's triggers on
sessions and requests send to whoever writes them (schema.sql): its payload is
a topic (``customer:<id>``, ``mechanics``), and each process wakes the pages'
sockets that watch it (``routers/updates.py``), which then fetch what they show.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection

from harness.stack.reference_app import chat
from harness.stack.reference_app.db import Conn, Pool

CHANNEL = "pitstop_chat"
CHANGES = "page_changes"  # sent by the triggers of schema.sql; the payload is a topic
MECHANICS = "mechanics"  # the topic of the pending requests, which every mechanic sees
START_TIMEOUT_S = 10
RECONNECT_MAX_S = 5.0

log = logging.getLogger(__name__)


async def _pg_notify(conn: Conn, channel: str, payload: str) -> None:
    """NOTIFY ``channel`` in the caller's transaction: the notice goes out at its commit."""
    await conn.execute(b"select pg_notify(%s, %s)", (channel, payload))


async def notify(conn: Conn, session_id: UUID, kind: str, item_id: UUID | None = None) -> None:
    """Queue a notice in the caller's transaction."""
    payload = json.dumps(
        {"session_id": str(session_id), "kind": kind, "id": str(item_id) if item_id else None}
    )
    await _pg_notify(conn, CHANNEL, payload)


def customer_topic(customer_id: UUID) -> str:
    """The topic of a customer's sessions (and of what became of their payments)."""
    return f"customer:{customer_id}"


async def notify_change(conn: Conn, topic: str) -> None:
    """Queue a change notice in the caller's transaction, for a change no trigger sees."""
    await _pg_notify(conn, CHANGES, topic)


class ChatHub:
    def __init__(self, database_url: str, pool: Pool) -> None:
        self._database_url = database_url
        self._pool = pool
        self._subscribers: dict[UUID, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._listening = asyncio.Event()
        self._started = False  # listened once already
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="chat-listener")
        await asyncio.wait_for(self._listening.wait(), START_TIMEOUT_S)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def subscribe(self, session_id: UUID) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: UUID, queue: asyncio.Queue[dict[str, Any]]) -> None:
        queues = self._subscribers.get(session_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[session_id]

    def watch(self, topic: str, changed: asyncio.Event) -> None:
        """Set ``changed`` whenever a change notice of ``topic`` arrives."""
        self._watchers[topic].add(changed)

    def unwatch(self, topic: str, changed: asyncio.Event) -> None:
        events = self._watchers.get(topic)
        if events is not None:
            events.discard(changed)
            if not events:
                del self._watchers[topic]

    def _changed(self, topic: str) -> None:
        for changed in self._watchers.get(topic, ()):
            changed.set()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                async with await AsyncConnection.connect(self._database_url, autocommit=True) as conn:
                    await conn.execute(f"listen {CHANNEL}".encode())
                    await conn.execute(f"listen {CHANGES}".encode())
                    if self._started:
                        # Back after a lost connection: changes may have gone by unheard.
                        for events in list(self._watchers.values()):
                            for changed in events:
                                changed.set()
                    self._started = True
                    self._listening.set()
                    delay = 0.1
                    async for notice in conn.notifies():
                        if notice.channel == CHANGES:
                            self._changed(notice.payload)
                        else:
                            await self._dispatch(notice.payload)
            except psycopg.OperationalError as exc:
                # Notices sent while we reconnect are lost; chat clients get them with the next
                # history, and every watching page is told to fetch again once we listen again.
                self._listening.clear()
                log.warning("chat listener lost its connection (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _dispatch(self, payload: str) -> None:
        try:
            data = json.loads(payload)
            session_id = UUID(data["session_id"])
            kind = data["kind"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed chat notice: %r", payload)
            return
        if not self._subscribers.get(session_id):
            return
        event: dict[str, Any] | None
        try:
            async with self._pool.connection() as conn:
                event = await self._event(conn, session_id, kind, data.get("id"))
        except psycopg.Error:
            log.exception("could not read the row of a chat notice")
            return
        if event is None:
            return
        for queue in list(self._subscribers.get(session_id, ())):
            queue.put_nowait(event)

    async def _event(
        self, conn: Conn, session_id: UUID, kind: str, item_id: str | None
    ) -> dict[str, Any] | None:
        if kind == "message" and item_id:
            message = await chat.get_message(conn, UUID(item_id))
            return {"type": "message", "message": message} if message else None
        if kind == "file" and item_id:
            item = await chat.get_file(conn, UUID(item_id))
            return {"type": "file", "file": item} if item else None
        if kind == "session_ended":
            return {"type": "session_ended", "session_id": str(session_id)}
        return None
