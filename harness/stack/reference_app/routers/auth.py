"""Sign in and out. Any account may sign in on any login page and lands on its role's home."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from harness.stack.reference_app.auth import COOKIE_MAX_AGE_S, COOKIE_NAME, Refusal, authenticate
from harness.stack.reference_app.deps import OptionalUser, State, end_supabase_session
from harness.stack.reference_app.routers.pages import render

router = APIRouter()

ROLES_BY_PATH = {"customer": "Customer", "mechanic": "Mechanic", "admin": "Admin"}


def _safe_next(next_url: str | None) -> str | None:
    """Only a local path: never an open redirect."""
    if next_url and next_url.startswith("/") and not next_url.startswith(("//", "/\\")):
        return next_url
    return None


def _login_page(role: str):  # type: ignore[no-untyped-def]
    async def show(request: Request, state: State, user: OptionalUser, next: str | None = None) -> Response:
        return render(
            state, request, "login.html", user, role=role, next=_safe_next(next), error=None, email=""
        )

    async def submit(
        request: Request,
        state: State,
        email: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str | None, Form()] = None,
    ) -> Response:
        async with state.pool.connection() as conn:
            user = await authenticate(conn, email, password)
        if isinstance(user, Refusal):
            return render(
                state,
                request,
                "login.html",
                None,
                status_code=user.status_code,
                role=role,
                next=_safe_next(next),
                error=user.message,
                email=email,
            )
        target = _safe_next(next) or state.ui.home(user.role)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE_NAME,
            state.cookies.dump(user.id),
            max_age=COOKIE_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    return show, submit


for _role in ROLES_BY_PATH:
    _show, _submit = _login_page(_role)
    router.add_api_route(f"/{_role}/login", _show, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"/{_role}/login", _submit, methods=["POST"], response_class=HTMLResponse)


@router.api_route("/logout", methods=["GET", "POST"])
async def logout(request: Request, state: State) -> Response:
    response = RedirectResponse(state.ui.login("customer"), status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    if (
        state.supabase
    ):  # and the Supabase session: ended, as Supabase Auth's sign-out ends it, and its cookies
        await end_supabase_session(state, request.cookies)
        for name in request.cookies:
            if name == state.supabase.cookie_name or name.startswith(state.supabase.cookie_name + "."):
                response.delete_cookie(name, path="/", samesite="lax")
    return response


@router.get("/")
async def home(state: State, user: OptionalUser) -> Response:
    return RedirectResponse(state.ui.home(user.role) if user else state.ui.login("customer"), status_code=303)
