"""The pages are pushed to, not polling: the dashboards and the success page in Chromium.

The database's triggers NOTIFY whatever changes sessions and pending requests,
whoever writes (here: this test's own SQL, as a harness's cleanup or purge
does, and the app's webhook); the app tells the pages over ``/api/updates``
and each fetches its JSON once. So a change shows at once, and an idle page
makes no requests at all. Both UIs run the same scripts: the dashboards are
checked in each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import stripe
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from harness.stack.reference_app.auth import COOKIE_NAME
from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import PASSWORD, AppUser, Login, Stack, Users
from tests.reference_app.flows import event, paid_intent, post_event, signature
from tests.reference_app.servers import AppServer
from tests.seeding import Seeder

IDLE_MS = 3000
# A pushed change shows well within this; the polling it replaces took up to a second.
PUSHED_S = 0.8


@dataclass(frozen=True)
class UI:
    """Where one UI's pages are and how their parts are found (test ids differ between UIs)."""

    name: str
    url: str
    login: str
    customer_home: str
    mechanic_home: str
    test_id: str  # the test id attribute
    next_status: str
    nothing_upcoming: str
    history_item: str


@pytest.fixture(scope="module")
def second_ui_app(app_env: dict[str, str], server_logs: Path) -> Iterator[AppServer]:
    app = AppServer(
        "app-second-ui", {**app_env, "APP_UI": "second", "PAYMENT_KIND": "checkout_session"}, server_logs
    )
    yield app
    app.stop()


@pytest.fixture(params=["classic", "second"])
def ui(request: pytest.FixtureRequest, stack: Stack) -> UI:
    if request.param == "classic":
        return UI(
            "classic",
            stack.url,
            "/customer/login",
            "/customer/dashboard",
            "/mechanic/dashboard",
            "data-testid",
            "next-session-status",
            "no-upcoming-sessions",
            "history-item",
        )
    app: AppServer = request.getfixturevalue("second_ui_app")
    return UI(
        "second",
        app.url,
        "/signin",
        "/app/home",
        "/garage/queue",
        "data-test",
        "upcoming-state",
        "upcoming-none",
        "past-session",
    )


class Watched:
    """A signed-in page and every request it makes."""

    def __init__(self, context: BrowserContext) -> None:
        self.page: Page = context.new_page()
        self.requests: list[str] = []
        self.page.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        self.requests.append(f"{request.method} {request.url}")

    def open(self, path: str, fetches: str) -> None:
        """Open ``path`` and wait until it has subscribed and fetched ``fetches`` once."""
        with self.page.expect_response(lambda r: fetches in r.url):
            self.page.goto(path)
        expect(self.page.locator("html")).to_have_attribute("data-updates", "live")

    def expect_idle(self) -> None:
        """No request at all for IDLE_MS: nothing polls."""
        self.requests.clear()
        self.page.wait_for_timeout(IDLE_MS)
        assert self.requests == []

    def fetched(self, fragment: str) -> list[str]:
        return [r for r in self.requests if fragment in r]


OpenAs = Callable[[str, str, AppUser], Watched]  # (the app's URL, its login path, the user)


@pytest.fixture
def signed_in(browser: Browser) -> Iterator[OpenAs]:
    contexts: list[BrowserContext] = []

    def open_as(ui_url: str, login_path: str, user: AppUser) -> Watched:
        with httpx.Client(base_url=ui_url, timeout=20) as client:
            response = client.post(login_path, data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 303, response.text
            cookie = client.cookies[COOKIE_NAME]
        context = browser.new_context(base_url=ui_url)
        context.set_default_timeout(10_000)
        context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": ui_url}])
        contexts.append(context)
        return Watched(context)

    yield open_as
    for context in contexts:
        context.close()


def pushed(check: Callable[[], None]) -> float:
    """Seconds until the Playwright assertion ``check`` passes."""
    start = time.monotonic()
    check()
    return time.monotonic() - start


def test_an_outside_sql_write_reaches_an_open_customer_dashboard_at_once(
    ui: UI, signed_in: OpenAs, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    customer = users("customer")
    waiting = seed.session(customer.id, status="waiting")
    watched = signed_in(ui.url, ui.login, customer)
    watched.open(ui.customer_home, "/api/customer/sessions")
    page = watched.page
    expect(page.locator(f"[{ui.test_id}='{ui.next_status}']")).to_have_text("waiting")
    watched.expect_idle()

    # As a harness cancels a stale session: straight in SQL, not through the app.
    store.connection.execute(
        "update public.sessions set status = 'cancelled', ended_at = now() where id = %s", (waiting.session,)
    )
    item = page.locator(f"[{ui.test_id}='{ui.history_item}'][data-session-id='{waiting.session}']")
    took = pushed(lambda: expect(item).to_have_attribute("data-status", "cancelled", timeout=5000))
    assert took < PUSHED_S, f"the change took {took:.2f}s to show"
    expect(page.locator(f"[{ui.test_id}='{ui.nothing_upcoming}']")).to_be_visible()

    # A new session, then a purge of everything the customer had: both show, each with one fetch.
    watched.requests.clear()
    seed.session(customer.id, status="live", mechanic=users("mechanic").id, request="accepted")
    status = page.locator(f"[{ui.test_id}='{ui.next_status}']")
    assert pushed(lambda: expect(status).to_have_text("live", timeout=5000)) < PUSHED_S
    with store.connection.transaction():
        store.connection.execute("delete from public.session_requests where customer_id = %s", (customer.id,))
        store.connection.execute("delete from public.sessions where customer_id = %s", (customer.id,))
    expect(page.locator(f"[{ui.test_id}='{ui.nothing_upcoming}']")).to_be_visible()
    expect(item).to_have_count(0)
    page.wait_for_timeout(300)
    assert len(watched.fetched("/api/customer/sessions")) == 2, watched.requests


def test_pending_requests_appear_and_go_on_an_open_mechanic_dashboard_at_once(
    ui: UI, signed_in: OpenAs, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    watched = signed_in(ui.url, ui.login, users("mechanic"))
    watched.open(ui.mechanic_home, "/api/mechanics/requests")
    watched.expect_idle()

    seeded = seed.session(users("customer").id, status="waiting")
    row = watched.page.locator(f"#request-rows > [data-request-id='{seeded.request}']")
    assert pushed(lambda: expect(row).to_have_count(1, timeout=5000)) < PUSHED_S
    watched.expect_idle()

    # Another customer's purge, straight in SQL: the request goes from every mechanic's list.
    store.connection.execute("delete from public.session_requests where id = %s", (seeded.request,))
    assert pushed(lambda: expect(row).to_have_count(0, timeout=5000)) < PUSHED_S
    watched.expect_idle()


def test_a_write_that_changes_nothing_shown_sends_no_page_a_fetch(
    signed_in: OpenAs, stack: Stack, users: Users, store: PostgresStore
) -> None:
    """A mechanic's list moves for pending requests only; a customer's for their own sessions only."""
    seed = Seeder(store.connection)
    customer = users("customer")
    mechanic = users("mechanic")
    accepted = seed.session(users("customer").id, status="live", mechanic=mechanic.id, request="accepted")
    customer_page = signed_in(stack.url, "/customer/login", customer)
    customer_page.open("/customer/dashboard", "/api/customer/sessions")
    mechanic_page = signed_in(stack.url, "/mechanic/login", mechanic)
    mechanic_page.open("/mechanic/dashboard", "/api/mechanics/requests")
    customer_page.requests.clear()
    mechanic_page.requests.clear()

    store.connection.execute(
        "update public.session_requests set accepted_at = now() where id = %s", (accepted.request,)
    )
    store.connection.execute(
        "update public.sessions set status = 'completed', ended_at = now() where id = %s", (accepted.session,)
    )
    mechanic_page.page.wait_for_timeout(1000)
    assert customer_page.requests == [] and mechanic_page.requests == []


def _processing_success_page(
    signed_in: OpenAs, stack: Stack, stripe_client: stripe.StripeClient, customer: AppUser
) -> tuple[Watched, str]:
    """The customer's success page for a payment not made yet: it says "processing"."""
    intent_id = paid_intent(stripe_client, customer.id, confirm=False)
    watched = signed_in(stack.url, "/customer/login", customer)
    watched.open(f"/checkout/success?payment_intent={intent_id}", f"/api/checkout/{intent_id}")
    expect(watched.page.get_by_test_id("session-status")).to_have_text("processing")
    return watched, intent_id


def _pay_and_deliver(
    stripe_client: stripe.StripeClient, anonymous: httpx.Client, intent_id: str
) -> httpx.Response:
    """The payment made at Stripe, and its signed event posted to the app's webhook."""
    stripe_client.v1.payment_intents.confirm(intent_id)
    payload = event(intent_id)
    return post_event(anonymous, payload, signature(payload))


def test_the_success_page_shows_the_session_as_soon_as_the_webhook_fulfils_it(
    signed_in: OpenAs,
    stack: Stack,
    users: Users,
    store: PostgresStore,
    stripe_client: stripe.StripeClient,
    anonymous: httpx.Client,
) -> None:
    customer = users("customer")
    watched, intent_id = _processing_success_page(signed_in, stack, stripe_client, customer)
    status = watched.page.get_by_test_id("session-status")
    watched.expect_idle()

    response = _pay_and_deliver(stripe_client, anonymous, intent_id)
    assert response.status_code == 200 and response.json()["state"] == "fulfilled", response.text
    assert pushed(lambda: expect(status).to_have_text("waiting", timeout=5000)) < PUSHED_S
    session_id = store.connection.execute(
        "select id from public.sessions where payment_intent_id = %s", (intent_id,)
    ).fetchone()
    assert session_id is not None
    expect(status).to_have_attribute("data-session-id", str(session_id[0]))
    # Done: it stopped listening, and nothing polls.
    expect(watched.page.locator("html")).to_have_attribute("data-updates", "stopped")
    watched.expect_idle()


def test_the_success_page_shows_the_refusal_as_soon_as_the_webhook_refunds(
    signed_in: OpenAs,
    stack: Stack,
    users: Users,
    store: PostgresStore,
    stripe_client: stripe.StripeClient,
    anonymous: httpx.Client,
) -> None:
    customer = users("customer")
    watched, intent_id = _processing_success_page(signed_in, stack, stripe_client, customer)
    # Meanwhile another payment made a session: this one is refused and refunded, no row changes.
    Seeder(store.connection).session(customer.id, status="waiting")
    watched.page.wait_for_timeout(300)

    response = _pay_and_deliver(stripe_client, anonymous, intent_id)
    assert response.status_code == 200 and response.json()["state"] == "blocked", response.text
    blocked = watched.page.get_by_test_id("active-session-error")
    assert pushed(lambda: expect(blocked).to_contain_text("already has an active session", timeout=5000)) < 2


def test_a_click_on_a_request_another_mechanic_just_took_says_it_was_taken(
    signed_in: OpenAs, stack: Stack, users: Users, store: PostgresStore
) -> None:
    """The row leaves the list at once; a press already on its way still gets the server's answer."""
    seeded = Seeder(store.connection).session(users("customer").id, status="waiting")
    watched = signed_in(stack.url, "/mechanic/login", users("mechanic"))
    watched.open("/mechanic/dashboard", "/api/mechanics/requests")
    button = watched.page.get_by_test_id(f"accept-{seeded.request}").element_handle()

    other = users("mechanic")
    with httpx.Client(base_url=stack.url, timeout=20) as client:
        assert client.post("/mechanic/login", data={"email": other.email, "password": PASSWORD}).is_redirect
        assert client.post(f"/api/mechanics/requests/{seeded.request}/accept").status_code == 200
    expect(watched.page.get_by_test_id(f"request-{seeded.request}")).to_have_count(0)

    button.evaluate("button => button.click()")  # pressed as the row went
    expect(watched.page.get_by_test_id("accept-error")).to_contain_text("already accepted")


# -- the socket itself -----------------------------------------------------------------------


def updates_socket(base_url: str, cookie: str | None) -> ClientConnection:
    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
    return connect(base_url.replace("http://", "ws://") + "/api/updates", additional_headers=headers)


def next_event(ws: ClientConnection, timeout: float = 5.0) -> str | None:
    """The type of the socket's next event, or None when none comes within ``timeout``."""
    try:
        return str(json.loads(ws.recv(timeout=timeout))["type"])
    except TimeoutError:
        return None


def test_the_updates_socket_needs_a_signed_in_user(stack: Stack) -> None:
    for cookie in (None, "forged"):
        with updates_socket(stack.url, cookie) as ws:
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=5)
            assert ws.close_code == 4401


def test_each_user_hears_of_what_their_pages_show_only(
    stack: Stack, login: Login, users: Users, store: PostgresStore
) -> None:
    seed = Seeder(store.connection)
    customer, other, mechanic = users("customer"), users("customer"), users("mechanic")
    sockets = {
        user.id: updates_socket(stack.url, login(user).cookies[COOKIE_NAME])
        for user in (customer, other, mechanic)
    }
    try:
        for ws in sockets.values():
            assert next_event(ws) == "ready"
        # A session with its pending request: its customer and every mechanic; one event each.
        seeded = seed.session(customer.id, status="waiting")
        assert next_event(sockets[customer.id]) == "changed"
        assert next_event(sockets[mechanic.id]) == "changed"
        # The request accepted elsewhere, in SQL: it leaves the mechanics' list; the session goes live.
        with store.connection.transaction():
            store.connection.execute(
                "update public.session_requests set status = 'accepted', accepted_by = %s where id = %s",
                (mechanic.id, seeded.request),
            )
            store.connection.execute(
                "update public.sessions set status = 'live', mechanic_id = %s where id = %s",
                (mechanic.id, seeded.session),
            )
        assert next_event(sockets[customer.id]) == "changed"
        assert next_event(sockets[mechanic.id]) == "changed"
        # Another customer's history row and an accepted request's change: nobody else hears.
        seed.session(other.id, status="completed", request="accepted")
        assert next_event(sockets[other.id]) == "changed"
        for user_id in (customer.id, mechanic.id):
            assert next_event(sockets[user_id], timeout=0.5) is None
    finally:
        for ws in sockets.values():
            ws.close()
