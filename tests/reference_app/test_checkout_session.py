"""``PAYMENT_KIND=checkout_session``: the app pays through Stripe Checkout, as a Next.js app does.

Real processes: the session's localstripe, pitstop's Checkout front before it
(``harness.stack.stripe_front``, the API base the app is given) and an app configured
for Checkout, each on its own 127.0.0.1 port and stopped by pid after this
module. The hosted page is paid over HTTP with its form fields (and once in
Chromium). The front's ``checkout.session.completed`` events go to a recorder
registered with the app's webhook secret, so that each test decides when the
real, signed event reaches the app: before the success page, after it, or at
the same moment.
"""

from __future__ import annotations

import http.server
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe
from playwright.sync_api import Browser, expect

from harness.stack.postgres import free_port
from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import PASSWORD, SECRET_KEY, WEBHOOK_SECRET, AppUser, Users, rows
from tests.reference_app.flows import INTAKE, post_event, signature
from tests.reference_app.servers import AppServer, LocalStripe, Process, wait_until
from tests.seeding import Seeder

VISA = "4242 4242 4242 4242"


class Recorder:
    """A webhook endpoint on 127.0.0.1 that keeps every delivery (its signature and body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        posts = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                posts.append((self.headers.get("Stripe-Signature") or "", body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def completed(self, session_id: str) -> tuple[bytes, str]:
        """The front's ``checkout.session.completed`` for ``session_id``: (body, Stripe-Signature)."""

        def found() -> tuple[bytes, str] | None:
            for header, body in list(self.posts):
                event = json.loads(body)
                if (
                    event["type"] == "checkout.session.completed"
                    and event["data"]["object"]["id"] == session_id
                ):
                    return body, header
            return None

        wait_until(lambda: found() is not None, timeout=10, what=f"the event of {session_id}")
        delivery = found()
        assert delivery is not None
        return delivery

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class CheckoutApp:
    app: AppServer
    front: str  # the Stripe API base the app is given
    recorder: Recorder

    @property
    def url(self) -> str:
        return self.app.url


@pytest.fixture(scope="module")
def checkout_app(
    app_env: dict[str, str], localstripe: LocalStripe, server_logs: Path
) -> Iterator[CheckoutApp]:
    port = free_port()
    front = f"http://127.0.0.1:{port}"
    processes: list[Process] = []
    recorder = Recorder()
    try:
        processes.append(
            Process(
                "checkout-front",
                [sys.executable, "-m", "harness.stack.stripe_front", "--port", str(port),
                 "--localstripe", localstripe.url],
                env=None,
                log_dir=server_logs,
            )
        )  # fmt: skip
        processes[-1].wait_ready(f"{front}/js.stripe.com/v3/")
        registered = httpx.post(
            f"{front}/_config/webhooks/checkout-recorder",
            data={"url": recorder.url, "secret": WEBHOOK_SECRET, "events[]": ["checkout.session.completed"]},
        )
        assert registered.status_code == 200, registered.text
        env = {**app_env, "PAYMENT_KIND": "checkout_session", "STRIPE_API_BASE": front}
        env["STRIPE_JS_URL"] = f"{front}/js.stripe.com/v3/"
        app = AppServer("checkout-app", env, server_logs)
        processes.append(app)
        yield CheckoutApp(app, front, recorder)
    finally:
        for process in reversed(processes):
            process.stop()
        recorder.close()


@pytest.fixture(scope="module")
def front_client(checkout_app: CheckoutApp) -> stripe.StripeClient:
    """The official library on the app's Stripe (the front)."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": checkout_app.front}, max_network_retries=0)


@pytest.fixture
def hook(checkout_app: CheckoutApp) -> Iterator[httpx.Client]:
    """Where Stripe's events are posted from: no cookies, as Stripe has none."""
    with httpx.Client(base_url=checkout_app.url, timeout=20) as client:
        yield client


SignIn = Callable[[AppUser], httpx.Client]


@pytest.fixture
def sign_in(checkout_app: CheckoutApp) -> Iterator[SignIn]:
    clients: list[httpx.Client] = []

    def open_client(user: AppUser) -> httpx.Client:
        client = httpx.Client(base_url=checkout_app.url, timeout=20)
        clients.append(client)
        assert (
            client.post("/customer/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 303
        )
        return client

    yield open_client
    for client in clients:
        client.close()


def start_checkout(client: httpx.Client, plan: str = "quick-chat") -> str:
    """Submit the intake; the app answers 303 to the hosted page. Returns the Checkout Session id."""
    response = client.post("/onboarding/intake", data={"plan": plan, **INTAKE})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"http://127\.0\.0\.1:\d+/c/pay/(cs_test_\w+)", response.headers["location"])
    assert match, response.headers["location"]
    return match[1]


def pay_hosted_page(checkout_app: CheckoutApp, session_id: str, number: str = VISA) -> str:
    """Pay on the hosted page with its form fields, as a browser submits them; the success URL."""
    page = f"{checkout_app.front}/c/pay/{session_id}"
    assert httpx.get(page).status_code == 200
    response = httpx.post(
        page,
        data={
            "cardNumber": number,
            "cardExpiry": "12 / 34",
            "cardCvc": "123",
            "billingName": "Dana Driver",
            "billingPostalCode": "94107",
        },
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{checkout_app.url}/checkout/success?session_id={session_id}")
    return location


def sessions_of(store: PostgresStore, customer: AppUser) -> list[tuple[Any, ...]]:
    return rows(store, "select id, status, payment_intent_id from public.sessions where customer_id = %s",
                (customer.id,))  # fmt: skip


def session_on_page(html: str) -> str:
    match = re.search(r'data-testid="session-status"[^>]*data-session-id="([^"]+)">(\w+)<', html, re.S)
    assert match and match[2] == "waiting", html
    return match[1]


def refunds(client: stripe.StripeClient, intent_id: str) -> int:
    return len(client.v1.refunds.list(params={"payment_intent": intent_id}).data)


# -- the route and the hosted page ---------------------------------------------------------


def test_the_intake_answers_303_to_the_hosted_page_of_a_session_made_as_a_nextjs_route_makes_it(
    checkout_app: CheckoutApp, sign_in: SignIn, users: Users, front_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    session_id = start_checkout(sign_in(customer), "standard-video")
    checkout = front_client.v1.checkout.sessions.retrieve(session_id, params={"expand": ["line_items"]})
    data = checkout.to_dict()
    assert (data["mode"], data["status"], data["payment_status"]) == ("payment", "open", "unpaid")
    assert (data["amount_total"], data["currency"]) == (3900, "usd")
    assert [item["description"] for item in data["line_items"]["data"]] == ["Standard Video"]
    metadata = data["metadata"]
    assert metadata["plan"] == "standard-video" and metadata["supabase_user_id"] == str(customer.id)
    assert re.fullmatch(r"[0-9a-f-]{36}", metadata["intake_id"])
    assert json.loads(metadata["vehicle"]) == {
        "year": 2016,
        "make": "Honda",
        "model": "Civic",
        "mileage": 84000,
    }
    assert metadata["description"] == INTAKE["description"]
    assert data["client_reference_id"] == str(customer.id) and data["customer_email"] == customer.email
    assert data["success_url"] == f"{checkout_app.url}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}"
    assert data["cancel_url"] == f"{checkout_app.url}/onboarding/intake?plan=standard-video"
    assert data["url"] == f"{checkout_app.front}/c/pay/{session_id}"


def test_paying_fulfils_once_when_the_webhook_comes_first(
    checkout_app: CheckoutApp, hook: httpx.Client, sign_in: SignIn, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    client = sign_in(customer)
    session_id = start_checkout(client)
    success_url = pay_hosted_page(checkout_app, session_id)
    body, header = checkout_app.recorder.completed(session_id)

    first = post_event(hook, body, header)
    assert first.status_code == 200 and first.json()["state"] == "fulfilled"
    made = sessions_of(store, customer)
    assert [(str(s[0]), s[1]) for s in made] == [(first.json()["session_id"], "waiting")]

    page = client.get(success_url)
    assert page.status_code == 200 and 'data-testid="payment-success"' in page.text
    assert session_on_page(page.text) == first.json()["session_id"]
    again = post_event(hook, body, header)
    assert again.json()["session_id"] == first.json()["session_id"]
    assert sessions_of(store, customer) == made
    requests = rows(store, "select plan, status, vehicle from public.session_requests where customer_id = %s",
                    (customer.id,))  # fmt: skip
    vehicle = {"year": 2016, "make": "Honda", "model": "Civic", "mileage": 84000}
    assert requests == [("Quick Chat", "pending", {**vehicle, "description": INTAKE["description"]})]


def test_paying_fulfils_once_when_the_success_page_comes_first(
    checkout_app: CheckoutApp, hook: httpx.Client, sign_in: SignIn, users: Users, store: PostgresStore,
    front_client: stripe.StripeClient,
) -> None:  # fmt: skip
    customer = users("customer")
    client = sign_in(customer)
    session_id = start_checkout(client)
    success_url = pay_hosted_page(checkout_app, session_id)

    page = client.get(success_url)
    made = session_on_page(page.text)
    status = client.get(f"/api/checkout/session/{session_id}").json()
    assert (status["state"], status["session_id"], status["payment_status"]) == ("fulfilled", made, "paid")

    body, header = checkout_app.recorder.completed(session_id)
    late = post_event(hook, body, header)
    assert late.status_code == 200 and late.json()["session_id"] == made
    intent_id = front_client.v1.checkout.sessions.retrieve(session_id).payment_intent
    assert [(str(s[0]), s[2]) for s in sessions_of(store, customer)] == [(made, intent_id)]


def test_concurrent_webhooks_and_success_pages_make_one_session(
    checkout_app: CheckoutApp, sign_in: SignIn, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    client = sign_in(customer)
    session_id = start_checkout(client)
    success_url = pay_hosted_page(checkout_app, session_id)
    body, header = checkout_app.recorder.completed(session_id)

    def hit(i: int) -> str:
        with httpx.Client(base_url=checkout_app.url, cookies=client.cookies, timeout=30) as c:
            if i % 3 == 0:
                answer = post_event(c, body, header)
            elif i % 3 == 1:
                answer = c.get(f"/api/checkout/session/{session_id}")
            else:
                return session_on_page(c.get(success_url).text)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["session_id"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        made = set(pool.map(hit, range(12)))
    assert len(made) == 1
    assert [str(s[0]) for s in sessions_of(store, customer)] == list(made)
    assert rows(store, "select count(*) from public.session_requests where customer_id = %s",
                (customer.id,)) == [(1,)]  # fmt: skip


# -- the guarantees ------------------------------------------------------------------------


def test_an_active_session_blocks_the_checkout_whose_payment_is_refunded_once(
    checkout_app: CheckoutApp, hook: httpx.Client, sign_in: SignIn, users: Users, store: PostgresStore,
    front_client: stripe.StripeClient,
) -> None:  # fmt: skip
    customer = users("customer")
    active = Seeder(store.connection).session(customer.id, status="waiting", age_minutes=2)
    client = sign_in(customer)
    session_id = start_checkout(client)
    success_url = pay_hosted_page(checkout_app, session_id)
    body, header = checkout_app.recorder.completed(session_id)

    page = client.get(success_url)
    assert page.status_code == 409 and 'data-testid="active-session-error"' in page.text
    assert "Customer already has an active session" in page.text
    webhook = post_event(hook, body, header)
    assert webhook.status_code == 200 and webhook.json()["state"] == "blocked"
    intent_id = front_client.v1.checkout.sessions.retrieve(session_id).payment_intent
    assert isinstance(intent_id, str) and refunds(front_client, intent_id) == 1
    assert [s[0] for s in sessions_of(store, customer)] == [active.session]

    # Once the block is gone, the refunded payment still never becomes a session.
    store.connection.execute(
        "update public.sessions set status = 'completed' where id = %s", (active.session,)
    )
    assert client.get(f"/api/checkout/session/{session_id}").json()["state"] == "blocked"
    assert post_event(hook, body, header).json()["state"] == "blocked"
    assert refunds(front_client, intent_id) == 1
    assert [s[0] for s in sessions_of(store, customer)] == [active.session]


def test_a_replayed_event_after_a_reset_does_not_recreate_the_session(
    checkout_app: CheckoutApp, hook: httpx.Client, sign_in: SignIn, users: Users, store: PostgresStore,
    front_client: stripe.StripeClient,
) -> None:  # fmt: skip
    customer = users("customer")
    client = sign_in(customer)
    session_id = start_checkout(client)
    success_url = pay_hosted_page(checkout_app, session_id)
    session_on_page(client.get(success_url).text)
    intent_id = front_client.v1.checkout.sessions.retrieve(session_id).payment_intent
    assert isinstance(intent_id, str)
    assert front_client.v1.payment_intents.retrieve(intent_id).metadata["fulfilled_session"]
    store.purge_user(customer.id)  # a test reset

    body, _ = checkout_app.recorder.completed(session_id)
    replayed = post_event(hook, body, signature(body))  # signed anew
    assert replayed.status_code == 200 and replayed.json()["state"] == "failed"
    assert client.get(f"/api/checkout/session/{session_id}").json()["state"] == "failed"
    assert sessions_of(store, customer) == []


def test_bad_signatures_and_unknown_sessions_are_refused(
    checkout_app: CheckoutApp, hook: httpx.Client, sign_in: SignIn, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    client = sign_in(customer)
    session_id = start_checkout(client)
    pay_hosted_page(checkout_app, session_id)
    body, header = checkout_app.recorder.completed(session_id)
    for bad in (None, "garbage", signature(body, secret="whsec_wrong"), header.split(",")[0]):
        answer = post_event(hook, body, bad)
        assert answer.status_code == 400 and "error" in answer.json()
    other_id = session_id[:-1] + ("Y" if session_id[-1] != "Y" else "Z")
    tampered = body.replace(session_id.encode(), other_id.encode())
    assert tampered != body
    assert post_event(hook, tampered, header).status_code == 400
    assert sessions_of(store, customer) == []

    unknown = json.dumps(
        {"id": "evt_x", "type": "checkout.session.completed", "data": {"object": {"id": "cs_test_nope"}}}
    ).encode()
    assert post_event(hook, unknown, signature(unknown)).status_code == 400
    # Another customer's Checkout Session is as unknown as a missing one.
    other = sign_in(users("customer"))
    assert other.get("/checkout/success", params={"session_id": session_id}).status_code == 404
    assert other.get(f"/api/checkout/session/{session_id}").status_code == 404
    assert other.get("/checkout/success", params={"session_id": "not-a-session"}).status_code == 404
    assert sessions_of(store, customer) == []


def test_an_unpaid_checkout_makes_no_session(
    checkout_app: CheckoutApp, sign_in: SignIn, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    client = sign_in(customer)
    session_id = start_checkout(client)
    page = client.get("/checkout/success", params={"session_id": session_id})
    assert page.status_code == 200 and 'data-state="failed"' in page.text
    assert "This checkout has not been paid" in page.text
    assert sessions_of(store, customer) == []


# -- in a browser --------------------------------------------------------------------------


def test_a_customer_pays_on_the_hosted_page_in_chromium_and_lands_on_a_waiting_session(
    checkout_app: CheckoutApp, browser: Browser, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    context = browser.new_context(base_url=checkout_app.url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/customer/login")
        page.get_by_test_id("login-email").fill(customer.email)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url("**/customer/dashboard")
        page.goto("/onboarding/pricing")
        page.get_by_test_id("plan-full-diagnostic").get_by_test_id("choose-plan").click()
        for field in ("year", "make", "model", "mileage"):
            page.get_by_test_id(f"vehicle-{field}").fill(INTAKE[field])
        page.get_by_test_id("problem-description").fill(INTAKE["description"])
        page.get_by_test_id("intake-submit").click()

        page.wait_for_url(f"{checkout_app.front}/c/pay/*")
        expect(page.get_by_test_id("amount-total")).to_have_text("$69.00")
        expect(page.get_by_label("Email")).to_have_value(customer.email)
        page.get_by_label("Card number").fill(VISA)
        page.get_by_label("Expiration date").fill("12 / 34")
        page.get_by_label("CVC").fill("123")
        page.get_by_label("Cardholder name").fill("Dana Driver")
        page.get_by_label("Postal code").fill("94107")
        page.get_by_test_id("hosted-payment-submit-button").click()

        page.wait_for_url("**/checkout/success?session_id=cs_*")
        expect(page.get_by_test_id("session-status")).to_have_text("waiting")
        session_id = parse_qs(urlsplit(page.url).query)["session_id"][0]
    finally:
        context.close()
    assert [s[1] for s in sessions_of(store, customer)] == ["waiting"]
    assert checkout_app.recorder.completed(session_id)
