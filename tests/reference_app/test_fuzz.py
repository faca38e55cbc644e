"""Bad input to the reference app over real HTTP: never a 5xx, and never a write on a rejected request.

Random methods, headers, query strings and bodies go to the debug API, the
Stripe webhook and the forms (login, intake, checkout). Around every request
the app's tables are snapshotted through the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from harness.stack.reference_app.auth import COOKIE_NAME
from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import ADMIN_TOKEN, WEBHOOK_SECRET, Login, Users
from tests.seeding import APP_TABLES, Seeder

# Inputs that have broken parsers before: unicode digits, huge numbers, NULs, padding.
ODD = ["", " ", "0", "-1", "1.5", "²", "١٢", "99999999999999999999", "1e3", "NaN", "null", "\x00", "🙂",
       "' or 1=1 --", "../../etc/passwd", "%00", "a" * 300]  # fmt: skip
TEXT = st.one_of(st.text(max_size=30), st.sampled_from(ODD), st.integers().map(str), st.uuids().map(str))
# What an HTTP client can put in a header: printable ASCII, no space at either end.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.strip)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
BODIES = st.one_of(
    st.none(),
    st.binary(max_size=80),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"sessionId": st.one_of(TEXT, JSON_VALUES)}).map(
        lambda v: json.dumps(v).encode()
    ),
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain", None]
)
DEBUG_ROUTES = [
    ("GET", "/api/debug/cleanup-user-data"),
    ("POST", "/api/debug/cleanup-user-data"),
    ("GET", "/api/debug/cleanup-sessions"),
    ("POST", "/api/debug/cleanup-sessions"),
    ("POST", "/api/debug/force-cancel-session"),
    ("GET", "/api/debug/session-health"),
]
ROUTES = st.one_of(
    st.sampled_from(DEBUG_ROUTES),
    st.sampled_from(DEBUG_ROUTES),
    st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), st.sampled_from(DEBUG_ROUTES)).map(
        lambda t: (t[0], t[1][1])
    ),
)
QUERY_NAMES = ["waitingMinutes", "orphanMinutes", "staleMinutes", "veryStaleMinutes", "sessionId", "x"]
# Characters that str.isdigit() accepts and int() refuses ("²", "①").
ODD_DIGITS = [c for c in map(chr, range(0x2FFFF)) if c.isdigit() and not c.isdecimal()]
# Number-like text: small, at the 32- and 64-bit edges, unicode digits (some int() refuses).
NUMBERISH = st.one_of(
    st.integers(-10, 10**7).map(str),
    st.integers(2**31 - 2, 2**31 + 2).map(str),
    st.integers(2**63 - 2, 2**80).map(str),
    st.text(st.one_of(st.characters(categories=["Nd"]), st.sampled_from(ODD_DIGITS)), min_size=1, max_size=4),
    st.sampled_from(ODD),
)


def snapshot(store: PostgresStore) -> dict[str, str]:
    """A digest of every row, every column, of the app's tables."""
    digests = " union all ".join(
        f"select '{table}', md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from {table} t"
        for table in APP_TABLES
    )
    return {table: digest for table, digest in store.connection.execute(digests)}


def check(store: PostgresStore, send: Callable[[], httpx.Response], *, writes: bool = True) -> httpx.Response:
    """Send; a 5xx fails, and so does any change to the tables by a rejected (or a read-only) request."""
    before = snapshot(store)
    response = send()
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400 or not writes:
        assert snapshot(store) == before, f"a request answered {response.status_code} wrote to the tables"
    return response


@pytest.fixture
def seeded(store: PostgresStore, users: Users) -> dict[str, Any]:
    """A customer with a fresh and a stale waiting session, and a live one with a mechanic."""
    seed = Seeder(store.connection)
    customer, mechanic = users("customer"), users("mechanic")
    sessions = [
        seed.session(customer.id),
        seed.session(customer.id, age_minutes=30),
        seed.full_session(customer.id, mechanic=mechanic.id, status="live", request="accepted"),
    ]
    return {"customer": customer, "mechanic": mechanic, "sessions": [str(s.session) for s in sessions]}


@pytest.fixture
def customer_client(login: Login, users: Users) -> httpx.Client:
    return login(users("customer"))


@pytest.fixture
def signed_in(login: Login, seeded: dict[str, Any]) -> str:
    """The seeded customer's session cookie."""
    value = login(seeded["customer"]).cookies.get(COOKIE_NAME)
    assert value
    return value


@settings(max_examples=150)
@given(
    data=st.data(),
    endpoint=ROUTES,
    query=st.dictionaries(st.sampled_from(QUERY_NAMES), st.one_of(NUMBERISH, TEXT), min_size=1, max_size=3),
    body=BODIES,
    content_type=CONTENT_TYPES,
)
def test_the_debug_api(
    store: PostgresStore,
    anonymous: httpx.Client,
    seeded: dict[str, Any],
    signed_in: str,
    data: st.DataObject,
    endpoint: tuple[str, str],
    query: dict[str, str],
    body: bytes | None,
    content_type: str | None,
) -> None:
    # Half the requests carry the token: most of the API is behind it.
    auth = data.draw(
        st.one_of(
            st.just(f"Bearer {ADMIN_TOKEN}"),
            st.one_of(
                st.none(),
                HEADER_TEXT,
                HEADER_TEXT.map(lambda t: f"Bearer {t}".strip()),
                st.just(f"Bearer  {ADMIN_TOKEN}"),
                st.just(f"bearer {ADMIN_TOKEN}x"),
            ),
        ),
        label="authorization",
    )
    cookie = data.draw(
        st.one_of(st.just(signed_in), st.just(signed_in), st.none(), HEADER_TEXT), label="cookie"
    )
    if body is not None and data.draw(st.booleans(), label="a real session id"):
        body = json.dumps({"sessionId": data.draw(st.sampled_from(seeded["sessions"]))}).encode()
    headers = {
        k: v for k, v in {"Authorization": auth, "Content-Type": content_type}.items() if v is not None
    }
    anonymous.cookies.clear()
    if cookie is not None:
        anonymous.cookies.set(COOKIE_NAME, cookie)
    # The same request to every route, and to one with a random method.
    for method, route in (*DEBUG_ROUTES, endpoint):
        response = check(
            store,
            lambda: anonymous.request(method, route, params=query, content=body, headers=headers),  # noqa: B023
            writes=method != "GET",  # a GET is a dry run
        )
        event(f"{method} {route} {response.status_code}")
        if auth != f"Bearer {ADMIN_TOKEN}":
            assert response.status_code in (401, 405)


def _signed(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: float | None = None) -> str:
    timestamp = int(time.time() if at is None else at)
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "id": TEXT,
        "object": st.just("event"),
        "type": st.one_of(
            st.sampled_from(["payment_intent.succeeded", "payment_intent.payment_failed"]), TEXT
        ),
        "data": st.one_of(
            JSON_VALUES,
            st.fixed_dictionaries(
                {}, optional={"object": st.one_of(JSON_VALUES, st.fixed_dictionaries({"id": JSON_VALUES}))}
            ),
        ),
    },
)


@settings(max_examples=200)
@given(
    data=st.data(),
    payload=st.one_of(st.binary(max_size=80), JSON_VALUES.map(json.dumps), EVENTS.map(json.dumps)),
)
def test_the_stripe_webhook(
    store: PostgresStore, anonymous: httpx.Client, seeded: dict[str, Any], data: st.DataObject, payload: Any
) -> None:
    body = payload if isinstance(payload, bytes) else payload.encode()
    kind = data.draw(st.sampled_from(["none", "junk", "valid", "wrong secret", "too old"]), label="signature")
    signature = {
        "none": lambda: None,
        "junk": lambda: data.draw(HEADER_TEXT),
        "valid": lambda: _signed(body),
        "wrong secret": lambda: _signed(body, secret="whsec_wrong"),
        "too old": lambda: _signed(body, at=time.time() - 3600),
    }[kind]()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    response = check(store, lambda: anonymous.post("/api/stripe/webhook", content=body, headers=headers))
    if kind != "valid":
        assert response.status_code == 400


FIELD_NAMES = ["email", "password", "next", "plan", "year", "make", "model", "mileage", "description"]
FORM_FIELDS = st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), TEXT), TEXT, max_size=8)


@settings(max_examples=100)
@given(
    role=st.sampled_from(["customer", "mechanic", "admin"]), form=FORM_FIELDS, cookie=st.none() | HEADER_TEXT
)
def test_the_login_forms(
    store: PostgresStore, anonymous: httpx.Client, role: str, form: dict[str, str], cookie: str | None
) -> None:
    anonymous.cookies.clear()
    if cookie is not None:
        anonymous.cookies.set(COOKIE_NAME, cookie)
    response = check(store, lambda: anonymous.post(f"/{role}/login", data=form), writes=False)
    assert response.status_code in (303, 401, 422)


INTAKE = st.fixed_dictionaries(
    {"plan": st.one_of(st.just("quick-chat"), st.just("standard-video"), st.just("full-diagnostic"), TEXT)},
    optional={
        name: st.one_of(NUMBERISH, TEXT) for name in ("year", "make", "model", "mileage", "description")
    },
)


@settings(max_examples=150)
@given(form=st.tuples(INTAKE, FORM_FIELDS).map(lambda t: {**t[1], **t[0]}))
def test_the_intake_form(store: PostgresStore, customer_client: httpx.Client, form: dict[str, str]) -> None:
    response = check(store, lambda: customer_client.post("/onboarding/intake", data=form), writes=False)
    event(f"intake {response.status_code} {response.headers.get('location', '')[:20]}")
    assert response.status_code in (303, 422)


@pytest.fixture
def unpaid_intent(customer_client: httpx.Client) -> str:
    """A PaymentIntent of the customer's that was never paid."""
    form = {"plan": "quick-chat", "year": "2015", "make": "Honda", "model": "Civic", "mileage": "1000",
            "description": "a noise"}  # fmt: skip
    response = customer_client.post("/onboarding/intake", data=form)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


@settings(max_examples=100)
@given(data=st.data(), body=BODIES)
def test_the_checkout(
    store: PostgresStore,
    customer_client: httpx.Client,
    unpaid_intent: str,
    data: st.DataObject,
    body: bytes | None,
) -> None:
    intent_id = data.draw(
        st.one_of(st.just(unpaid_intent), TEXT, TEXT.map(lambda t: "pi_" + t)), label="intent"
    )
    client, path = customer_client, quote(intent_id, safe="")
    # An intent that was never paid makes no session, whatever is sent.
    check(store, lambda: client.get(f"/checkout/{path}"), writes=False)
    check(store, lambda: client.get("/checkout/success", params={"payment_intent": intent_id}), writes=False)
    card = check(
        store,
        lambda: client.post(
            f"/api/checkout/{path}/card", content=body, headers={"Content-Type": "application/json"}
        ),
        writes=False,
    )
    assert card.status_code in (402, 404, 422)
