"""Pricing, intake, checkout with localstripe, and the success page's fulfillment."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import stripe

from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import Login, Stack, Users, rows
from tests.reference_app.flows import DECLINED, INTAKE, pay, start_checkout


def intent_count(stripe_client: stripe.StripeClient) -> int:
    return len(stripe_client.v1.payment_intents.list(params={"limit": 100}).data)


def test_pricing_offers_three_plans_and_the_dashboard_leads_there(login: Login, users: Users) -> None:
    client = login(users("customer"))
    dashboard = client.get("/customer/dashboard").text
    assert 'data-testid="pick-plan"' in dashboard and 'href="/onboarding/pricing"' in dashboard
    html = client.get("/onboarding/pricing").text
    for slug, name, price in [
        ("quick-chat", "Quick Chat", "$19.00"),
        ("standard-video", "Standard Video", "$39.00"),
        ("full-diagnostic", "Full Diagnostic", "$69.00"),
    ]:
        card = re.search(rf'data-testid="plan-{slug}".*?</div>', html, re.S)
        assert card, slug
        assert (
            name in card.group(0) and price in card.group(0) and 'data-testid="choose-plan"' in card.group(0)
        )


def test_the_intake_form_has_its_fields_and_needs_a_known_plan(login: Login, users: Users) -> None:
    client = login(users("customer"))
    html = client.get("/onboarding/intake", params={"plan": "standard-video"}).text
    for testid in ("vehicle-year", "vehicle-make", "vehicle-model", "vehicle-mileage"):
        assert f'data-testid="{testid}"' in html
    assert 'data-testid="problem-description"' in html and 'data-testid="intake-submit"' in html
    assert (
        client.get("/onboarding/intake", params={"plan": "gold"}).headers["location"] == "/onboarding/pricing"
    )
    posted = client.post("/onboarding/intake", data={"plan": "gold", **INTAKE})
    assert posted.status_code == 303 and posted.headers["location"] == "/onboarding/pricing"


BAD_INTAKE = [
    ({"year": "1900"}, ["year"]),
    ({"year": "2150"}, ["year"]),
    ({"year": "nineteen"}, ["year"]),
    (
        {"year": "", "make": "", "model": "", "mileage": "", "description": ""},
        ["year", "make", "model", "mileage", "description"],
    ),
    ({"make": "x" * 41}, ["make"]),
    ({"model": "   "}, ["model"]),
    ({"mileage": "-5"}, ["mileage"]),
    ({"mileage": "3000000"}, ["mileage"]),
    ({"description": "d" * 501}, ["description"]),
]


@pytest.mark.parametrize(("fields", "bad"), BAD_INTAKE)
def test_bad_intake_shows_a_message_per_field_and_stores_nothing(
    login: Login,
    users: Users,
    store: PostgresStore,
    stripe_client: stripe.StripeClient,
    fields: dict[str, str],
    bad: list[str],
) -> None:
    client = login(users("customer"))
    before = intent_count(stripe_client)
    response = client.post("/onboarding/intake", data={"plan": "quick-chat", **INTAKE, **fields})
    assert response.status_code == 422
    shown = set(re.findall(r'data-testid="error-(\w+)"', response.text))
    assert shown == set(bad)
    if "make" not in bad:
        assert 'value="Honda"' in response.text  # the good values come back
    assert intent_count(stripe_client) == before
    assert rows(store, "select count(*) from public.sessions")[0][0] == 0


def test_intake_creates_a_payment_intent_carrying_customer_plan_and_vehicle(
    login: Login, users: Users, stripe_client: stripe.StripeClient
) -> None:
    customer = users("customer")
    client = login(customer)
    intent_id = start_checkout(client, "full-diagnostic", description="Knocks <b>loudly</b>")
    intent = stripe_client.v1.payment_intents.retrieve(intent_id)
    assert intent.amount == 6900 and intent.currency == "usd"
    metadata = intent.metadata.to_dict()
    assert metadata["customer_id"] == str(customer.id) and metadata["plan"] == "full-diagnostic"
    assert json.loads(metadata["vehicle"]) == {
        "year": 2016,
        "make": "Honda",
        "model": "Civic",
        "mileage": 84000,
    }
    assert metadata["description"] == "Knocks <b>loudly</b>"


def test_the_checkout_page_mounts_stripe_js_from_the_configured_url(
    stack: Stack, login: Login, users: Users
) -> None:
    client = login(users("customer"))
    intent_id = start_checkout(client, "standard-video")
    html = client.get(f"/checkout/{intent_id}").text
    for testid in ("checkout-plan", "checkout-amount", "card-element", "pay-button", "payment-error"):
        assert f'data-testid="{testid}"' in html
    assert "Standard Video" in html and "$39.00" in html
    assert f'<script src="{stack.localstripe.url}/js.stripe.com/v3/"></script>' in html
    assert f'data-client-secret="{intent_id}_secret_' in html
    assert httpx.get(f"{stack.localstripe.url}/js.stripe.com/v3/").status_code == 200


def test_another_customers_checkout_is_not_found(login: Login, users: Users) -> None:
    intent_id = start_checkout(login(users("customer")))
    other = login(users("customer"))
    assert other.get(f"/checkout/{intent_id}").status_code == 404
    assert other.get("/checkout/success", params={"payment_intent": intent_id}).status_code == 404
    assert other.get("/checkout/pi_doesnotexist").status_code == 404
    assert other.get("/checkout/not-an-intent").status_code == 404


def test_a_declined_card_shows_stripes_message_and_creates_no_session(
    stack: Stack, login: Login, users: Users, store: PostgresStore, stripe_client: stripe.StripeClient
) -> None:
    client = login(users("customer"))
    intent_id = start_checkout(client)
    response = pay(client, stack.localstripe.url, intent_id, DECLINED)
    assert response.status_code == 402
    assert response.json() == {"error": "Your card was declined."}
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status != "succeeded"
    success = client.get("/checkout/success", params={"payment_intent": intent_id})
    assert 'data-testid="payment-success"' not in success.text
    assert rows(store, "select count(*) from public.sessions")[0][0] == 0


def test_the_card_endpoint_wants_a_token(stack: Stack, login: Login, users: Users) -> None:
    client = login(users("customer"))
    intent_id = start_checkout(client)
    for body in ({}, {"token": 42}, {"token": "pm_card_visa"}):
        assert client.post(f"/api/checkout/{intent_id}/card", json=body).status_code == 422
    assert client.post(f"/api/checkout/{intent_id}/card", content=b"{nope").status_code == 422


def test_paying_and_opening_the_success_page_creates_a_waiting_session_and_request(
    stack: Stack, login: Login, users: Users, store: PostgresStore
) -> None:
    customer = users("customer")
    client = login(customer)
    intent_id = start_checkout(client, "standard-video")
    paid = pay(client, stack.localstripe.url, intent_id)
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"

    page = client.get("/checkout/success", params={"payment_intent": intent_id})
    assert page.status_code == 200
    assert 'data-testid="payment-success"' in page.text
    status = re.search(r'data-testid="session-status"[^>]*data-session-id="([^"]+)">(\w+)<', page.text, re.S)
    assert status and status.group(2) == "waiting"

    sessions = rows(store, "select id, customer_id, plan, status, payment_intent_id from public.sessions")
    assert len(sessions) == 1
    session_id, customer_id, plan, state, pi = sessions[0]
    assert (str(session_id), customer_id, plan, state, pi) == (
        status.group(1),
        customer.id,
        "Standard Video",
        "waiting",
        intent_id,
    )
    requests = rows(
        store, "select session_id, customer_id, plan, status, vehicle from public.session_requests"
    )
    vehicle = {"year": 2016, "make": "Honda", "model": "Civic", "mileage": 84000}
    assert requests == [
        (
            session_id,
            customer.id,
            "Standard Video",
            "pending",
            {**vehicle, "description": INTAKE["description"]},
        )
    ]
    # The checkout page of a paid intent goes to the success page.
    assert client.get(f"/checkout/{intent_id}").headers["location"].startswith("/checkout/success")
    status_json = client.get(f"/api/checkout/{intent_id}").json()
    assert status_json["state"] == "fulfilled" and status_json["session_id"] == str(session_id)


def test_an_unpaid_intent_is_still_processing_on_the_success_page(login: Login, users: Users) -> None:
    client = login(users("customer"))
    intent_id = start_checkout(client)
    page = client.get("/checkout/success", params={"payment_intent": intent_id})
    assert page.status_code == 200 and 'data-state="failed"' in page.text
    assert client.get(f"/api/checkout/{intent_id}").json()["session_id"] is None
