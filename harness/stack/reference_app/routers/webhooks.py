"""Stripe's webhook: a verified ``payment_intent.succeeded`` or ``checkout.session.completed``
fulfills the checkout (whichever the app's payment kind makes; both are handled)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import stripe
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from harness.stack.reference_app.db import Pool
from harness.stack.reference_app.deps import AppState, State
from harness.stack.reference_app.fulfillment import Outcome, fulfill_checkout, fulfill_checkout_session
from harness.stack.reference_app.payments import (
    CHECKOUT_SESSION_ID,
    INTENT_ID,
    CheckoutSession,
    Intent,
    PaymentError,
    Payments,
    PaymentsUnavailable,
)

router = APIRouter()
log = logging.getLogger(__name__)

Paid = TypeVar("Paid", Intent, CheckoutSession)


@dataclass(frozen=True)
class _Handled(Generic[Paid]):
    """What an event type that fulfils is about, and how to read it back and fulfil it."""

    pattern: re.Pattern[str]  # its object's id
    noun: str  # in "the event names no ..."
    unknown: str  # in "unknown ... <id>"
    retrieve: Callable[[Payments, str], Awaitable[Paid | None]]
    fulfill: Callable[[Pool, Payments, Paid], Awaitable[Outcome]]


HANDLED: dict[str, _Handled[Any]] = {
    "payment_intent.succeeded": _Handled(
        INTENT_ID, "PaymentIntent", "payment", Payments.retrieve, fulfill_checkout
    ),
    "checkout.session.completed": _Handled(
        CHECKOUT_SESSION_ID,
        "Checkout Session",
        "Checkout Session",
        Payments.retrieve_checkout_session,
        fulfill_checkout_session,
    ),
}


def _object_id(event: dict[str, Any], pattern: re.Pattern[str]) -> str | None:
    """The id of the object an event is about, if the event has that shape."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    obj_id = obj.get("id") if isinstance(obj, dict) else None
    return obj_id if isinstance(obj_id, str) and pattern.fullmatch(obj_id) else None


@router.post("/api/stripe/webhook")
async def stripe_webhook(request: Request, state: State) -> Response:
    payload = await request.body()
    try:
        event = state.payments.construct_event(payload, request.headers.get("stripe-signature"))
    except PaymentsUnavailable as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    except stripe.SignatureVerificationError:
        return JSONResponse({"error": "invalid or missing Stripe-Signature"}, status_code=400)
    except ValueError:
        return JSONResponse({"error": "the payload is not a Stripe event"}, status_code=400)

    handled = HANDLED.get(event["type"])
    if handled is None:
        return JSONResponse({"received": True, "handled": False})
    return await _fulfill(state, event, handled)


async def _fulfill(state: AppState, event: dict[str, Any], handled: _Handled[Paid]) -> Response:
    object_id = _object_id(event, handled.pattern)
    if object_id is None:
        return JSONResponse({"error": f"the event names no {handled.noun}"}, status_code=400)
    # Read the object back from Stripe rather than trust the event's copy: it may be stale.
    try:
        paid = await handled.retrieve(state.payments, object_id)
    except PaymentError as exc:
        return JSONResponse({"error": str(exc)}, status_code=502)  # Stripe retries
    if paid is None:
        return JSONResponse({"error": f"unknown {handled.unknown} {object_id}"}, status_code=400)
    outcome = await handled.fulfill(state.pool, state.payments, paid)
    log.info("webhook %s for %s: %s", event.get("id"), object_id, outcome.state)
    return JSONResponse({"received": True, "handled": True, **outcome.as_json()})
