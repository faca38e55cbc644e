"""Paying without the card form: a real PaymentIntent, confirmed through the Stripe API.

The way ``stripe trigger`` works: the harness creates and confirms a
PaymentIntent with the metadata the app's checkout would set, and Stripe (or
localstripe, embedded) sends the app its signed ``payment_intent.succeeded``
webhook. Only test keys are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from typing import Any

import stripe

from harness.errors import PitstopError, Unreachable
from harness.safety import check_stripe_key

# Each call to the Stripe API (or a webhook endpoint) gives up after this long.
REQUEST_TIMEOUT_S = 10.0


class Payments:
    """Stripe test-mode calls on behalf of a test customer."""

    def __init__(
        self, *, secret_key: str, api_base: str | None = None, timeout_s: float = REQUEST_TIMEOUT_S
    ) -> None:
        check_stripe_key(secret_key)
        if not secret_key.startswith(("sk_test_", "rk_test_")):
            raise PitstopError(
                "paying by webhook needs a Stripe test key", fix="set STRIPE_SECRET_KEY=sk_test_…"
            )
        base_addresses: Any = {"api": api_base} if api_base else {}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base_addresses,
            http_client=stripe.new_default_http_client(timeout=timeout_s),
            max_network_retries=0,
        )
        self._where = api_base or "https://api.stripe.com"
        self._timeout_s = timeout_s

    def pay(
        self,
        *,
        customer_id: str,
        plan: str,
        amount: int,
        vehicle: dict[str, Any],
        card: dict[str, str],
        currency: str = "usd",
    ) -> str:
        """Create and confirm a PaymentIntent for ``plan``; returns its id."""
        card_params: Any = {"card": {k: card[k] for k in ("number", "exp_month", "exp_year", "cvc")}}
        details = {k: vehicle[k] for k in ("year", "make", "model", "mileage")}
        try:
            token = self._client.v1.tokens.create(params=card_params)
            buyer = self._client.v1.customers.create(params={"source": token.id})
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount,
                    "currency": currency,
                    "customer": buyer.id,
                    "payment_method": buyer.to_dict()["default_source"],
                    "metadata": {
                        "customer_id": customer_id,
                        "plan": plan,
                        "vehicle": json.dumps(details, separators=(",", ":")),
                        "description": vehicle["description"],
                    },
                }
            )
            intent = self._client.v1.payment_intents.confirm(intent.id)
        except stripe.APIConnectionError as exc:
            raise Unreachable(
                f"the Stripe API at {self._where} did not answer within {self._timeout_s:g} s: "
                f"{exc.user_message or exc}",
                fix="check that the Stripe API (localstripe, embedded) is running",
            ) from None
        except stripe.StripeError as exc:
            raise PitstopError(f"the Stripe API refused the payment: {exc.user_message or exc}") from None
        if intent.status != "succeeded":
            raise PitstopError(f"the payment {intent.id} ended {intent.status}, not succeeded")
        return str(intent.id)

    def event_for(self, intent_id: str, event_type: str = "payment_intent.succeeded") -> dict[str, Any]:
        """The event Stripe made for a PaymentIntent, as it was sent."""
        for event in self._client.v1.events.list(params={"limit": 100}).auto_paging_iter():
            data = event.to_dict()
            if data["type"] == event_type and data["data"]["object"]["id"] == intent_id:
                return data
        raise PitstopError(f"no {event_type} event for {intent_id}")


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=…,v1=HMAC-SHA256(secret, "t.payload")``.

    Signed as Stripe signs. The one home of pitstop's webhook signing: ``deliver`` here and the
    embedded Stripe's Checkout events (``harness.stripe_front``).
    """
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


def deliver(event: dict[str, Any], *, url: str, secret: str) -> int:
    """Send ``event`` to a webhook endpoint signed as Stripe signs (``t=…,v1=HMAC-SHA256``); the status."""
    payload = json.dumps(event).encode()
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature_header(payload, secret)},
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
        status: int = response.status
        return status
