"""Stripe's wire format: its events and their signatures, as Stripe sends them to a webhook.

Shared by the embedded Stripe (``harness.stack.stripe_front``, which sends Checkout events)
and the engine (``harness.engine.payments``, which delivers events to an app itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.request
from typing import Any

from harness.errors import BadInput

# Each call to the Stripe API (or a webhook endpoint) gives up after this long.
REQUEST_TIMEOUT_S = 10.0


def require_stripe() -> None:
    """The ``stripe`` library is imported where it is used: a base install (no ``[stack]`` extra) has
    none, and asking it to pay or speak through Stripe is bad input saying what to install."""
    try:
        import stripe  # noqa: F401
    except ImportError:
        raise BadInput(
            "paying through Stripe needs the stripe library",
            fix="pip install 'pytest-pitstop[stack]', or pip install stripe",
        ) from None


def stripe_event(
    event_type: str, obj: dict[str, Any], *, event_id: str | None = None, pending_webhooks: int = 1
) -> dict[str, Any]:
    """An event of ``event_type`` about ``obj``, in the shape Stripe sends it.

    ``event_id``: by default a new ``evt_pitstop_…``. The one home of the event's shape: pitstop's
    own (``checkout_completed_event``) and the embedded Stripe's (``harness.stack.stripe_front``).
    """
    require_stripe()
    import stripe

    return {
        "id": event_id if event_id is not None else "evt_pitstop_" + secrets.token_hex(12),
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def checkout_completed_event(session: dict[str, Any]) -> dict[str, Any]:
    """A ``checkout.session.completed`` event for ``session``, in the shape Stripe sends it."""
    return stripe_event("checkout.session.completed", session)


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=…,v1=HMAC-SHA256(secret, "t.payload")``.

    Signed as Stripe signs. The one home of pitstop's webhook signing: ``deliver`` here and the
    embedded Stripe's Checkout events (``harness.stack.stripe_front``).
    """
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


def deliver(event: dict[str, Any], *, url: str, secret: str, timeout_s: float = REQUEST_TIMEOUT_S) -> int:
    """Send ``event`` to a webhook endpoint signed as Stripe signs (``t=…,v1=HMAC-SHA256``); the status."""
    payload = json.dumps(event).encode()
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature_header(payload, secret)},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        status: int = response.status
        return status
