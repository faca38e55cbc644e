"""Checkout Sessions on the embedded Stripe (harness.stack.stripe_front beside localstripe).

Real processes: localstripe and the front, each on its own 127.0.0.1 port,
started for this module and stopped by pid after it; the official ``stripe``
library pointed at the front's API base; a real Chromium on the hosted page;
a small local HTTP server as the webhook endpoint and the success page.

localstripe has no Prices API, so a ``line_items[][price]`` id is tested only
as refused; ``price_data`` is what pays. Stripe's real hosted Checkout page and
live Stripe are not reachable here, so they are not exercised.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Page, expect

from harness.engine.payments import Payments
from harness.errors import PitstopError
from harness.stack.embedded import STRIPE_SECRET_KEY, EmbeddedStack, processes
from harness.stack.postgres import free_port
from tests.browser_pages import fresh_page  # noqa: F401 (the fixture ``page``)
from tests.reference_app.servers import Process, wait_until

KEY = "sk_test_checkout_sessions"
SECRET = "whsec_checkout_endpoint"
OTHER_SECRET = "whsec_intents_endpoint"
LOOPBACK = {"127.0.0.1", "[::ffff:127.0.0.1]", "[::1]"}
VISA = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"  # Stripe: generic decline, "Your card was declined."
DECLINED_WHEN_CHARGED = "4000 0000 0000 0341"  # localstripe declines it when charging


class Receiver:
    """A webhook endpoint (every POST kept) and a success page (any GET), on 127.0.0.1."""

    def __init__(self) -> None:
        self.posts: list[tuple[str | None, bytes]] = []
        posts = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                posts.append((self.headers.get("Stripe-Signature"), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                text = b"<!doctype html><title>Thanks</title><h1>Thanks for your order</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self, secret: str, event_type: str | None = None, object_id: str | None = None) -> list[Any]:
        """The events received, each verified as an app verifies them (raises if a signature is wrong)."""
        found = []
        for signature, body in list(self.posts):
            stripe.Webhook.construct_event(body, signature, secret)
            event = json.loads(body)
            if event_type is not None and event["type"] != event_type:
                continue
            if object_id is not None and event["data"]["object"]["id"] != object_id:
                continue
            found.append(event)
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class EmbeddedStripe:
    base: str
    localstripe: str
    processes: list[Process]
    checkout_endpoint: Receiver  # registered for checkout.session.* (form-encoded, as servers.py does)
    intents_endpoint: Receiver  # registered for payment_intent.succeeded only (JSON, as the stack does)


@pytest.fixture(scope="module")
def embedded_stripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStripe]:
    logs = tmp_path_factory.mktemp("checkout-logs")
    localstripe_port, front_port = free_port(), free_port()
    localstripe_url, base = f"http://127.0.0.1:{localstripe_port}", f"http://127.0.0.1:{front_port}"
    servers: list[Process] = []
    receivers = [Receiver(), Receiver()]
    try:
        servers.append(
            Process(
                "localstripe",
                # As the stack runs it: on loopback, its state in memory (not /tmp/localstripe.pickle).
                [sys.executable, "-m", "harness.stack.localstripe_run", "--port", str(localstripe_port)],
                env=None,
                log_dir=logs,
            )
        )  # fmt: skip
        servers[-1].wait_ready(f"{localstripe_url}/js.stripe.com/v3/")
        servers.append(
            Process(
                "stripe_front",
                [sys.executable, "-m", "harness.stack.stripe_front", "--port", str(front_port),
                 "--localstripe", localstripe_url],
                env=None,
                log_dir=logs,
            )
        )  # fmt: skip
        servers[-1].wait_ready(f"{base}/js.stripe.com/v3/")  # localstripe's Stripe.js, through the front
        checkout, intents = receivers
        registered = httpx.post(
            f"{base}/_config/webhooks/checkout",
            data={
                "url": f"{checkout.url}/webhook",
                "secret": SECRET,
                "events[]": ["checkout.session.completed", "checkout.session.expired"],
            },
        )
        assert registered.status_code == 200, registered.text
        registered = httpx.post(
            f"{base}/_config/webhooks/intents",
            json={
                "url": f"{intents.url}/webhook",
                "secret": OTHER_SECRET,
                "events": ["payment_intent.succeeded"],
            },
        )
        assert registered.status_code == 200, registered.text
        yield EmbeddedStripe(base, localstripe_url, servers, checkout, intents)
    finally:
        for process in reversed(servers):
            process.stop()
        for receiver in receivers:
            receiver.close()


def _client(base: str, key: str = KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        base_addresses={"api": base},
        http_client=stripe.new_default_http_client(timeout=10),
        max_network_retries=0,
    )


@pytest.fixture(scope="module")
def client(embedded_stripe: EmbeddedStripe) -> stripe.StripeClient:
    return _client(embedded_stripe.base)


def _create(client: stripe.StripeClient, pages: str, **changes: Any) -> Any:
    """A session for a diagnosis; its success and cancel pages are under ``pages``."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 4900,
                    "product_data": {"name": "Diagnosis session"},
                },
                "quantity": 1,
            }
        ],
        "metadata": {"plan": "diagnosis", "customer_id": "cust-42"},
        "payment_intent_data": {"metadata": {"order": "order-42"}},
        "client_reference_id": "order-42",
        "success_url": f"{pages}/done?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{pages}/cancelled",
        **changes,
    }
    return client.v1.checkout.sessions.create(params=params)


def _fill_card(page: Page, number: str, *, email: str = "driver@example.com") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiration date").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Cardholder name").fill("Dana Driver")
    page.get_by_label("Postal code").fill("94107")


# -- the API, through the official library ---------------------------------------------------------


def test_the_library_creates_retrieves_and_lists_sessions_made_with_price_data(
    client: stripe.StripeClient, embedded_stripe: EmbeddedStripe
) -> None:
    endpoint = embedded_stripe.checkout_endpoint
    line = {
        "price_data": {"currency": "usd", "unit_amount": 2500, "product_data": {"name": "Brake check"}},
        "quantity": 2,
    }
    first = _create(client, endpoint.url, line_items=[line], customer_email="pat@example.com")
    assert first.id.startswith("cs_test_")
    assert first.object == "checkout.session"
    assert (first.status, first.payment_status, first.payment_intent) == ("open", "unpaid", None)
    assert (first.mode, first.livemode, first.currency, first.amount_total) == ("payment", False, "usd", 5000)
    assert first.metadata.to_dict() == {"plan": "diagnosis", "customer_id": "cust-42"}
    assert (first.client_reference_id, first.customer_email) == ("order-42", "pat@example.com")
    assert first.success_url == f"{endpoint.url}/done?session_id={{CHECKOUT_SESSION_ID}}"
    assert first.cancel_url == f"{endpoint.url}/cancelled"
    assert first.url == f"{embedded_stripe.base}/c/pay/{first.id}"
    assert first.expires_at - first.created == 24 * 3600

    assert client.v1.checkout.sessions.retrieve(first.id).to_dict() == first.to_dict()
    second = _create(client, endpoint.url)
    listed = client.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in listed.data] == [second.id, first.id]  # newest first, as Stripe lists
    after = client.v1.checkout.sessions.list(params={"limit": 1, "starting_after": second.id})
    assert [s.id for s in after.data] == [first.id]

    items = client.v1.checkout.sessions.line_items.list(first.id).data
    assert [(i.description, i.quantity, i.amount_total, i.price.unit_amount) for i in items] == [
        ("Brake check", 2, 5000, 2500)
    ]
    # Stripe makes a product for price_data[product_data]; so does localstripe, behind the front.
    assert client.v1.products.retrieve(items[0].price.product).name == "Brake check"


def test_a_price_id_is_refused_as_localstripe_has_no_prices(
    client: stripe.StripeClient, embedded_stripe: EmbeddedStripe
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as no_prices:
        client.v1.prices.create(
            params={"currency": "usd", "unit_amount": 4900, "product_data": {"name": "Diagnosis session"}}
        )
    assert no_prices.value.http_status == 404
    assert "localstripe" in str(no_prices.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as unknown_price:
        _create(
            client,
            embedded_stripe.checkout_endpoint.url,
            line_items=[{"price": "price_1Nope", "quantity": 1}],
        )
    assert unknown_price.value.param == "line_items[0][price]"
    assert unknown_price.value.user_message == "No such price: 'price_1Nope'"


def test_errors_come_in_stripes_shape_and_the_library_raises_its_own(
    client: stripe.StripeClient, embedded_stripe: EmbeddedStripe
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (unknown.value.http_status, unknown.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire("cs_test_nope")
    answer = httpx.get(
        f"{embedded_stripe.base}/v1/checkout/sessions/cs_test_nope",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {
            "type": "invalid_request_error",
            "message": "No such checkout.session: 'cs_test_nope'",
            "param": "session",
            "code": "resource_missing",
        }
    }

    endpoint = embedded_stripe.checkout_endpoint
    bad: list[tuple[dict[str, Any], str]] = [
        ({"line_items": None}, "line_items"),
        (
            {"line_items": [{"price_data": {"currency": "usd", "unit_amount": 100}}]},
            "line_items[0][quantity]",
        ),
        ({"mode": "subscription"}, "mode"),
        ({"success_url": "not a url"}, "success_url"),
        ({"shipping_rate": "shr_1"}, "shipping_rate"),
    ]
    for change, param in bad:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            _create(client, endpoint.url, **change)
        assert (refused.value.http_status, refused.value.param) == (400, param), refused.value.user_message

    # A live key is refused, for Checkout and for what is passed on to localstripe (which would take it).
    live_key = "sk_live_" + "x" * 24
    live = _client(embedded_stripe.base, live_key)
    with pytest.raises(stripe.AuthenticationError):
        _create(live, endpoint.url)
    with pytest.raises(stripe.AuthenticationError):
        live.v1.customers.list()
    direct = httpx.get(
        f"{embedded_stripe.localstripe}/v1/customers", headers={"Authorization": f"Bearer {live_key}"}
    )
    assert direct.status_code == 200
    no_key = httpx.post(f"{embedded_stripe.base}/v1/checkout/sessions", data={"mode": "payment"})
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "invalid_request_error"


# -- the hosted page, in Chromium -----------------------------------------------------------------------


def test_paying_on_the_hosted_page_completes_the_session_and_sends_one_signed_event(
    client: stripe.StripeClient, embedded_stripe: EmbeddedStripe, page: Page
) -> None:
    checkout, intents = embedded_stripe.checkout_endpoint, embedded_stripe.intents_endpoint
    session = _create(client, checkout.url)
    page.goto(session.url)
    expect(page.get_by_role("heading", name="Diagnosis session")).to_be_visible()
    expect(page.get_by_text("$49.00", exact=True)).to_be_visible()
    for name in ("email", "cardNumber", "cardExpiry", "cardCvc", "billingName", "billingPostalCode"):
        expect(page.locator(f"input[name={name}]")).to_have_count(1)
    _fill_card(page, VISA)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{checkout.url}/done?session_id={session.id}")
    expect(page.get_by_role("heading", name="Thanks for your order")).to_be_visible()

    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.payment_intent.startswith("pi_")
    assert paid.customer_details.email == "driver@example.com"
    localstripe = _client(embedded_stripe.localstripe)  # localstripe itself, not the front
    intent = localstripe.v1.payment_intents.retrieve(paid.payment_intent)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 4900, "usd")
    assert intent.metadata.to_dict() == {"order": "order-42"}  # as on Stripe: the session's stays on it
    listed = client.v1.checkout.sessions.list(params={"payment_intent": paid.payment_intent})
    assert [s.id for s in listed.data] == [session.id]

    wait_until(lambda: checkout.events(SECRET, "checkout.session.completed", session.id), what="the event")
    # localstripe's own event reaches the other endpoint: the registration was passed on to it.
    wait_until(
        lambda: intents.events(OTHER_SECRET, "payment_intent.succeeded", paid.payment_intent),
        what="localstripe's payment_intent.succeeded",
    )
    [event] = checkout.events(SECRET, "checkout.session.completed", session.id)  # one, however long after
    assert event["id"].startswith("evt_")
    assert (event["object"], event["livemode"]) == ("event", False)
    assert isinstance(event["created"], int) and event["api_version"]
    sent = event["data"]["object"]
    assert (sent["object"], sent["status"], sent["payment_status"]) == (
        "checkout.session",
        "complete",
        "paid",
    )
    assert sent["payment_intent"] == paid.payment_intent
    assert sent["metadata"] == {"plan": "diagnosis", "customer_id": "cust-42"}
    assert not [e for e in intents.events(OTHER_SECRET) if e["type"].startswith("checkout.")]  # its filter
    signature, body = next(p for p in checkout.posts if json.loads(p[1])["id"] == event["id"])
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, OTHER_SECRET)
    # The front keeps it, found by its session, for a test to send it again.
    payments = Payments(secret_key=KEY, api_base=embedded_stripe.base)
    assert payments.sent_event(session.id, "checkout.session.completed") == event
    with pytest.raises(PitstopError, match=r"no checkout\.session\.expired event for cs_"):
        payments.sent_event(session.id, "checkout.session.expired")

    page.goto(session.url)
    expect(page.get_by_role("heading", name="This Checkout Session is complete")).to_be_visible()
    expect(page.get_by_role("button", name="Pay")).to_have_count(0)


def test_a_declined_card_shows_stripes_message_and_the_session_stays_open(
    client: stripe.StripeClient, embedded_stripe: EmbeddedStripe, page: Page
) -> None:
    checkout = embedded_stripe.checkout_endpoint
    session = _create(client, checkout.url)
    page.goto(session.url)
    for number in (DECLINED, DECLINED_WHEN_CHARGED):
        _fill_card(page, number)
        page.get_by_role("button", name="Pay").click()
        expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
        assert page.url == session.url
        still = client.v1.checkout.sessions.retrieve(session.id)
        assert (still.status, still.payment_status, still.payment_intent) == ("open", "unpaid", None)
    # The same page then takes a card that pays.
    _fill_card(page, VISA)
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{checkout.url}/done?session_id={session.id}")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    wait_until(lambda: checkout.events(SECRET, "checkout.session.completed", session.id), what="the event")
    assert len(checkout.events(SECRET, "checkout.session.completed", session.id)) == 1


def test_expiring_sends_the_event_and_the_page_then_refuses(
    client: stripe.StripeClient, embedded_stripe: EmbeddedStripe, page: Page
) -> None:
    checkout = embedded_stripe.checkout_endpoint
    session = _create(client, checkout.url)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    wait_until(lambda: checkout.events(SECRET, "checkout.session.expired", session.id), what="the event")
    [event] = checkout.events(SECRET, "checkout.session.expired", session.id)
    assert event["data"]["object"]["status"] == "expired"

    answer = page.goto(session.url)
    assert answer is not None and answer.status == 410
    expect(page.get_by_role("heading", name="This Checkout Session has expired")).to_be_visible()
    expect(page.get_by_role("button", name="Pay")).to_have_count(0)
    posted = httpx.post(
        session.url,
        data={
            "email": "driver@example.com",
            "cardNumber": VISA,
            "cardExpiry": "12 / 34",
            "cardCvc": "123",
            "billingName": "Dana Driver",
            "billingPostalCode": "94107",
        },
    )
    assert posted.status_code == 410
    after = client.v1.checkout.sessions.retrieve(session.id)
    assert (after.status, after.payment_intent) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError, match='status of "expired"'):
        client.v1.checkout.sessions.expire(session.id)
    assert session.id in [s.id for s in client.v1.checkout.sessions.list(params={"status": "expired"}).data]


# -- where it listens ---------------------------------------------------------------------------------


def _listening(pid: int) -> set[str]:
    """The addresses ``pid`` listens on (TCP)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if f"pid={pid}," in line}


def test_a_payment_intents_webhook_goes_out_at_once_and_is_found_by_its_intent(
    embedded_stripe: EmbeddedStripe, client: stripe.StripeClient
) -> None:
    """localstripe as shipped waits a fixed second before every webhook; the embedded one does not.

    The bound (0.9 s from the confirm call to the endpoint having the event) is far above what
    it takes (milliseconds) and below the second localstripe alone would always wait.
    """
    token = client.v1.tokens.create(
        params={"card": {"number": "4242424242424242", "exp_month": "12", "exp_year": "2034", "cvc": "123"}}
    )
    buyer = client.v1.customers.create(params={"source": token.id})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 1500,
            "currency": "usd",
            "customer": buyer.id,
            "payment_method": buyer.to_dict()["default_source"],
        }
    )
    endpoint = embedded_stripe.intents_endpoint
    started = time.monotonic()
    client.v1.payment_intents.confirm(intent.id)
    wait_until(lambda: bool(endpoint.events(OTHER_SECRET, "payment_intent.succeeded", intent.id)), timeout=5)
    assert time.monotonic() - started < 0.9
    (sent,) = endpoint.events(OTHER_SECRET, "payment_intent.succeeded", intent.id)

    # Found directly by the intent (localstripe's index, through the front), as it was sent.
    payments = Payments(secret_key=KEY, api_base=embedded_stripe.base)
    assert payments.sent_event(intent.id, "payment_intent.succeeded") == sent
    with pytest.raises(PitstopError, match=r"no payment_intent\.payment_failed event for pi_"):
        payments.sent_event(intent.id, "payment_intent.payment_failed")
    with pytest.raises(PitstopError, match=r"no payment_intent\.succeeded event for pi_nothing"):
        payments.sent_event("pi_nothing", "payment_intent.succeeded")


def test_localstripe_and_the_front_listen_on_loopback_only(embedded_stripe: EmbeddedStripe) -> None:
    for process in embedded_stripe.processes:
        addresses = _listening(process.pid)
        assert addresses, f"{process.name} listens nowhere?"
        assert addresses <= LOOPBACK, (process.name, addresses)


def test_the_embedded_stacks_stripe_api_base_serves_checkout(tmp_path: Path) -> None:
    stack = EmbeddedStack()
    with stack as info:
        pids = stack.pids
        assert {"stripe", "localstripe"} <= set(pids)
        running = [processes.entry(pid) for pid in pids.values()]
        session = _create(_client(info.stripe_api_base, STRIPE_SECRET_KEY), "http://127.0.0.1:9")
        assert session.url.startswith(f"{info.stripe_api_base}/c/pay/")
        stripe_js = httpx.get(f"{info.stripe_api_base}/js.stripe.com/v3/")  # what the app's pages load
        assert stripe_js.status_code == 200
        assert "javascript" in stripe_js.headers["content-type"]
        for name in ("app", "stripe", "localstripe"):
            addresses = _listening(pids[name])
            assert addresses and addresses <= LOOPBACK, (name, addresses)
    assert not any(processes.alive(p) for p in running if p is not None)
