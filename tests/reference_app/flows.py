"""Steps the tests repeat: intake, card tokens, paying, signed webhook events."""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import UUID

import httpx
import stripe

from tests.reference_app.conftest import PUBLISHABLE_KEY, WEBHOOK_SECRET

VISA = "4242424242424242"
DECLINED = "4000000000000002"
INTAKE = {
    "year": "2016",
    "make": "Honda",
    "model": "Civic",
    "mileage": "84000",
    "description": "Squeaks when braking",
}


def start_checkout(client: httpx.Client, plan: str = "quick-chat", **fields: str) -> str:
    """Submit the intake; return the PaymentIntent id the checkout page is for."""
    response = client.post("/onboarding/intake", data={"plan": plan, **INTAKE, **fields})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/checkout/pi_")
    return location.removeprefix("/checkout/")


def card_token(localstripe_url: str, number: str = VISA) -> str:
    """What localstripe's Stripe.js stand-in does with the card inputs."""
    response = httpx.post(
        f"{localstripe_url}/v1/tokens",
        data={
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
            "key": PUBLISHABLE_KEY,
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def pay(client: httpx.Client, localstripe_url: str, intent_id: str, number: str = VISA) -> httpx.Response:
    token = card_token(localstripe_url, number)
    return client.post(f"/api/checkout/{intent_id}/card", json={"token": token})


def paid_intent(
    stripe_client: stripe.StripeClient,
    customer: UUID,
    *,
    plan: str = "quick-chat",
    confirm: bool = True,
    payment_method: str = "pm_card_visa",
) -> str:
    """A PaymentIntent made as the app makes them, paid straight through the API."""
    intent = stripe_client.v1.payment_intents.create(
        params={
            "amount": 1900,
            "currency": "usd",
            "payment_method_types": ["card"],
            "payment_method": payment_method,
            "confirm": confirm,
            "metadata": {
                "customer_id": str(customer),
                "plan": plan,
                "vehicle": json.dumps({"year": 2016, "make": "Honda", "model": "Civic", "mileage": 84000}),
                "description": "Squeaks when braking",
            },
        }
    )
    return str(intent.id)


def event(intent_id: str, event_type: str = "payment_intent.succeeded") -> bytes:
    body: dict[str, Any] = {
        "id": f"evt_test_{intent_id}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent"}},
    }
    return json.dumps(body).encode()


def signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header as Stripe computes it: HMAC-SHA256 over ``{t}.{payload}``."""
    return str(
        stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=timestamp)
    )


def post_event(client: httpx.Client, payload: bytes, header: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post("/api/stripe/webhook", content=payload, headers=headers)
