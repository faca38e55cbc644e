"""``/admin/cleanup``: the stale cleanup and the health figures for a signed-in admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from harness.stack.reference_app import cleanup
from harness.stack.reference_app.deps import Admin, State
from harness.stack.reference_app.routers.pages import render

router = APIRouter()


@router.get("/admin/cleanup", response_class=HTMLResponse)
async def cleanup_page(request: Request, state: State, user: Admin) -> Response:
    async with state.pool.connection() as conn:
        health = await cleanup.health(conn)
    return render(state, request, "admin_cleanup.html", user, health=health)


@router.get("/api/admin/cleanup")
async def check(state: State, user: Admin) -> dict[str, Any]:
    """What the stale cleanup would change now (run and rolled back), and the health."""
    async with state.pool.connection() as conn:
        async with conn.transaction(force_rollback=True):
            counts = await cleanup.cleanup_stale(conn)
        health = await cleanup.health(conn)
    return {"dry_run": True, "result": counts, "health": health}


@router.post("/api/admin/cleanup")
async def run(state: State, user: Admin) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        counts = await cleanup.cleanup_stale(conn)
        health = await cleanup.health(conn)
    return {"dry_run": False, "result": counts, "health": health}
