"""Chat rows: messages and files of a session, who may see them, and ending a session."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from harness.stack.reference_app.db import Conn, fetch_all, fetch_one

MAX_MESSAGE_CHARS = 2000


class ChatInputError(ValueError):
    """A message the chat refuses; the text is shown to the sender."""


def clean_body(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ChatInputError("Message cannot be empty")
    if len(body) > MAX_MESSAGE_CHARS:
        raise ChatInputError(
            f"Message is too long ({len(body)} characters; the limit is {MAX_MESSAGE_CHARS})"
        )
    return body.strip()


def _message(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "session_id": str(row["session_id"]),
        "sender_id": str(row["sender_id"]),
        "sender_name": row["sender_name"],
        "body": row["body"],
        "created_at": row["created_at"].isoformat(),
    }


def _file(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "session_id": str(row["session_id"]),
        "sender_id": str(row["uploaded_by"]),
        "sender_name": row["sender_name"],
        "file_name": row["file_name"],
        "url": f"/session/{row['session_id']}/files/{row['id']}",
        "created_at": row["created_at"].isoformat(),
    }


_MESSAGES = (
    "select m.id, m.session_id, m.sender_id, m.body, m.created_at,"
    " coalesce(p.full_name, 'Unknown') as sender_name"
    " from public.chat_messages m left join public.profiles p on p.id = m.sender_id"
)
_FILES = (
    "select f.id, f.session_id, f.uploaded_by, f.file_name, f.storage_path, f.created_at,"
    " coalesce(p.full_name, 'Unknown') as sender_name"
    " from public.session_files f left join public.profiles p on p.id = f.uploaded_by"
)


async def get_session(conn: Conn, session_id: UUID) -> dict[str, Any] | None:
    return await fetch_one(
        conn,
        "select s.id, s.customer_id, s.mechanic_id, s.plan, s.status, s.created_at, s.started_at, s.ended_at,"
        " c.full_name as customer_name, m.full_name as mechanic_name"
        " from public.sessions s left join public.profiles c on c.id = s.customer_id"
        " left join public.profiles m on m.id = s.mechanic_id where s.id = %s",
        (session_id,),
    )


async def participant_role(conn: Conn, session_id: UUID, user_id: UUID) -> str | None:
    row = await fetch_one(
        conn,
        "select role from public.session_participants where session_id = %s and user_id = %s",
        (session_id, user_id),
    )
    return None if row is None else str(row["role"])


async def get_message(conn: Conn, message_id: UUID) -> dict[str, Any] | None:
    row = await fetch_one(conn, _MESSAGES + " where m.id = %s", (message_id,))
    return None if row is None else _message(row)


async def get_file(conn: Conn, file_id: UUID) -> dict[str, Any] | None:
    row = await fetch_one(conn, _FILES + " where f.id = %s", (file_id,))
    return None if row is None else _file(row)


async def file_row(conn: Conn, session_id: UUID, file_id: UUID) -> dict[str, Any] | None:
    return await fetch_one(conn, _FILES + " where f.id = %s and f.session_id = %s", (file_id, session_id))


async def history(conn: Conn, session_id: UUID) -> list[dict[str, Any]]:
    """Messages and files of a session, oldest first, each tagged with its ``kind``."""
    messages = await fetch_all(conn, _MESSAGES + " where m.session_id = %s", (session_id,))
    files = await fetch_all(conn, _FILES + " where f.session_id = %s", (session_id,))
    items = [(row["created_at"], str(row["id"]), {"kind": "message", **_message(row)}) for row in messages]
    items += [(row["created_at"], str(row["id"]), {"kind": "file", **_file(row)}) for row in files]
    return [item for _, _, item in sorted(items, key=lambda t: (t[0], t[1]))]


async def insert_message(conn: Conn, session_id: UUID, sender_id: UUID, body: str) -> UUID | None:
    """Store a message if the session is live; ``None`` otherwise. Runs in the caller's transaction."""
    row = await fetch_one(
        conn,
        "insert into public.chat_messages (session_id, sender_id, body)"
        " select id, %s, %s from public.sessions where id = %s and status = 'live' returning id",
        (sender_id, body, session_id),
    )
    return None if row is None else row["id"]


async def end_session(conn: Conn, session_id: UUID) -> bool:
    """live → completed; False when the session was not live. Runs in the caller's transaction."""
    row = await fetch_one(
        conn,
        "update public.sessions set status = 'completed', ended_at = now()"
        " where id = %s and status = 'live' returning id",
        (session_id,),
    )
    return row is not None
