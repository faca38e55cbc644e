"""Stripe through the official library, against Stripe test mode or a localstripe server."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import stripe

from harness.stack.reference_app.config import Config
from harness.stack.reference_app.plans import Plan

# Stripe's ids: a prefix and letters and digits, at most 255 characters in all. Anything else is
# no PaymentIntent (or Checkout Session), and must not reach Stripe's URL paths.
INTENT_ID = re.compile(r"pi_[A-Za-z0-9]{1,252}")
CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,252}")


class PaymentError(Exception):
    """A payment step failed; ``str(exc)`` is Stripe's message, fit to show to the customer."""


class PaymentsUnavailable(PaymentError):
    pass


@dataclass(frozen=True)
class Intake:
    year: int
    make: str
    model: str
    mileage: int
    description: str

    def vehicle(self) -> dict[str, Any]:
        return {"year": self.year, "make": self.make, "model": self.model, "mileage": self.mileage}


@dataclass(frozen=True)
class Intent:
    """The parts of a PaymentIntent the app uses."""

    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    amount_refunded: int = 0
    error: str | None = None

    @property
    def customer_id(self) -> str | None:
        return self.metadata.get("customer_id")

    @property
    def plan(self) -> str | None:
        return self.metadata.get("plan")

    def vehicle(self) -> dict[str, Any]:
        """The intake as stored on the request: the vehicle plus the problem description."""
        return _vehicle(self.metadata)


def _vehicle(metadata: dict[str, str]) -> dict[str, Any]:
    """The intake as stored on the request: the vehicle (JSON in the metadata) plus the description."""
    try:
        vehicle = json.loads(metadata.get("vehicle", "{}"))
    except ValueError:
        vehicle = {}
    if not isinstance(vehicle, dict):
        vehicle = {}
    vehicle["description"] = metadata.get("description", "")
    return vehicle


@dataclass(frozen=True)
class CheckoutSession:
    """The parts of a Checkout Session the app uses (``checkout_session`` payments).

    Its metadata is what the app set when it made it: ``plan`` (the slug),
    ``supabase_user_id``, ``intake_id``, and the intake itself (``vehicle``,
    ``description``), since the app keeps no intakes table.
    """

    id: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    payment_intent: str | None
    amount: int  # amount_total
    currency: str
    url: str | None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def customer_id(self) -> str | None:
        return self.metadata.get("supabase_user_id")

    @property
    def plan(self) -> str | None:
        return self.metadata.get("plan")

    def vehicle(self) -> dict[str, Any]:
        return _vehicle(self.metadata)


def _checkout_session(resource: stripe.StripeObject) -> CheckoutSession:
    obj = resource.to_dict()
    intent = obj.get("payment_intent")  # expanded: a dict; otherwise an id (None until paid)
    return CheckoutSession(
        id=obj["id"],
        status=obj.get("status") or "open",
        payment_status=obj.get("payment_status") or "unpaid",
        payment_intent=intent.get("id") if isinstance(intent, dict) else intent,
        amount=int(obj.get("amount_total") or 0),
        currency=obj.get("currency") or "usd",
        url=obj.get("url"),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
    )


def _intent(resource: stripe.StripeObject) -> Intent:
    obj = resource.to_dict()
    charge = obj.get("latest_charge")  # expanded: a dict; otherwise an id
    refunded = int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0
    error = obj.get("last_payment_error")
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=obj.get("currency") or "usd",
        client_secret=obj.get("client_secret"),
        metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
        amount_refunded=refunded,
        error=error.get("message") if error else None,
    )


class Payments:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._client: stripe.StripeClient | None = None
        if config.stripe_secret_key:
            base = {"api": config.stripe_api_base} if config.stripe_api_base else None
            self._client = stripe.StripeClient(
                config.stripe_secret_key,
                base_addresses=base,  # type: ignore[arg-type]
                http_client=stripe.HTTPXClient(timeout=20),
                max_network_retries=0 if config.stripe_api_base else 2,
            )

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            raise PaymentsUnavailable("Payments are not configured (STRIPE_SECRET_KEY is not set)")
        return self._client

    async def create_intent(self, plan: Plan, customer_id: str, intake: Intake) -> Intent:
        try:
            obj = await self.client.v1.payment_intents.create_async(
                params={
                    "amount": plan.amount,
                    "currency": self.config.currency,
                    "metadata": {
                        "customer_id": customer_id,
                        "plan": plan.slug,
                        "vehicle": json.dumps(intake.vehicle(), separators=(",", ":")),
                        "description": intake.description,
                    },
                }
            )
        except stripe.StripeError as exc:
            raise PaymentError(exc.user_message or "The payment could not be started") from exc
        return _intent(obj)

    async def create_checkout_session(
        self,
        plan: Plan,
        *,
        customer_id: str,
        customer_email: str,
        intake: Intake,
        intake_id: str,
        success_url: str,
        cancel_url: str,
    ) -> CheckoutSession:
        """A Checkout Session for ``plan`` on Stripe's hosted page, as a Next.js route makes one.

        ``success_url`` carries ``{CHECKOUT_SESSION_ID}``, which Stripe fills in on the redirect.
        """
        try:
            obj = await self.client.v1.checkout.sessions.create_async(
                params={
                    "mode": "payment",
                    "line_items": [
                        {
                            "price_data": {
                                "currency": plan.currency,
                                "unit_amount": plan.amount,
                                "product_data": {"name": plan.name},
                            },
                            "quantity": 1,
                        }
                    ],
                    "metadata": {
                        "plan": plan.slug,
                        "supabase_user_id": customer_id,
                        "intake_id": intake_id,
                        "vehicle": json.dumps(intake.vehicle(), separators=(",", ":")),
                        "description": intake.description,
                    },
                    "client_reference_id": customer_id,
                    "customer_email": customer_email,
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                }
            )
        except stripe.StripeError as exc:
            raise PaymentError(exc.user_message or "The payment could not be started") from exc
        return _checkout_session(obj)

    async def retrieve_checkout_session(self, session_id: str) -> CheckoutSession | None:
        """The Checkout Session, or None for an id that is not one (nothing is asked of Stripe then)."""
        if not CHECKOUT_SESSION_ID.fullmatch(session_id):
            return None
        try:
            obj = await self.client.v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as exc:
            if exc.http_status == 404:
                return None
            raise PaymentError(exc.user_message or "The payment could not be read") from exc
        return _checkout_session(obj)

    async def retrieve(self, intent_id: str) -> Intent | None:
        """The PaymentIntent, or None for an id that is not one (nothing is asked of Stripe then)."""
        if not INTENT_ID.fullmatch(intent_id):
            return None
        try:
            obj = await self.client.v1.payment_intents.retrieve_async(
                intent_id, params={"expand": ["latest_charge"]}
            )
        except stripe.StripeError as exc:
            if exc.http_status == 404:
                return None
            raise PaymentError(exc.user_message or "The payment could not be read") from exc
        return _intent(obj)

    async def pay_with_token(self, intent_id: str, token: str) -> Intent:
        """The card step of localstripe's Stripe.js stand-in, which only makes tokens.

        Attaching the card to a customer is where localstripe declines
        4000 0000 0000 0002, with Stripe's own message; the intent is then
        confirmed here. A card that needs 3-D Secure comes back
        ``requires_action`` for ``stripe.confirmCardPayment`` in the page.
        """
        client = self.client
        try:
            customer = await client.v1.customers.create_async(params={"source": token})
            await client.v1.payment_intents.update_async(
                intent_id,
                params={"customer": customer.id, "payment_method": customer.to_dict()["default_source"]},
            )
            await client.v1.payment_intents.confirm_async(intent_id)
        except stripe.StripeError as exc:
            raise PaymentError(exc.user_message or "Your card was declined.") from exc
        intent = await self.retrieve(intent_id)
        assert intent is not None
        return intent

    async def mark_fulfilled(self, intent_id: str, session_id: object) -> None:
        """Record on the PaymentIntent which session it became."""
        try:
            await self.client.v1.payment_intents.update_async(
                intent_id, params={"metadata": {"fulfilled_session": str(session_id)}}
            )
        except stripe.StripeError as exc:
            raise PaymentError(exc.user_message or "The payment could not be updated") from exc

    async def was_refunded(self, intent_id: str) -> bool:
        refunds = await self.client.v1.refunds.list_async(params={"payment_intent": intent_id})
        return bool(refunds.data)

    async def refund(self, intent_id: str) -> str | None:
        """Refund a payment once; ``None`` when it had been refunded already."""
        client = self.client
        if await self.was_refunded(intent_id):
            return None
        refund = await client.v1.refunds.create_async(
            params={"payment_intent": intent_id}, options={"idempotency_key": f"refund-{intent_id}"}
        )
        return str(refund.id)

    def construct_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """Verify a webhook's ``Stripe-Signature`` and read its event.

        Raises ``stripe.SignatureVerificationError`` for a bad signature, and
        ``ValueError`` for a body that is not an event (signed or not).
        """
        if not self.config.stripe_webhook_secret:
            raise PaymentsUnavailable("STRIPE_WEBHOOK_SECRET is not set")
        stripe.WebhookSignature.verify_header(
            payload, signature, self.config.stripe_webhook_secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise ValueError("the payload is not a Stripe event")
        return event
