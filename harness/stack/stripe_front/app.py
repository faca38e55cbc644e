"""The front's ASGI application and its command line (``python -m harness.stack.stripe_front``)."""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.stack.stripe_front.front import HOST, Front, _test_key
from harness.stack.stripe_front.hosted_page import _closed_page, _document, _payment_page
from harness.stack.stripe_front.params import ApiError, parse_params
from harness.store.safety import is_loopback

# -- the application -------------------------------------------------------------------------------------


async def _params(request: Request) -> dict[str, Any]:
    """The request's parameters: the query string, and the form-encoded body of a POST."""
    pairs = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method == "POST":
        body = (await request.body()).decode(errors="replace")
        if body.lstrip().startswith("{"):
            raise ApiError(400, "Invalid request: the Stripe API takes form-encoded parameters, not JSON.")
        pairs += parse_qsl(body, keep_blank_values=True)
    return parse_params(pairs)


def create_app(localstripe: str, public_base: str) -> Starlette:
    """The front's ASGI application: Checkout here, the rest passed on to ``localstripe``."""
    front = Front(localstripe, public_base)

    async def create(request: Request) -> Response:
        key = _test_key(request)
        return JSONResponse(await front.create(key, await _params(request)))

    async def list_sessions(request: Request) -> Response:
        _test_key(request)
        return JSONResponse(await front.list_sessions(await _params(request)))

    async def retrieve(request: Request) -> Response:
        _test_key(request)
        return JSONResponse(await front.retrieve(request.path_params["id"], await _params(request)))

    async def expire(request: Request) -> Response:
        _test_key(request)
        return JSONResponse(await front.expire(request.path_params["id"], await _params(request)))

    async def line_items(request: Request) -> Response:
        _test_key(request)
        return JSONResponse(front.line_items(request.path_params["id"], await _params(request)))

    async def sent_event(request: Request) -> Response:
        _test_key(request)
        object_id, event_type = request.path_params["id"], request.query_params.get("type", "")
        event = front.events.get((event_type, object_id))
        if event is None:  # not a Checkout Session's: localstripe's own events, indexed there
            return await front.forward(request)
        return JSONResponse(event)

    async def unrecognized(request: Request) -> Response:
        _test_key(request)
        raise ApiError(
            404,
            f"Unrecognized request URL ({request.method}: {request.url.path}). The embedded Stripe's "
            "Checkout serves: create, retrieve, list and expire sessions, and list their line items.",
        )

    async def page(request: Request) -> Response:
        session = front.sessions.get(request.path_params["id"])
        if session is None:
            body = "<section><h1>No such Checkout Session</h1><p>Check the link you followed.</p></section>"
            return _document("No such Checkout Session", body, 404)
        if request.method == "GET":
            front.expire_if_due(session)
            if session.status != "open":
                return _closed_page(session, status=410 if session.status == "expired" else 200)
            return _payment_page(session, {})
        body = (await request.body()).decode(errors="replace")
        return await front.pay(session, dict(parse_qsl(body, keep_blank_values=True)))

    async def register_webhook(request: Request) -> Response:
        return await front.register_webhook(request)

    async def flush(request: Request) -> Response:
        answer = await front.forward(request)
        if 200 <= answer.status_code < 300:
            front.sessions.clear()
            front.events.clear()
        return answer

    async def forward(request: Request) -> Response:
        return await front.forward(request)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await front.close()

    every = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    routes = [
        Route("/v1/checkout/sessions", create, methods=["POST"]),
        Route("/v1/checkout/sessions", list_sessions, methods=["GET"]),
        Route("/v1/checkout/sessions/{id}", retrieve, methods=["GET"]),
        Route("/v1/checkout/sessions/{id}/expire", expire, methods=["POST"]),
        Route("/v1/checkout/sessions/{id}/line_items", line_items, methods=["GET"]),
        Route("/v1/checkout/{rest:path}", unrecognized, methods=every),
        Route("/v1/checkout", unrecognized, methods=every),
        Route("/c/pay/{id}", page, methods=["GET", "POST"]),
        Route("/_config/webhooks/{name}", register_webhook, methods=["POST"]),
        Route("/_pitstop/events/{id}", sent_event, methods=["GET"]),
        Route("/_config/data", flush, methods=["DELETE"]),
        Route("/{path:path}", forward, methods=every),
    ]
    app = Starlette(routes=routes, exception_handlers={ApiError: api_error}, lifespan=lifespan)
    app.state.front = front
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m harness.stack.stripe_front",
        description="The embedded Stripe's API base: Checkout Sessions here, the rest from localstripe.",
    )
    parser.add_argument("--port", type=int, required=True, help="the port to serve on, on 127.0.0.1")
    parser.add_argument(
        "--localstripe", required=True, help="localstripe's own base, e.g. http://127.0.0.1:8420"
    )
    args = parser.parse_args(argv)
    host = urlsplit(args.localstripe).hostname
    if not host or not is_loopback(host):
        parser.error(f"--localstripe must be on loopback (127.0.0.1), not {args.localstripe}")
    logging.basicConfig(level=logging.INFO, format="stripe_front: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    uvicorn.run(
        create_app(args.localstripe, f"http://{HOST}:{args.port}"),
        host=HOST,
        port=args.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
