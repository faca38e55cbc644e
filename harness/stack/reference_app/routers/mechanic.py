"""The mechanic's side: the request list (after the stale cleanup) and accepting a request."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from harness.stack.reference_app import cleanup
from harness.stack.reference_app.db import Conn, fetch_all, fetch_one
from harness.stack.reference_app.deps import Mechanic, State
from harness.stack.reference_app.routers.pages import render

router = APIRouter()

ALREADY_ACCEPTED = "This request was already accepted by another mechanic"


def vehicle_text(vehicle: Any) -> str:
    if not isinstance(vehicle, dict):
        return ""
    parts = [str(vehicle[key]) for key in ("year", "make", "model") if vehicle.get(key)]
    text = " ".join(parts)
    if vehicle.get("mileage") not in (None, ""):
        text += f" ({vehicle['mileage']:,} mi)" if isinstance(vehicle["mileage"], int) else ""
    return text


def _request_json(row: dict[str, Any]) -> dict[str, Any]:
    vehicle = row["vehicle"] if isinstance(row["vehicle"], dict) else {}
    return {
        "id": str(row["id"]),
        "session_id": str(row["session_id"]) if row["session_id"] else None,
        "customer_name": row["customer_name"],
        "plan": row["plan"],
        "vehicle": vehicle,
        "vehicle_text": vehicle_text(vehicle),
        "description": vehicle.get("description", ""),
        "created_at": row["created_at"].isoformat(),
        "age_seconds": int(row["age_seconds"]),
    }


async def pending_requests(conn: Conn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the full stale cleanup, then list the pending requests, oldest first."""
    counts = await cleanup.cleanup_stale(conn)
    rows = await fetch_all(
        conn,
        "select r.id, r.session_id, r.plan, r.vehicle, r.created_at,"
        " extract(epoch from now() - r.created_at) as age_seconds,"
        " coalesce(p.full_name, 'Customer') as customer_name"
        " from public.session_requests r left join public.profiles p on p.id = r.customer_id"
        " where r.status = 'pending' order by r.created_at, r.id",
    )
    return [_request_json(row) for row in rows], counts


@router.get("/mechanic/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, state: State, user: Mechanic) -> Response:
    async with state.pool.connection() as conn:
        requests, _ = await pending_requests(conn)
    return render(state, request, "mechanic_dashboard.html", user, requests=requests)


@router.get("/api/mechanics/requests")
async def requests_json(state: State, user: Mechanic) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        requests, counts = await pending_requests(conn)
    return {"requests": requests, "cleanup": counts}


@router.post("/api/mechanics/requests/{request_id}/accept")
async def accept(state: State, user: Mechanic, request_id: UUID) -> Response:
    """One conditional update decides the race: of many mechanics, exactly one wins."""
    async with state.pool.connection() as conn, conn.transaction():
        won = await fetch_one(
            conn,
            "update public.session_requests set status = 'accepted', accepted_by = %s, accepted_at = now()"
            " where id = %s and status = 'pending' returning session_id",
            (user.id, request_id),
        )
        if won is None:
            row = await fetch_one(
                conn, "select status from public.session_requests where id = %s", (request_id,)
            )
            if row is None:
                raise HTTPException(404, "unknown request")
            message = ALREADY_ACCEPTED if row["status"] == "accepted" else f"This request has {row['status']}"
            return JSONResponse({"error": message, "status": row["status"]}, status_code=409)
        session = await fetch_one(
            conn,
            "update public.sessions set status = 'live', mechanic_id = %s, started_at = now()"
            " where id = %s and status in ('pending', 'waiting') returning id, customer_id",
            (user.id, won["session_id"]),
        )
        if session is None:
            # The session was cancelled meanwhile: undo the accept (rollback) and say so.
            raise _Gone()
        await conn.execute(
            b"insert into public.session_participants (session_id, user_id, role)"
            b" values (%s, %s, 'customer'), (%s, %s, 'mechanic') on conflict do nothing",
            (session["id"], session["customer_id"], session["id"], user.id),
        )
    url = state.ui.path("/session/{session_id}", session_id=session["id"])
    return JSONResponse({"session_id": str(session["id"]), "url": url})


class _Gone(HTTPException):
    def __init__(self) -> None:
        super().__init__(409, "This request's session is no longer waiting")
