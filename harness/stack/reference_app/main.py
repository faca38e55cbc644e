"""The app factory: ``uvicorn --factory harness.stack.reference_app.main:create_app``.

``create_app(config)`` in tests.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from harness.stack.reference_app.auth import SessionCookies, SupabaseSessions
from harness.stack.reference_app.config import Config
from harness.stack.reference_app.db import create_pool
from harness.stack.reference_app.deps import AppState, LoginRequired, WrongRole, login_url
from harness.stack.reference_app.payments import Payments
from harness.stack.reference_app.realtime import ChatHub
from harness.stack.reference_app.routers import (
    admin,
    auth,
    customer,
    debug,
    mechanic,
    sessions,
    updates,
    webhooks,
)
from harness.stack.reference_app.ui import UIS, WithoutTestIds

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> FastAPI:
    config = config or Config.from_env()
    ui = UIS[config.app_ui]
    templates = Jinja2Templates(directory=ui.templates)  # autoescape is on for .html
    if not ui.test_ids:
        templates.env.add_extension(WithoutTestIds)
    pool = create_pool(config.database_url)
    state = AppState(
        config=config,
        pool=pool,
        cookies=SessionCookies(config.session_secret),
        supabase=SupabaseSessions(config.supabase_url, config.supabase_jwt_secret)
        if config.supabase_url and config.supabase_jwt_secret
        else None,
        payments=Payments(config),
        hub=ChatHub(config.database_url, pool),
        templates=templates,
        ui=ui,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        await pool.open(wait=True, timeout=15)
        await state.hub.start()
        log.info("reference app up (test mode: %s)", config.test_mode)
        try:
            yield
        finally:
            await state.hub.stop()
            await pool.close()

    app = FastAPI(title="pitstop reference app", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.pitstop = state
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (
        auth.router,
        customer.router,
        mechanic.router,
        sessions.router,
        updates.router,
        webhooks.router,
        admin.router,
    ):
        app.include_router(ui.routed(router))  # the pages at this UI's paths
    if config.test_mode:
        # Dev-only routes exist in test mode only: elsewhere they are plain 404s.
        app.include_router(debug.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, object]:
        return {"ok": True, "listening": state.hub.listening, "test_mode": config.test_mode}

    _install_error_handlers(app, state)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _install_error_handlers(app: FastAPI, state: AppState) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(state.ui, exc.role, exc.next_url), status_code=303)

    @app.exception_handler(WrongRole)
    async def wrong_role(request: Request, exc: WrongRole) -> Response:
        return state.templates.TemplateResponse(
            request,
            "error.html",
            {
                "user": exc.user,
                "config": state.config,
                "title": "Not for your account",
                "message": f"This page is for {' or '.join(exc.needed)} accounts.",
                "home": state.ui.home(exc.user.role),
            },
            status_code=403,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return state.templates.TemplateResponse(
            request,
            "error.html",
            {
                "user": None,
                "config": state.config,
                "title": f"Error {exc.status_code}",
                "message": exc.detail,
            },
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg")}
            for err in exc.errors()
        ]
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"error": "invalid request", "details": errors}, status_code=422)
        return HTMLResponse("Invalid request", status_code=422)
