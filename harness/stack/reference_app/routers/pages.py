"""Rendering helpers shared by the page routers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from harness.stack.reference_app.auth import User
from harness.stack.reference_app.deps import AppState


def render(
    state: AppState,
    request: Request,
    template: str,
    user: User | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return state.templates.TemplateResponse(
        request,
        template,
        {"user": user, "config": state.config, **context},
        status_code=status_code,
    )
