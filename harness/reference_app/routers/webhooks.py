"""Stripe's webhook: a verified ``payment_intent.succeeded`` or ``checkout.session.completed``
fulfills the checkout (whichever the app's payment kind makes; both are handled)."""

from __future__ import annotations

import logging
import re
from typing import Any

import stripe
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from harness.reference_app.deps import AppState, State
from harness.reference_app.fulfillment import fulfill_checkout, fulfill_checkout_session
from harness.reference_app.payments import PaymentError, PaymentsUnavailable

router = APIRouter()
log = logging.getLogger(__name__)
INTENT_ID = re.compile(r"pi_[A-Za-z0-9]{1,250}")
CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


def _object_id(event: dict[str, Any], pattern: re.Pattern[str]) -> str | None:
    """The id of the object an event is about, if the event has that shape."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    obj_id = obj.get("id") if isinstance(obj, dict) else None
    return obj_id if isinstance(obj_id, str) and pattern.fullmatch(obj_id) else None


def _intent_id(event: dict[str, Any]) -> str | None:
    """The id of the PaymentIntent an event is about, if the event has that shape."""
    return _object_id(event, INTENT_ID)


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

    if event["type"] == "checkout.session.completed":
        return await _checkout_session_completed(state, event)
    if event["type"] != "payment_intent.succeeded":
        return JSONResponse({"received": True, "handled": False})
    intent_id = _intent_id(event)
    if intent_id is None:
        return JSONResponse({"error": "the event names no PaymentIntent"}, status_code=400)
    # Read the intent back from Stripe rather than trust the event's copy: it may be stale.
    try:
        intent = await state.payments.retrieve(intent_id)
    except PaymentError as exc:
        return JSONResponse({"error": str(exc)}, status_code=502)  # Stripe retries
    if intent is None:
        return JSONResponse({"error": f"unknown payment {intent_id}"}, status_code=400)
    outcome = await fulfill_checkout(state.pool, state.payments, intent)
    log.info("webhook %s for %s: %s", event.get("id"), intent_id, outcome.state)
    return JSONResponse({"received": True, "handled": True, **outcome.as_json()})


async def _checkout_session_completed(state: AppState, event: dict[str, Any]) -> Response:
    session_id = _object_id(event, CHECKOUT_SESSION_ID)
    if session_id is None:
        return JSONResponse({"error": "the event names no Checkout Session"}, status_code=400)
    # Read the session back from Stripe rather than trust the event's copy, as the success page does.
    try:
        checkout = await state.payments.retrieve_checkout_session(session_id)
    except PaymentError as exc:
        return JSONResponse({"error": str(exc)}, status_code=502)  # Stripe retries
    if checkout is None:
        return JSONResponse({"error": f"unknown Checkout Session {session_id}"}, status_code=400)
    outcome = await fulfill_checkout_session(state.pool, state.payments, checkout)
    log.info("webhook %s for %s: %s", event.get("id"), session_id, outcome.state)
    return JSONResponse({"received": True, "handled": True, **outcome.as_json()})
