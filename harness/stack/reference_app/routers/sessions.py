"""The session chat: the page, its WebSocket, photos, and ending the session."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from harness.stack.reference_app import chat, uploads
from harness.stack.reference_app.auth import User
from harness.stack.reference_app.deps import (
    WS_FORBIDDEN,
    WS_NOT_FOUND,
    AnyUser,
    AppState,
    Mechanic,
    State,
    accepted_user,
)
from harness.stack.reference_app.realtime import notify
from harness.stack.reference_app.routers.pages import render

router = APIRouter()
log = logging.getLogger(__name__)


async def _participant_session(state: AppState, session_id: UUID, user: User) -> tuple[dict[str, Any], str]:
    async with state.pool.connection() as conn:
        session = await chat.get_session(conn, session_id)
        role = await chat.participant_role(conn, session_id, user.id) if session else None
    if session is None:
        raise HTTPException(404, "unknown session")
    if role is None:
        raise HTTPException(403, "only the session's customer and mechanic may open it")
    return session, role


@router.get("/session/{session_id}", response_class=HTMLResponse)
async def chat_page(request: Request, state: State, user: AnyUser, session_id: UUID) -> Response:
    session, role = await _participant_session(state, session_id, user)
    async with state.pool.connection() as conn:
        items = await chat.history(conn, session_id)
    return render(state, request, "chat.html", user, session=session, role=role, items=items)


@router.websocket("/session/{session_id}/ws")
async def chat_socket(websocket: WebSocket, session_id: str) -> None:
    state: AppState = websocket.app.state.pitstop
    user = await accepted_user(websocket)
    if user is None:
        return
    try:
        sid = UUID(session_id)
    except ValueError:
        await websocket.close(WS_NOT_FOUND, "unknown session")
        return
    async with state.pool.connection() as conn:
        session = await chat.get_session(conn, sid)
        role = await chat.participant_role(conn, sid, user.id) if session else None
    if session is None:
        await websocket.close(WS_NOT_FOUND, "unknown session")
        return
    if role is None:
        await websocket.close(WS_FORBIDDEN, "not a participant of this session")
        return

    # Subscribe before reading the history so that nothing falls between the two.
    queue = state.hub.subscribe(sid)
    sender = asyncio.create_task(_send_events(websocket, queue))
    try:
        async with state.pool.connection() as conn:
            items = await chat.history(conn, sid)
            session = await chat.get_session(conn, sid)
        assert session is not None
        await queue.put({"type": "history", "items": items})
        await queue.put({"type": "ready", "session_id": str(sid), "status": session["status"]})
        while True:
            data = await websocket.receive_json()
            await _handle_incoming(state, queue, sid, user, data)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away (RuntimeError: receive after close)
    except ValueError:
        with contextlib.suppress(RuntimeError):
            await websocket.close(1003, "send JSON")
    finally:
        state.hub.unsubscribe(sid, queue)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _send_events(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.send_json(await queue.get())


async def _handle_incoming(
    state: AppState, queue: asyncio.Queue[dict[str, Any]], sid: UUID, user: User, data: Any
) -> None:
    if not isinstance(data, dict) or data.get("type") != "message":
        await queue.put({"type": "error", "message": "Unknown request"})
        return
    try:
        body = chat.clean_body(data.get("body"))
    except chat.ChatInputError as exc:
        await queue.put({"type": "error", "message": str(exc), "client_id": data.get("client_id")})
        return
    async with state.pool.connection() as conn, conn.transaction():
        message_id = await chat.insert_message(conn, sid, user.id, body)
        if message_id is not None:
            await notify(conn, sid, "message", message_id)
    if message_id is None:
        await queue.put({"type": "error", "message": "This session is not live; messages can't be sent"})
    else:
        await queue.put({"type": "sent", "id": str(message_id), "client_id": data.get("client_id")})


@router.post("/session/{session_id}/files")
async def upload_file(state: State, user: AnyUser, session_id: UUID, file: UploadFile) -> Response:
    session, _ = await _participant_session(state, session_id, user)
    if session["status"] != "live":
        return JSONResponse({"error": "This session is not live; files can't be attached"}, status_code=409)
    data = await file.read(uploads.MAX_BYTES + 1)
    try:
        kind = uploads.check(data)
    except uploads.UploadError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    file_id = uuid.uuid4()
    rel_path = uploads.relative_path(session_id, file_id, kind)
    await asyncio.to_thread(uploads.store, state.config.data_dir, rel_path, data)
    async with state.pool.connection() as conn, conn.transaction():
        await conn.execute(
            b"insert into public.session_files (id, session_id, uploaded_by, file_name, storage_path)"
            b" values (%s, %s, %s, %s, %s)",
            (file_id, session_id, user.id, uploads.safe_name(file.filename), rel_path),
        )
        await notify(conn, session_id, "file", file_id)
        item = await chat.get_file(conn, file_id)
    return JSONResponse(item, status_code=201)


@router.get("/session/{session_id}/files/{file_id}")
async def download_file(state: State, user: AnyUser, session_id: UUID, file_id: UUID) -> Response:
    await _participant_session(state, session_id, user)
    async with state.pool.connection() as conn:
        row = await chat.file_row(conn, session_id, file_id)
    path = uploads.resolve(state.config.data_dir, row["storage_path"]) if row else None
    if path is None:
        raise HTTPException(404, "unknown file")
    return FileResponse(
        path,
        media_type=uploads.content_type(path),
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"},
    )


@router.post("/session/{session_id}/end")
async def end_session(state: State, user: Mechanic, session_id: UUID) -> Response:
    session, role = await _participant_session(state, session_id, user)
    if role != "mechanic" or session["mechanic_id"] != user.id:
        raise HTTPException(403, "only the session's mechanic may end it")
    async with state.pool.connection() as conn, conn.transaction():
        ended = await chat.end_session(conn, session_id)
        if ended:
            await notify(conn, session_id, "session_ended")
    if not ended:
        return JSONResponse({"error": f"This session is {session['status']}, not live"}, status_code=409)
    return JSONResponse({"session_id": str(session_id), "status": "completed"})
