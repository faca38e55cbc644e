"""The embedded Stripe's front: Checkout Sessions beside localstripe, on one API base.

``python -m harness.stripe_front --port N --localstripe URL`` serves, on
127.0.0.1:N, the Stripe API base that the embedded stack hands to the app and
the harness:

- ``/v1/checkout/sessions`` (create, retrieve, list, expire, line items), the
  Checkout Session API that localstripe does not implement, answered here as
  Stripe answers (form-encoded parameters, objects and errors in Stripe's
  shape), so the official ``stripe`` library works unchanged;
- ``/c/pay/<session id>``: the session's hosted payment page (email, card
  number, expiry, CVC, cardholder name, postal code; labelled and named like
  Stripe's hosted page), which pays by creating and confirming a
  PaymentIntent in localstripe;
- ``POST /_config/webhooks/<name>``: localstripe's webhook registration,
  recorded here and passed on, so that localstripe's events and the Checkout
  events go to the same endpoints, each with its ``events`` filter;
- ``GET /_pitstop/events/<object id>?type=<event type>``: the last event of
  that type sent for that object, as it was sent (a test sends it again to
  show the app takes it once), found by the object: not Stripe's API. A
  Checkout Session's events are answered here; any other object's are looked
  up in localstripe (``harness.localstripe_run`` indexes them);
- everything else (``/v1/payment_intents``, ``/js.stripe.com/v3/``, …) is
  forwarded to localstripe unchanged.

Why a front and not a second server: the ``stripe`` library (and an app using
it) has one API base, so one address must answer both the Checkout API and
everything localstripe answers. localstripe (GPL-3.0) runs unmodified as its
own process; this module never imports it. State is in memory, as
localstripe's is. Live keys are refused on every ``/v1`` path.

Stripe's behaviour kept here: ``{CHECKOUT_SESSION_ID}`` in ``success_url`` is
replaced on the 303 redirect after paying; ``url`` is null once a session is
no longer open; ``payment_intent`` is null until paid; a session expires 24
hours after creation unless ``expires_at`` says otherwise (30 minutes to 24
hours); ``checkout.session.completed`` and ``checkout.session.expired`` are
sent signed as Stripe signs (``harness.payments.signature_header``), right
away, each endpoint once, each delivery bounded by a timeout; Stripe's
documented test cards decline with Stripe's messages (4000 0000 0000 0002:
"Your card was declined.").

Where it differs from Stripe, on purpose or for want of localstripe support:

- the PaymentIntent gets ``payment_intent_data[metadata]`` only, as on
  Stripe: the session's own ``metadata`` stays on the session;
- ``line_items[][price]`` is looked up in localstripe, which has no Prices API:
  every Price id is "No such price"; use ``price_data``;
- only ``mode=payment`` and cards; no customers, discounts, taxes, shipping,
  subscriptions, 3D Secure (a card that needs it is refused on the page) or
  embedded ``ui_mode``; unknown parameters are refused, as Stripe refuses them;
- a declined attempt leaves no failed PaymentIntent behind for the cards the
  front declines itself (localstripe declines them only when attaching);
- webhook deliveries are not retried and the events are not listed by
  ``/v1/events`` (localstripe's): ``/_pitstop/events`` finds one by its
  session; a session past its ``expires_at`` is expired when it is next
  looked at.

Not exercised here: Stripe's real hosted Checkout page (``checkout.stripe.com``)
and live Stripe are not reachable from this machine, so nothing here shows that
Stripe's page or API behaves exactly so; this front follows Stripe's
documentation.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import html
import json
import logging
import re
import secrets
import string
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from harness.payments import REQUEST_TIMEOUT_S, signature_header, stripe_event
from harness.safety import LIVE_KEY_PREFIXES, is_loopback

log = logging.getLogger("pitstop.stripe_front")

HOST = "127.0.0.1"
# A request forwarded to localstripe gives up after this long (its clients have their own timeouts).
FORWARD_TIMEOUT_S = 30.0
SHUTDOWN_WAIT_S = 3.0
DEFAULT_EXPIRY_S = 24 * 3600
MIN_EXPIRY_S = 30 * 60
TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
MAX_AMOUNT = 99_999_999
MAX_QUANTITY = 999_999
# Stripe's minimum charge amounts, for the currencies most used; others need more than 0.
MIN_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "nzd": 50, "jpy": 50}
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
# Stripe's test cards that decline when charged (docs.stripe.com/testing#declined-payments):
# number -> (decline code, Stripe's message). localstripe declines these only when a card is
# attached to a customer, so the front declines them itself, before any PaymentIntent.
DECLINED_CARDS = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("lost_card", "Your card was declined."),
    "4000000000009979": ("stolen_card", "Your card was declined."),
    "4100000000000019": ("fraudulent", "Your card was declined."),
    "4000000000000069": ("expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
RECURRING_IN_PAYMENT_MODE = (
    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or "
    "use only one-time prices."
)
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


class ApiError(Exception):
    """An answer in Stripe's error shape: ``{"error": {"type", "message", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        return JSONResponse({"error": error}, status_code=self.status)


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def _unknown(param: str) -> ApiError:
    return ApiError(400, f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def _no_such(kind: str, value: str, param: str, status: int = 400) -> ApiError:
    return ApiError(status, f"No such {kind}: '{value}'", param=param, code="resource_missing")


# -- parameters, as the stripe library encodes them -------------------------------------------------

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs to a tree: ``line_items[0][price_data][unit_amount]=5`` nests; ``a[]``, ``a[0]`` list."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.fullmatch(key)
        if match is None:
            raise ApiError(400, f"Invalid parameter name: {key}", param=key)
        parts = [match[1], *_PART.findall(match[2])]
        node = root
        for depth, part in enumerate(parts):
            name = part or str(len(node))
            if depth == len(parts) - 1:
                node[name] = value
                continue
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise ApiError(400, f"Invalid parameter: {key} is both a value and an object", param=key)
            node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _object(value: Any, param: str) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid object: {param} must be a hash", param=param)
    return value


def _string(value: Any, param: str, *, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid string: {param} must be a string", param=param)
    if len(value) > max_length:
        raise ApiError(
            400, f"Invalid string: {value[:40]}...; must be at most {max_length} characters", param=param
        )
    return value


def _integer(value: Any, param: str, *, minimum: int, maximum: int | None = None) -> int:
    text = _string(value, param)
    if not re.fullmatch(r"-?\d+", text):
        raise ApiError(400, f"Invalid integer: {text}", param=param)
    number = int(text)
    if number < minimum:
        raise ApiError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    if maximum is not None and number > maximum:
        raise ApiError(400, f"This value must be less than or equal to {maximum}.", param=param)
    return number


def _url(value: Any, param: str) -> str:
    text = _string(value, param, max_length=5000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(400, "Not a valid URL", param=param, code="url_invalid")
    return text


def _metadata(value: Any, param: str) -> dict[str, str]:
    metadata = _object(value, param)
    if len(metadata) > 50:
        raise ApiError(400, "Metadata can have up to 50 keys.", param=param)
    out: dict[str, str] = {}
    for key, item in metadata.items():
        if len(key) > 40:
            raise ApiError(
                400, f"Metadata keys can be up to 40 characters long: {key}", param=f"{param}[{key}]"
            )
        text = _string(item, f"{param}[{key}]", max_length=500)
        if text:  # an empty value unsets the key, as in Stripe
            out[key] = text
    return out


def _expand(params: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    value = params.pop("expand", [])
    paths = value if isinstance(value, list) else [value]
    for path in paths:
        if path not in allowed:
            raise ApiError(400, f"This property cannot be expanded ({path}).", param="expand")
    return [str(p) for p in paths]


def _random(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _money(amount: int, currency: str) -> str:
    value = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


# -- the objects -------------------------------------------------------------------------------------


@dataclass
class LineItem:
    id: str
    name: str
    unit_amount: int
    currency: str
    quantity: int
    price_id: str
    product_id: str

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity

    def export(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": self.amount,
            "amount_tax": 0,
            "amount_total": self.amount,
            "currency": self.currency,
            "description": self.name,
            "price": {
                "id": self.price_id,
                "object": "price",
                "active": False,
                "currency": self.currency,
                "livemode": False,
                "product": self.product_id,
                "type": "one_time",
                "unit_amount": self.unit_amount,
            },
            "quantity": self.quantity,
        }


@dataclass(frozen=True)
class _Draft:
    """A line item checked, before its product exists: ``product`` is what to create, if no id."""

    name: str
    unit_amount: int
    currency: str
    quantity: int
    product_id: str | None
    product: dict[str, Any] = field(default_factory=dict)


@dataclass
class Session:
    id: str
    api_key: str
    url: str  # the hosted page; the object shows it only while the session is open
    created: int
    expires_at: int
    currency: str
    line_items: list[LineItem]
    metadata: dict[str, str]
    intent_metadata: dict[str, str]
    client_reference_id: str | None
    customer_email: str | None
    success_url: str | None
    cancel_url: str | None
    locale: str | None
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    customer_details: dict[str, Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def amount_total(self) -> int:
        return sum(item.amount for item in self.line_items)

    def export(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "livemode": False,
            "locale": self.locale,
            "metadata": dict(self.metadata),
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "status": self.status,
            "success_url": self.success_url,
            "ui_mode": "hosted",
            "url": self.url if self.status == "open" else None,
        }

    def line_items_list(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [item.export() for item in self.line_items],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{self.id}/line_items",
        }


@dataclass(frozen=True)
class Endpoint:
    """A webhook endpoint as registered with localstripe: ``events`` None means every event."""

    url: str
    secret: str
    events: tuple[str, ...] | None

    def wants(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events or "*" in self.events


class CardRefused(Exception):
    """The payment page's answer to a card: Stripe's message, shown on the page."""


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


# -- the hosted page -------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }
main { max-width: 880px; margin: 2rem auto; display: flex; flex-wrap: wrap; gap: 2rem; padding: 0 1rem; }
section, form { flex: 1 1 320px; }
.amount { font-size: 2rem; font-weight: 600; margin: .25rem 0 1rem; }
label { display: block; font-size: .875rem; margin: .75rem 0 .25rem; }
input { box-sizing: border-box; width: 100%; padding: .6rem; border: 1px solid #c9d1dc; border-radius: 6px;
        font-size: 1rem; }
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-size: .875rem; margin-top: .75rem; }
.row { display: flex; gap: .5rem; } .row > div { flex: 1; }
button { width: 100%; margin-top: 1.25rem; padding: .8rem; border: 0; border-radius: 6px; background: #0570de;
         color: #fff; font-size: 1rem; font-weight: 600; cursor: pointer; }
.error { color: #df1b41; } .note { color: #697386; font-size: .75rem; }
"""


def _document(title: str, body: str, status: int) -> HTMLResponse:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _summary(session: Session) -> str:
    items = "".join(
        f"<li>{html.escape(item.name)} x {item.quantity}: {_money(item.amount, item.currency)}</li>"
        for item in session.line_items
    )
    names = ", ".join(item.name for item in session.line_items)
    back = f'<p><a href="{html.escape(session.cancel_url)}">Back</a></p>' if session.cancel_url else ""
    return (
        f'<section aria-label="Order summary">{back}'
        f'<h1 data-testid="product-name">{html.escape(names)}</h1>'
        f'<p class="amount" data-testid="amount-total">{_money(session.amount_total, session.currency)}</p>'
        f"<ul>{items}</ul>"
        f'<p class="note">Test mode: the embedded Stripe (pitstop). No real payment is made.</p></section>'
    )


def _input(
    name: str, label: str, value: str, *, kind: str = "text", autocomplete: str, placeholder: str = "",
    extra: str = "",
) -> str:  # fmt: skip
    hint = f' placeholder="{html.escape(placeholder)}"' if placeholder else ""
    return (
        f'<div><label for="{name}">{html.escape(label)}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}"'
        f' value="{html.escape(value)}"{hint} required {extra}></div>'
    )


def _payment_page(
    session: Session, form: dict[str, str], *, error: str = "", status: int = 200
) -> HTMLResponse:
    def value(name: str) -> str:
        return form.get(name, "")

    email = _input(
        "email", "Email", session.customer_email or value("email"), kind="email", autocomplete="email",
        extra="readonly" if session.customer_email else "",
    )  # fmt: skip
    alert = (
        f'<p class="error" role="alert" data-testid="payment-error">{html.escape(error)}</p>' if error else ""
    )
    fields = (
        f"{email}<fieldset><legend>Card information</legend>"
        + _input("cardNumber", "Card number", value("cardNumber"), autocomplete="cc-number",
                 placeholder="1234 1234 1234 1234", extra='inputmode="numeric"')
        + '<div class="row">'
        + _input("cardExpiry", "Expiration date (MM / YY)", value("cardExpiry"), autocomplete="cc-exp",
                 placeholder="MM / YY", extra='inputmode="numeric"')
        + _input("cardCvc", "CVC", value("cardCvc"), autocomplete="cc-csc", placeholder="CVC",
                 extra='inputmode="numeric"')
        + "</div></fieldset>"
        + _input("billingName", "Cardholder name", value("billingName"), autocomplete="cc-name",
                 placeholder="Full name on card")
        + _input("billingPostalCode", "Postal code", value("billingPostalCode"), autocomplete="postal-code",
                 placeholder="ZIP")
    )  # fmt: skip
    body = (
        _summary(session)
        + f'<form method="post" action="/c/pay/{html.escape(session.id)}" aria-label="Pay with card"'
        + f" novalidate>{alert}{fields}"
        + '<button type="submit" data-testid="hosted-payment-submit-button">Pay</button></form>'
    )
    names = ", ".join(item.name for item in session.line_items)
    return _document(f"Pay {names}", body, status)


def _closed_page(session: Session, *, status: int) -> HTMLResponse:
    if session.status == "expired":
        title, text = (
            "This Checkout Session has expired",
            "This Checkout Session has expired. No payment was made.",
        )
    else:
        title, text = (
            "This Checkout Session is complete",
            "This Checkout Session is complete: it has been paid.",
        )
    link = ""
    if session.status == "complete" and session.success_url:
        target = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
        link = f'<p><a href="{html.escape(target)}">Continue</a></p>'
    elif session.cancel_url:
        link = f'<p><a href="{html.escape(session.cancel_url)}">Back</a></p>'
    body = f'<section><h1 data-testid="session-state">{title}</h1><p>{text}</p>{link}</section>'
    return _document(title, body, status)


def _read_card(form: dict[str, str], email: str) -> dict[str, str]:
    """The card fields, checked as Stripe's page checks them (with Stripe's messages)."""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise CardRefused(
            "Your email address is incomplete." if not email else "Your email address is invalid."
        )
    number = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
    if not number:
        raise CardRefused("Your card number is incomplete.")
    if not number.isdigit() or not 13 <= len(number) <= 19 or not _luhn(number):
        raise CardRefused("Your card number is invalid.")
    if len(number) != 16:
        raise CardRefused("The embedded Stripe (localstripe) takes 16-digit card numbers only.")
    expiry = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", form.get("cardExpiry", ""))
    if expiry is None:
        raise CardRefused("Your card's expiration date is incomplete.")
    month, year = int(expiry[1]), int(expiry[2][-2:]) + 2000
    if not 1 <= month <= 12:
        raise CardRefused("Your card's expiration date is invalid.")
    today = time.gmtime()
    if year < today.tm_year:
        raise CardRefused("Your card's expiration year is in the past.")
    if (year, month) < (today.tm_year, today.tm_mon):
        raise CardRefused("Your card's expiration date is in the past.")
    cvc = form.get("cardCvc", "").strip()
    if not re.fullmatch(r"\d{3}", cvc):
        raise CardRefused("Your card's security code is incomplete.")
    name = form.get("billingName", "").strip()
    if not name:
        raise CardRefused("Your name on the card is incomplete.")
    postal_code = form.get("billingPostalCode", "").strip()
    if not postal_code:
        raise CardRefused("Your postal code is incomplete.")
    return {
        "number": number,
        "exp_month": str(month),
        "exp_year": str(year),
        "cvc": cvc,
        "name": name,
        "postal_code": postal_code,
    }


def _luhn(number: str) -> bool:
    total = 0
    for i, digit in enumerate(reversed(number)):
        d = int(digit) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


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
        prog="python -m harness.stripe_front",
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
