"""Turning a paid PaymentIntent into a waiting session (the original app's ``fulfillCheckout``).

Called by the webhook and by the success page, possibly at the same moment:
a transaction-scoped advisory lock per customer serializes them, the
``payment_intent_id`` unique constraint backs it up, and a second call finds
the session the first one made.

A Checkout Session (``PAYMENT_KIND=checkout_session``) is fulfilled the same
way, keyed by the PaymentIntent it paid with: Stripe makes exactly one per
session, set once it is paid, so one Checkout Session makes at most one
session; its refund and its "fulfilled" mark are on that PaymentIntent too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from harness.stack.reference_app import cleanup
from harness.stack.reference_app.db import Pool, fetch_one
from harness.stack.reference_app.payments import CheckoutSession, Intent, PaymentError, Payments
from harness.stack.reference_app.plans import Plan, find_plan
from harness.stack.reference_app.realtime import customer_topic, notify_change

ACTIVE_SESSION_MESSAGE = "Customer already has an active session"
FULFILLED_KEY = "fulfilled_session"  # PaymentIntent metadata, set once a session was made

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    # fulfilled | blocked | processing | failed
    state: str
    session_id: UUID | None = None
    session_status: str | None = None
    message: str | None = None
    created: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "session_id": str(self.session_id) if self.session_id else None,
            "session_status": self.session_status,
            "message": self.message,
        }


def _customer(value: str | None) -> UUID | None:
    try:
        return UUID(value or "")
    except ValueError:
        return None


async def fulfill_checkout(pool: Pool, payments: Payments, intent: Intent) -> Outcome:
    if intent.status in ("processing", "requires_action", "requires_confirmation", "requires_capture"):
        return Outcome("processing", message="Your payment is being processed")
    if intent.status != "succeeded":
        return Outcome("failed", message=intent.error or "The payment did not go through")
    customer_id = _customer(intent.customer_id)
    plan = find_plan(intent.plan)
    if customer_id is None or plan is None:
        log.warning("payment %s carries no customer or plan in its metadata; not fulfilled", intent.id)
        return Outcome("failed", message="This payment does not belong to a checkout")
    return await _fulfill(pool, payments, intent, customer_id, plan, intent.vehicle())


async def fulfill_checkout_session(pool: Pool, payments: Payments, checkout: CheckoutSession) -> Outcome:
    """A paid Checkout Session becomes a waiting session, once (keyed by its PaymentIntent)."""
    if checkout.status == "expired":
        return Outcome("failed", message="This checkout expired before it was paid")
    if checkout.status == "open":
        return Outcome("failed", message="This checkout has not been paid")
    if checkout.payment_status != "paid" or checkout.payment_intent is None:
        return Outcome("processing", message="Your payment is being processed")
    customer_id = _customer(checkout.customer_id)
    plan = find_plan(checkout.plan)
    if customer_id is None or plan is None:
        log.warning("checkout %s carries no customer or plan in its metadata; not fulfilled", checkout.id)
        return Outcome("failed", message="This payment does not belong to a checkout")
    intent = await payments.retrieve(checkout.payment_intent)
    if intent is None:
        return Outcome("failed", message="The payment of this checkout does not exist")
    if intent.status != "succeeded":
        return Outcome("failed", message=intent.error or "The payment did not go through")
    return await _fulfill(pool, payments, intent, customer_id, plan, checkout.vehicle())


async def _fulfill(
    pool: Pool, payments: Payments, intent: Intent, customer_id: UUID, plan: Plan, vehicle: dict[str, Any]
) -> Outcome:
    """The paid ``intent`` becomes ``customer_id``'s waiting session, exactly once."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            b"select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"fulfill:{customer_id}",)
        )
        existing = await fetch_one(
            conn, "select id, status from public.sessions where payment_intent_id = %s", (intent.id,)
        )
        if existing is not None:
            return Outcome("fulfilled", existing["id"], existing["status"])
        # The intent in hand may have been read before this lock: ask Stripe what it knows now.
        current = await payments.retrieve(intent.id) or intent
        if current.metadata.get(FULFILLED_KEY):
            # Fulfilled once, and its session deleted since (a test reset purged it): a late
            # or replayed event must not bring it back.
            return Outcome("failed", message="The session of this payment no longer exists")
        # Refunded by an earlier, blocked attempt: never turn it into a session later.
        if current.amount_refunded > 0 or await payments.was_refunded(intent.id):
            return Outcome("blocked", message=f"{ACTIVE_SESSION_MESSAGE}; your payment was refunded")

        await cleanup.cancel_customer_stale(conn, customer_id)
        active = await cleanup.active_session(conn, customer_id)
        if active is not None:
            # Refund while still holding the lock, so that concurrent callers refund once.
            refund = await payments.refund(intent.id)
            if refund:
                log.info("payment %s refunded (%s): %s", intent.id, refund, ACTIVE_SESSION_MESSAGE)
                # No row changes, so no trigger tells the customer's open success page: we do.
                await notify_change(conn, customer_topic(customer_id))
            return Outcome(
                "blocked",
                active["id"],
                active["status"],
                message=f"{ACTIVE_SESSION_MESSAGE}; your payment was refunded",
            )
        try:
            # A savepoint: a customer deleted meanwhile must not abort the whole transaction.
            async with conn.transaction():
                row = await fetch_one(
                    conn,
                    "insert into public.sessions (customer_id, plan, status, payment_intent_id)"
                    " values (%s, %s, 'waiting', %s) on conflict (payment_intent_id) do nothing"
                    " returning id",
                    (customer_id, plan.name, intent.id),
                )
                assert row is not None, "the advisory lock makes a conflict impossible here"
                await conn.execute(
                    b"insert into public.session_requests"
                    b" (session_id, customer_id, plan, status, vehicle)"
                    b" values (%s, %s, %s, 'pending', %s)",
                    (row["id"], customer_id, plan.name, Jsonb(vehicle)),
                )
        except psycopg.errors.ForeignKeyViolation:
            return Outcome("failed", message="The customer of this payment no longer exists")
        # Note it on the payment too, so that no later event re-creates the session once it has
        # been deleted. Before the commit, under the lock: whoever sees the session (the webhook
        # and the success page fulfil at the same moment) sees the mark, and a purge can never
        # fall between the two.
        try:
            await payments.mark_fulfilled(intent.id, row["id"])
        except PaymentError as exc:
            log.warning("payment %s fulfilled but not marked so: %s", intent.id, exc)
    return Outcome("fulfilled", row["id"], "waiting", created=True)
