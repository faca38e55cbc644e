"""The front's objects: Checkout Sessions, their line items, webhook endpoints; Stripe's money rules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EXPIRY_S = 24 * 3600
MIN_EXPIRY_S = 30 * 60
MAX_AMOUNT = 99_999_999
MAX_QUANTITY = 999_999
# Stripe's minimum charge amounts, for the currencies most used; others need more than 0.
MIN_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50, "nzd": 50, "jpy": 50}
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
# Stripe's test cards that decline when charged (docs.stripe.com/testing#declined-payments):
# number -> (decline code, Stripe's message). localstripe declines these only when a card is
# attached to a customer, so the front declines them itself, before any PaymentIntent.
DECLINED_CARDS = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("lost_card", "Your card was declined."),
    "4000000000009979": ("stolen_card", "Your card was declined."),
    "4100000000000019": ("fraudulent", "Your card was declined."),
    "4000000000000069": ("expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
RECURRING_IN_PAYMENT_MODE = (
    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or "
    "use only one-time prices."
)


# -- the objects -------------------------------------------------------------------------------------


@dataclass
class LineItem:
    id: str
    name: str
    unit_amount: int
    currency: str
    quantity: int
    price_id: str
    product_id: str

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity

    def export(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": self.amount,
            "amount_tax": 0,
            "amount_total": self.amount,
            "currency": self.currency,
            "description": self.name,
            "price": {
                "id": self.price_id,
                "object": "price",
                "active": False,
                "currency": self.currency,
                "livemode": False,
                "product": self.product_id,
                "type": "one_time",
                "unit_amount": self.unit_amount,
            },
            "quantity": self.quantity,
        }


@dataclass(frozen=True)
class _Draft:
    """A line item checked, before its product exists: ``product`` is what to create, if no id."""

    name: str
    unit_amount: int
    currency: str
    quantity: int
    product_id: str | None
    product: dict[str, Any] = field(default_factory=dict)


@dataclass
class Session:
    id: str
    api_key: str
    url: str  # the hosted page; the object shows it only while the session is open
    created: int
    expires_at: int
    currency: str
    line_items: list[LineItem]
    metadata: dict[str, str]
    intent_metadata: dict[str, str]
    client_reference_id: str | None
    customer_email: str | None
    success_url: str | None
    cancel_url: str | None
    locale: str | None
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    customer_details: dict[str, Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def amount_total(self) -> int:
        return sum(item.amount for item in self.line_items)

    def export(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "livemode": False,
            "locale": self.locale,
            "metadata": dict(self.metadata),
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "status": self.status,
            "success_url": self.success_url,
            "ui_mode": "hosted",
            "url": self.url if self.status == "open" else None,
        }

    def line_items_list(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [item.export() for item in self.line_items],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{self.id}/line_items",
        }


@dataclass(frozen=True)
class Endpoint:
    """A webhook endpoint as registered with localstripe: ``events`` None means every event."""

    url: str
    secret: str
    events: tuple[str, ...] | None

    def wants(self, event_type: str) -> bool:
        return self.events is None or event_type in self.events or "*" in self.events


class CardRefused(Exception):
    """The payment page's answer to a card: Stripe's message, shown on the page."""
