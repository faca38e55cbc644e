"""The debug API (the original app's ``/api/debug/*``): mounted in test mode only, behind the admin token."""

from __future__ import annotations

import hmac
import json
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from harness.stack.reference_app import cleanup, uploads
from harness.stack.reference_app.deps import OptionalUser, State


async def require_admin_token(request: Request, state: State) -> None:
    expected = state.config.admin_token
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise HTTPException(401, "a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)")


router = APIRouter(prefix="/api/debug", dependencies=[Depends(require_admin_token)])


def _error(exc: cleanup.CleanupError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


# About ten years: past it the database's integers and intervals overflow.
MAX_MINUTES = 5_256_000


def _minutes(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # isdigit() alone admits "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_MINUTES:
        raise cleanup.BadArgument(
            f"{name} must be a whole number of minutes from 0 to {MAX_MINUTES}, not {raw!r}"
        )
    return int(raw)


@router.api_route("/cleanup-user-data", methods=["GET", "POST"])
async def cleanup_user_data(request: Request, state: State, user: OptionalUser) -> Response:
    """GET: what a purge of the signed-in user would delete; POST: purge it."""
    if user is None:
        return JSONResponse(
            {"error": "sign in as the user to clean up (session cookie missing)"}, status_code=401
        )
    dry_run = request.method == "GET"
    try:
        async with state.pool.connection() as conn, conn.transaction(force_rollback=dry_run):
            counts, files = await cleanup.purge_user(conn, user.id, domain=state.config.test_domain)
    except cleanup.CleanupError as exc:
        return _error(exc)
    if not dry_run:
        uploads.remove(state.config.data_dir, files)
    return JSONResponse(counts)


@router.api_route("/cleanup-sessions", methods=["GET", "POST"])
async def cleanup_sessions(request: Request, state: State) -> Response:
    """GET: what the stale cleanup would change; POST: run it.

    Thresholds from the query: ``waitingMinutes`` (15), ``orphanMinutes`` (20).
    """
    dry_run = request.method == "GET"
    try:
        waiting = _minutes(request, "waitingMinutes", cleanup.WAITING_MINUTES)
        orphan = _minutes(request, "orphanMinutes", cleanup.ORPHAN_MINUTES)
        async with state.pool.connection() as conn, conn.transaction(force_rollback=dry_run):
            counts = await cleanup.cleanup_stale(conn, waiting_minutes=waiting, orphan_minutes=orphan)
    except cleanup.CleanupError as exc:
        return _error(exc)
    return JSONResponse(counts)


@router.post("/force-cancel-session")
async def force_cancel_session(request: Request, state: State) -> Response:
    try:
        body: Any = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": 'the body must be JSON: {"sessionId": "<uuid>"}'}, status_code=422)
    raw = body.get("sessionId") if isinstance(body, dict) else None
    try:
        session_id = UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        session_id = None
    if session_id is None:
        return JSONResponse({"error": f"sessionId must be a session uuid, not {raw!r}"}, status_code=422)
    try:
        async with state.pool.connection() as conn:
            return JSONResponse(await cleanup.force_cancel(conn, session_id))
    except cleanup.CleanupError as exc:
        return _error(exc)


@router.get("/session-health")
async def session_health(request: Request, state: State) -> Response:
    try:
        stale = _minutes(request, "staleMinutes", cleanup.WAITING_MINUTES)
        very = _minutes(request, "veryStaleMinutes", cleanup.VERY_STALE_MINUTES)
        async with state.pool.connection() as conn:
            return JSONResponse(await cleanup.health(conn, stale_minutes=stale, very_stale_minutes=very))
    except cleanup.CleanupError as exc:
        return _error(exc)
