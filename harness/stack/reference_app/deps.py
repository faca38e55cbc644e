"""FastAPI dependencies: the app's state, the signed-in user and role checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.templating import Jinja2Templates

from harness.stack.reference_app.auth import (
    COOKIE_NAME,
    SessionCookies,
    SupabaseSessions,
    User,
    load_supabase_user,
    load_user,
)
from harness.stack.reference_app.config import Config
from harness.stack.reference_app.db import Pool
from harness.stack.reference_app.payments import Payments
from harness.stack.reference_app.realtime import ChatHub
from harness.stack.reference_app.ui import UI


@dataclass
class AppState:
    """Everything a request needs; built by ``create_app``, stored on ``app.state.pitstop``."""

    config: Config
    pool: Pool
    cookies: SessionCookies
    supabase: SupabaseSessions | None  # when the app knows its Supabase project (SUPABASE_URL)
    payments: Payments
    hub: ChatHub
    templates: Jinja2Templates
    ui: UI  # the pages' paths and templates (APP_UI)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.pitstop
    return state


State = Annotated[AppState, Depends(get_state)]


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler redirects to the login page of ``role``."""

    def __init__(self, role: str, next_url: str) -> None:
        self.role = role
        self.next_url = next_url


class WrongRole(Exception):
    def __init__(self, user: User, needed: tuple[str, ...]) -> None:
        self.user = user
        self.needed = needed


async def current_user(state: AppState, cookies: Mapping[str, str]) -> User | None:
    """The signed-in user: by the app's own session cookie (its login form's), else by the
    Supabase session @supabase/ssr keeps in cookies."""
    user_id = state.cookies.load(cookies.get(COOKIE_NAME))
    if user_id is not None:
        async with state.pool.connection() as conn:
            return await load_user(conn, user_id)
    claims = state.supabase.claims(cookies) if state.supabase else None
    if claims is None:
        return None
    async with state.pool.connection() as conn:
        return await load_supabase_user(conn, claims)


async def end_supabase_session(state: AppState, cookies: Mapping[str, str]) -> None:
    """Sign the cookies' Supabase session out: its row goes, and its tokens with it."""
    claims = state.supabase.claims(cookies) if state.supabase else None
    if claims and claims.get("session_id"):
        async with state.pool.connection() as conn:
            await conn.execute("delete from auth.sessions where id = %s", (str(claims["session_id"]),))


async def optional_user(request: Request, state: State) -> User | None:
    return await current_user(state, request.cookies)


# WebSocket close codes (4000-4999 are the application's): like HTTP 401/403/404.
WS_UNAUTHORIZED = 4401
WS_FORBIDDEN = 4403
WS_NOT_FOUND = 4404


async def accepted_user(websocket: WebSocket) -> User | None:
    """Accept the socket and return its signed-in user; without one, close it (4401) and return None.

    Accepting first makes a refusal reach the client as a close code, not a failed handshake.
    """
    await websocket.accept()
    state: AppState = websocket.app.state.pitstop
    user = await current_user(state, websocket.cookies)
    if user is None:
        await websocket.close(WS_UNAUTHORIZED, "sign in first")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def require_role(*roles: str) -> Any:
    """A dependency: the signed-in user, who must have one of ``roles``.

    Pages send an anonymous visitor to the login page and answer a wrong role
    with 403; JSON endpoints answer 401 and 403.
    """

    async def dependency(request: Request, user: OptionalUser) -> User:
        if user is None:
            if _is_api(request):
                raise HTTPException(401, "sign in first")
            raise LoginRequired(
                roles[0], request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
        if user.role not in roles:
            if _is_api(request):
                raise HTTPException(403, f"this needs a {' or '.join(roles)} account")
            raise WrongRole(user, roles)
        return user

    return Depends(dependency)


def login_url(ui: UI, role: str, next_url: str | None = None) -> str:
    path = ui.login(role)
    return f"{path}?next={quote(next_url)}" if next_url else path


Customer = Annotated[User, require_role("customer")]
Mechanic = Annotated[User, require_role("mechanic")]
Admin = Annotated[User, require_role("admin")]
AnyUser = Annotated[User, require_role("customer", "mechanic", "admin")]
