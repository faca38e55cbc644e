"""The front: the Checkout Sessions, the webhook endpoints and the way to localstripe; API keys."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from harness.stack.stripe_front.hosted_page import _closed_page, _payment_page, _read_card
from harness.stack.stripe_front.objects import (
    DECLINED_CARDS,
    DEFAULT_EXPIRY_S,
    MAX_AMOUNT,
    MAX_QUANTITY,
    MIN_AMOUNTS,
    MIN_EXPIRY_S,
    RECURRING_IN_PAYMENT_MODE,
    CardRefused,
    Endpoint,
    LineItem,
    Session,
    _Draft,
)
from harness.stack.stripe_front.params import (
    ApiError,
    _expand,
    _integer,
    _metadata,
    _missing,
    _money,
    _no_such,
    _object,
    _random,
    _string,
    _unknown,
    _url,
    parse_params,
)
from harness.store.safety import LIVE_KEY_PREFIXES
from harness.stripe_wire import REQUEST_TIMEOUT_S, signature_header, stripe_event

log = logging.getLogger("pitstop.stripe_front")
HOST = "127.0.0.1"
# A request forwarded to localstripe gives up after this long (its clients have their own timeouts).
FORWARD_TIMEOUT_S = 30.0
SHUTDOWN_WAIT_S = 3.0
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
CREATE_PARAMS = frozenset(
    {
        "mode", "line_items", "metadata", "client_reference_id", "customer_email", "success_url",
        "cancel_url", "expires_at", "payment_method_types", "payment_intent_data", "ui_mode", "locale",
        "expand",
    }
)  # fmt: skip
HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding", "content-encoding",
        "date", "server",
    }
)  # fmt: skip


# -- the front ---------------------------------------------------------------------------------------


class Front:
    """The Checkout Sessions, the webhook endpoints and the way to localstripe."""

    def __init__(self, localstripe: str, public_base: str) -> None:
        self.localstripe = localstripe.rstrip("/")
        self.public_base = public_base.rstrip("/")
        self.sessions: dict[str, Session] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.events: dict[tuple[str, str], dict[str, Any]] = {}  # (type, session id) -> the last sent
        self.http = httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, follow_redirects=False)
        self._deliveries: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """At shutdown: let deliveries under way finish (briefly: the stack stops parts within seconds)."""
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=SHUTDOWN_WAIT_S)
        await self.http.aclose()

    # -- the API -------------------------------------------------------------------------------------

    async def create(self, key: str, params: dict[str, Any]) -> dict[str, Any]:
        expand = _expand(params, frozenset({"payment_intent", "line_items"}))
        for name in params:
            if name not in CREATE_PARAMS:
                raise _unknown(name)
        mode = params.get("mode")
        if mode is None:
            raise _missing("mode")
        if mode != "payment":
            raise ApiError(400, f"The embedded Stripe supports mode=payment only, not {mode!r}", param="mode")
        if params.get("ui_mode", "hosted") != "hosted":
            raise ApiError(400, "The embedded Stripe supports ui_mode=hosted only", param="ui_mode")
        methods = params.get("payment_method_types", ["card"])
        if methods != ["card"]:
            raise ApiError(
                400,
                "The embedded Stripe takes cards only: payment_method_types=[card]",
                param="payment_method_types",
            )
        intent_data = _object(params.get("payment_intent_data", {}), "payment_intent_data")
        for name in intent_data:
            if name != "metadata":
                raise _unknown(f"payment_intent_data[{name}]")
        created = int(time.time())
        expires_at = created + DEFAULT_EXPIRY_S
        if "expires_at" in params:
            expires_at = _integer(params["expires_at"], "expires_at", minimum=0)
            if expires_at < created + MIN_EXPIRY_S:
                raise ApiError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    param="expires_at",
                )
            if expires_at > created + DEFAULT_EXPIRY_S:
                raise ApiError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    param="expires_at",
                )
        email = None
        if params.get("customer_email"):
            email = _string(params["customer_email"], "customer_email", max_length=800)
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ApiError(400, f"Invalid email address: {email}", param="customer_email")
        reference = params.get("client_reference_id") or None
        if reference is not None:
            reference = _string(reference, "client_reference_id", max_length=200)
        success_url = _url(params["success_url"], "success_url") if params.get("success_url") else None
        cancel_url = _url(params["cancel_url"], "cancel_url") if params.get("cancel_url") else None
        locale = _string(params["locale"], "locale", max_length=10) if params.get("locale") else None
        metadata = _metadata(params.get("metadata", {}), "metadata")
        intent_metadata = _metadata(intent_data.get("metadata", {}), "payment_intent_data[metadata]")
        drafts = await self._drafts(key, params.get("line_items"))
        currencies = {draft.currency for draft in drafts}
        if len(currencies) > 1:
            raise ApiError(400, "All line items must have the same currency.", param="line_items")
        currency = currencies.pop()
        total = sum(draft.unit_amount * draft.quantity for draft in drafts)
        minimum = MIN_AMOUNTS.get(currency, 1)
        if total < minimum:
            raise ApiError(
                400,
                "The Checkout Session's total amount due must add up to at least "
                f"{_money(minimum, currency)} {currency}",
                param="line_items",
            )
        if total > MAX_AMOUNT:
            raise ApiError(
                400,
                f"The Checkout Session's total amount due must be no more than "
                f"{_money(MAX_AMOUNT, currency)}",
                param="line_items",
            )
        items = await self._line_items(key, drafts)  # all checked: now the products, if any, are made
        session_id = _random("cs_test_a1", 56)
        session = Session(
            id=session_id,
            api_key=key,
            url=f"{self.public_base}/c/pay/{session_id}",
            created=created,
            expires_at=expires_at,
            currency=currency,
            line_items=items,
            metadata=metadata,
            intent_metadata=intent_metadata,  # as Stripe: the session's own metadata stays on the session
            client_reference_id=reference,
            customer_email=email,
            success_url=success_url,
            cancel_url=cancel_url,
            locale=locale,
        )
        self.sessions[session.id] = session
        log.info("checkout session %s created: %s", session.id, _money(total, currency))
        return await self._export(session, expand)

    async def _drafts(self, key: str, value: Any) -> list[_Draft]:
        if value is None or value == "":
            raise _missing("line_items")
        if not isinstance(value, list) or not value:
            raise ApiError(400, "Invalid array: line_items must be a list of line items", param="line_items")
        if len(value) > 100:
            raise ApiError(400, "You may only specify up to 100 line items.", param="line_items")
        return [await self._draft(key, f"line_items[{i}]", raw) for i, raw in enumerate(value)]

    async def _line_items(self, key: str, drafts: list[_Draft]) -> list[LineItem]:
        items = []
        for draft in drafts:
            product_id = draft.product_id
            if product_id is None:  # Stripe makes the product; so does localstripe
                product_id = str((await self._localstripe("POST", "/v1/products", key, draft.product))["id"])
            items.append(
                LineItem(
                    _random("li_"),
                    draft.name,
                    draft.unit_amount,
                    draft.currency,
                    draft.quantity,
                    _random("price_"),
                    product_id,
                )
            )
        return items

    async def _draft(self, key: str, where: str, raw: Any) -> _Draft:
        """One line item, checked: ``price`` (looked up) or ``price_data``, and ``quantity``."""
        line = _object(raw, where)
        for name in line:
            if name not in ("price", "price_data", "quantity"):
                raise _unknown(f"{where}[{name}]")
        if ("price" in line) == ("price_data" in line):
            raise ApiError(400, f"You must specify either `price` or `price_data` in `{where}`.", param=where)
        if "quantity" not in line:
            raise _missing(f"{where}[quantity]")
        quantity = _integer(line["quantity"], f"{where}[quantity]", minimum=1, maximum=MAX_QUANTITY)
        if "price" in line:
            name, unit_amount, currency, product_id = await self._price(key, line["price"], f"{where}[price]")
            return _Draft(name, unit_amount, currency, quantity, product_id)
        where = f"{where}[price_data]"
        data = _object(line["price_data"], where)
        for name in data:
            if name == "recurring":
                raise ApiError(400, RECURRING_IN_PAYMENT_MODE, param=f"{where}[recurring]")
            if name not in ("currency", "unit_amount", "product", "product_data"):
                raise _unknown(f"{where}[{name}]")
        for name in ("currency", "unit_amount"):
            if name not in data:
                raise _missing(f"{where}[{name}]")
        currency = _string(data["currency"], f"{where}[currency]").lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise ApiError(400, f"Invalid currency: {currency}", param=f"{where}[currency]")
        unit_amount = _integer(data["unit_amount"], f"{where}[unit_amount]", minimum=0)
        if ("product" in data) == ("product_data" in data):
            raise ApiError(
                400, f"You must specify either `product` or `product_data` in `{where}`.", param=where
            )
        if "product" in data:
            product_id = _string(data["product"], f"{where}[product]")
            name = await self._product_name(key, product_id, f"{where}[product]")
            return _Draft(name, unit_amount, currency, quantity, product_id)
        where = f"{where}[product_data]"
        product_data = _object(data["product_data"], where)
        for name in product_data:
            if name not in ("name", "description", "metadata"):
                raise _unknown(f"{where}[{name}]")
        if not product_data.get("name"):
            raise _missing(f"{where}[name]")
        product: dict[str, Any] = {"name": _string(product_data["name"], f"{where}[name]", max_length=250)}
        if product_data.get("description"):
            product["description"] = _string(product_data["description"], f"{where}[description]")
        if "metadata" in product_data:
            product["metadata"] = _metadata(product_data["metadata"], f"{where}[metadata]")
        return _Draft(product["name"], unit_amount, currency, quantity, None, product)

    async def _price(self, key: str, value: Any, param: str) -> tuple[str, int, str, str]:
        price_id = _string(value, param)
        try:
            price = await self._localstripe("GET", f"/v1/prices/{price_id}", key)
        except ApiError:
            price = {}
        if price.get("object") != "price":  # localstripe has no Prices API: never found there
            raise _no_such("price", price_id, param)
        if price.get("type") == "recurring" or price.get("recurring"):
            raise ApiError(400, RECURRING_IN_PAYMENT_MODE, param=param)
        product_id = str(price.get("product"))
        return (
            await self._product_name(key, product_id, param),
            int(price["unit_amount"]),
            str(price["currency"]),
            product_id,
        )

    async def _product_name(self, key: str, product_id: str, param: str) -> str:
        try:
            product = await self._localstripe("GET", f"/v1/products/{product_id}", key)
        except ApiError as exc:
            if exc.status == 404:
                raise _no_such("product", product_id, param) from None
            raise
        return str(product.get("name") or product_id)

    async def retrieve(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        expand = _expand(params, frozenset({"payment_intent", "line_items"}))
        for name in params:
            raise _unknown(name)
        return await self._export(self._session(session_id), expand)

    async def list_sessions(self, params: dict[str, Any]) -> dict[str, Any]:
        expand = _expand(params, frozenset({"data.payment_intent", "data.line_items"}))
        for name in params:
            if name not in ("limit", "starting_after", "ending_before", "payment_intent", "status"):
                raise _unknown(name)
        limit = _integer(params.get("limit", "10"), "limit", minimum=1, maximum=100)
        if params.get("status") not in (None, "open", "complete", "expired"):
            raise ApiError(400, "Invalid status: must be one of open, complete, or expired", param="status")
        for session in self.sessions.values():
            self.expire_if_due(session)
        ordered = [
            s
            for s in reversed(self.sessions.values())
            if params.get("payment_intent") in (None, s.payment_intent)
            and params.get("status") in (None, s.status)
        ]
        ids = [s.id for s in ordered]
        if params.get("starting_after"):
            if params["starting_after"] not in ids:
                raise _no_such("checkout.session", str(params["starting_after"]), "starting_after")
            start = ids.index(params["starting_after"]) + 1
            page, has_more = ordered[start : start + limit], len(ordered) > start + limit
        elif params.get("ending_before"):
            if params["ending_before"] not in ids:
                raise _no_such("checkout.session", str(params["ending_before"]), "ending_before")
            end = ids.index(params["ending_before"])
            page, has_more = ordered[max(0, end - limit) : end], end - limit > 0
        else:
            page, has_more = ordered[:limit], len(ordered) > limit
        inner = [path.removeprefix("data.") for path in expand]
        return {
            "object": "list",
            "data": [await self._export(s, inner) for s in page],
            "has_more": has_more,
            "url": "/v1/checkout/sessions",
        }

    async def expire(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        expand = _expand(params, frozenset({"payment_intent", "line_items"}))
        for name in params:
            raise _unknown(name)
        session = self._session(session_id)
        async with session.lock:
            if session.status != "open":
                raise ApiError(
                    400,
                    'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                    f'Session has a status of "{session.status}".',
                    param="session",
                )
            self._expire(session)
        return await self._export(session, expand)

    def line_items(self, session_id: str, params: dict[str, Any]) -> dict[str, Any]:
        for name in params:
            if name not in ("limit", "starting_after", "ending_before"):
                raise _unknown(name)
        return self._session(session_id).line_items_list()

    def _session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise _no_such("checkout.session", session_id, "session", status=404)
        self.expire_if_due(session)
        return session

    async def _export(self, session: Session, expand: list[str]) -> dict[str, Any]:
        data = session.export()
        if "line_items" in expand:
            data["line_items"] = session.line_items_list()
        if "payment_intent" in expand and session.payment_intent:
            data["payment_intent"] = await self._localstripe(
                "GET", f"/v1/payment_intents/{session.payment_intent}", session.api_key
            )
        return data

    # -- expiry and events ----------------------------------------------------------------------------

    def expire_if_due(self, session: Session) -> None:
        """Expire an open session past its ``expires_at`` (not while it is being paid)."""
        if session.status == "open" and time.time() >= session.expires_at and not session.lock.locked():
            self._expire(session)

    def _expire(self, session: Session) -> None:
        session.status = "expired"
        log.info("checkout session %s expired", session.id)
        self._emit("checkout.session.expired", session)

    def _emit(self, event_type: str, session: Session) -> None:
        """Send the event to every endpoint that wants it, starting now, without waiting for it."""
        event = stripe_event(
            event_type,
            session.export(),
            event_id=_random("evt_"),
            pending_webhooks=sum(e.wants(event_type) for e in self.endpoints.values()),
        )
        self.events[(event_type, session.id)] = event
        task = asyncio.get_running_loop().create_task(self._deliver(event))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event, indent=2).encode()
        targets = [e for e in self.endpoints.values() if e.wants(event["type"])]
        await asyncio.gather(*(self._post_event(event["type"], payload, e) for e in targets))

    async def _post_event(self, event_type: str, payload: bytes, endpoint: Endpoint) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(payload, endpoint.secret),
        }
        try:
            answer = await self.http.post(endpoint.url, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("webhook %s to %s failed: %s", event_type, endpoint.url, exc or type(exc).__name__)
            return
        log.info("webhook %s to %s: %d", event_type, endpoint.url, answer.status_code)

    # -- the hosted page ------------------------------------------------------------------------------

    async def pay(self, session: Session, form: dict[str, str]) -> Response:
        async with session.lock:
            if session.status == "open" and time.time() >= session.expires_at:
                self._expire(session)
            if session.status != "open":
                return _closed_page(session, status=410 if session.status == "expired" else 409)
            email = session.customer_email or form.get("email", "").strip()
            try:
                card = _read_card(form, email)
            except CardRefused as incomplete:
                return _payment_page(session, form, error=str(incomplete), status=400)
            try:
                intent = await self._charge(session, card, email)
            except CardRefused as refused:
                return _payment_page(session, form, error=str(refused), status=402)
            session.status, session.payment_status, session.payment_intent = "complete", "paid", intent
            session.customer_details = {
                "address": {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": card["postal_code"],
                    "state": None,
                },
                "email": email,
                "name": card["name"],
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            }
            log.info("checkout session %s paid: %s", session.id, intent)
            self._emit("checkout.session.completed", session)
        if session.success_url is None:
            return _closed_page(session, status=200)
        return RedirectResponse(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id), 303)

    async def _charge(self, session: Session, card: dict[str, str], email: str) -> str:
        """Create and confirm a PaymentIntent in localstripe; its id, or CardRefused with Stripe's message."""
        declined = DECLINED_CARDS.get(card["number"])
        if declined:
            log.info("checkout session %s: card declined (%s)", session.id, declined[0])
            raise CardRefused(declined[1])
        try:
            method = await self._localstripe(
                "POST",
                "/v1/payment_methods",
                session.api_key,
                {
                    "type": "card",
                    "card": {k: card[k] for k in ("number", "exp_month", "exp_year", "cvc")},
                    "billing_details": {
                        "email": email,
                        "name": card["name"],
                        "address": {"postal_code": card["postal_code"]},
                    },
                },
            )
            intent = await self._localstripe(
                "POST",
                "/v1/payment_intents",
                session.api_key,
                {
                    "amount": session.amount_total,
                    "currency": session.currency,
                    "payment_method": method["id"],
                    "metadata": session.intent_metadata,
                    "confirm": True,
                },
            )
        except ApiError as exc:
            if exc.status == 402:  # localstripe declined it (e.g. 4000 0000 0000 0341)
                raise CardRefused(exc.message) from None
            raise CardRefused(f"The payment could not be made: {exc.message}") from None
        if intent.get("status") == "requires_action":
            with contextlib.suppress(ApiError):
                await self._localstripe("POST", f"/v1/payment_intents/{intent['id']}/cancel", session.api_key)
            raise CardRefused(
                "This card needs 3D Secure authentication, which the embedded Stripe's Checkout page "
                "does not offer. Use a card without authentication, such as 4242 4242 4242 4242."
            )
        if intent.get("status") != "succeeded":
            raise CardRefused(f"The payment ended {intent.get('status')}, not succeeded.")
        return str(intent["id"])

    async def _localstripe(
        self, method: str, path: str, key: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A call to localstripe's own API (JSON, which it reads); its errors as ApiError."""
        try:
            answer = await self.http.request(
                method,
                self.localstripe + path,
                headers={"Authorization": f"Bearer {key}"},
                content=json.dumps(body).encode() if body is not None else None,
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                502,
                f"localstripe at {self.localstripe} did not answer: {exc or type(exc).__name__}",
                kind="api_error",
            ) from None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code >= 400 or not isinstance(data, dict):
            error = data.get("error") if isinstance(data, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise ApiError(answer.status_code, str(message or answer.text.strip() or answer.status_code))
        return data

    # -- passing requests on to localstripe -----------------------------------------------------------

    async def forward(self, request: Request, body: bytes | None = None) -> Response:
        if request.url.path.startswith("/v1/"):
            _refuse_live_key(request)
        target = self.localstripe + request.url.path
        if request.url.query:
            target += "?" + request.url.query
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        try:
            answer = await self.http.request(
                request.method,
                target,
                headers=headers,
                content=await request.body() if body is None else body,
                timeout=FORWARD_TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                502,
                f"localstripe at {self.localstripe} did not answer: {exc or type(exc).__name__}",
                kind="api_error",
            ) from None
        json_answer = "json" in answer.headers.get("content-type", "")
        if request.url.path.startswith("/v1/") and answer.status_code in (404, 405) and not json_answer:
            raise ApiError(  # as Stripe answers a URL it does not know, so the library says what happened
                404,
                f"Unrecognized request URL ({request.method}: {request.url.path}): the embedded Stripe "
                "(localstripe) does not implement it.",
            )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    async def register_webhook(self, request: Request) -> Response:
        """localstripe's ``POST /_config/webhooks/<name>``: passed on, and recorded if localstripe took it."""
        body = await request.body()
        answer = await self.forward(request, body)
        if 200 <= answer.status_code < 300:
            if "json" in request.headers.get("content-type", ""):
                data = json.loads(body)
            else:
                data = parse_params(parse_qsl(body.decode(), keep_blank_values=True))
            events = data.get("events")
            name = request.path_params["name"]
            self.endpoints[name] = Endpoint(
                str(data["url"]), str(data["secret"]), tuple(events) if events is not None else None
            )
            log.info("webhook endpoint %s: %s (events: %s)", name, data["url"], events or "all")
        return answer


# -- keys ------------------------------------------------------------------------------------------------


def _key_in(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def _redacted(key: str) -> str:
    return key[:8] + "*" * 4 + key[-4:] if len(key) > 12 else key[:8] + "****"


def _refuse_live_key(request: Request) -> None:
    key = _key_in(request)
    if key and key.startswith(LIVE_KEY_PREFIXES):
        raise ApiError(
            401,
            f"The embedded Stripe refuses live keys ({_redacted(key)}): it is for tests. Use a test key "
            "(sk_test_...).",
        )


def _test_key(request: Request) -> str:
    _refuse_live_key(request)
    key = _key_in(request)
    if key is None:
        raise ApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    if not key.startswith(TEST_KEY_PREFIXES) or len(key) <= len("sk_test_"):
        raise ApiError(401, f"Invalid API Key provided: {_redacted(key)}")
    return key
