"""How the app takes payments, as pitstop's fast path must pay it: ``[tool.pitstop.payments]``.

    [tool.pitstop.payments]
    kind = "payment_intent"                 # or "checkout_session"
    webhook_path = "/api/stripe/webhook"
    [tool.pitstop.payments.metadata]         # what the app expects on the session / intent; templates
    plan = "{plan_slug}"
    supabase_user_id = "{customer.id}"

``kind`` is what the app's checkout makes: a PaymentIntent it confirms itself
(``payment_intent``), or a Stripe Checkout Session paid on Stripe's hosted page
(``checkout_session``). ``--pitstop-payment=webhook`` then pays the same way
(``harness.engine.payments``), and the embedded stack runs the reference app with
that kind. ``webhook_path`` is where the app takes Stripe's events.

``metadata`` is the metadata the app reads back when it fulfils, each value a
template of these fields (nothing else: no format specs or conversions):

- ``{plan}`` the plan's name ("Quick Chat"), ``{plan_slug}`` its slug ("quick-chat");
- ``{customer.id}`` the test customer's user id (Supabase's ``auth.users.id``),
  ``{customer.email}`` its email;
- ``{intake_id}`` the intake's id when the test knows one, else empty;
- ``{vehicle}`` the vehicle as compact JSON (year, make, model, mileage),
  ``{description}`` the problem described.

A key whose value renders empty is left out, as Stripe drops an empty
metadata value. Without a metadata table each kind has the reference app's
(``DEFAULT_METADATA``). Mistakes (an unknown key or field, a wrong kind) are
bad input, exit 2, naming the fix.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from harness.errors import BadInput

SOURCE = "[tool.pitstop.payments]"
KINDS = ("payment_intent", "checkout_session")
KEYS = ("kind", "webhook_path", "metadata")
FIELDS = ("plan", "plan_slug", "customer.id", "customer.email", "intake_id", "vehicle", "description")
# Stripe's limits on metadata: 50 keys, keys of up to 40 characters.
MAX_KEYS = 50
MAX_KEY_CHARS = 40

Templates = tuple[tuple[str, str], ...]

# The reference app's: its PaymentIntents (harness/stack/reference_app/payments.py ``create_intent``) and its
# Checkout Sessions (``create_checkout_session``) carry these.
DEFAULT_METADATA: dict[str, Templates] = {
    "payment_intent": (
        ("customer_id", "{customer.id}"),
        ("plan", "{plan_slug}"),
        ("vehicle", "{vehicle}"),
        ("description", "{description}"),
    ),
    "checkout_session": (
        ("plan", "{plan_slug}"),
        ("supabase_user_id", "{customer.id}"),
        ("intake_id", "{intake_id}"),
        ("vehicle", "{vehicle}"),
        ("description", "{description}"),
    ),
}


@dataclass(frozen=True)
class PaymentValues:
    """What a payment's metadata templates are filled with."""

    plan: str
    plan_slug: str
    customer_id: str
    customer_email: str
    vehicle: str = ""  # JSON
    description: str = ""
    intake_id: str = ""

    def fields(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "plan_slug": self.plan_slug,
            "customer": SimpleNamespace(id=self.customer_id, email=self.customer_email),
            "intake_id": self.intake_id,
            "vehicle": self.vehicle,
            "description": self.description,
        }

    @classmethod
    def of(
        cls, *, plan: Mapping[str, Any], customer_id: str, customer_email: str, vehicle: Mapping[str, Any],
        intake_id: str | None = None,
    ) -> PaymentValues:  # fmt: skip
        """From the test data: a plan of ``plans.json``, a vehicle of ``vehicles.json``."""
        details = {k: vehicle[k] for k in ("year", "make", "model", "mileage") if k in vehicle}
        return cls(
            plan=str(plan["name"]),
            plan_slug=str(plan["slug"]),
            customer_id=customer_id,
            customer_email=customer_email,
            vehicle=json.dumps(details, separators=(",", ":")),
            description=str(vehicle.get("description", "")),
            intake_id=intake_id or "",
        )


@dataclass(frozen=True)
class PaymentConfig:
    """``[tool.pitstop.payments]``: the app's payment kind, webhook path and metadata templates."""

    kind: str = "payment_intent"
    webhook_path: str = "/api/stripe/webhook"
    metadata: Templates | None = None  # None: the kind's DEFAULT_METADATA

    @property
    def templates(self) -> Templates:
        return self.metadata if self.metadata is not None else DEFAULT_METADATA[self.kind]

    def render(self, values: PaymentValues) -> dict[str, str]:
        """The metadata to set: every template filled in; a key that renders empty is left out."""
        fields = values.fields()
        rendered = {key: template.format_map(fields) for key, template in self.templates}
        return {key: value for key, value in rendered.items() if value}


def load_payments(data: Any, *, source: str = SOURCE) -> PaymentConfig:
    """The payment configuration of a ``[tool.pitstop.payments]`` table (None: the defaults)."""
    if data is None:
        return PaymentConfig()
    if not isinstance(data, dict):
        raise BadInput(
            f"{source} must be a table, not {data!r}", fix='write [tool.pitstop.payments] kind = "…"'
        )
    unknown = set(data) - set(KEYS)
    if unknown:
        raise BadInput(
            f"unknown key {', '.join(sorted(unknown))} in {source}", fix=f"use only {', '.join(KEYS)}"
        )
    kind = data.get("kind", "payment_intent")
    if kind not in KINDS:
        raise BadInput(
            f"{source} kind must be one of {', '.join(KINDS)}, not {kind!r}",
            fix='kind = "payment_intent" (the app confirms a PaymentIntent) or kind = "checkout_session" '
            "(the app sends the customer to Stripe Checkout)",
        )
    path = data.get("webhook_path", PaymentConfig.webhook_path)
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadInput(
            f"{source} webhook_path must be a path starting with /, not {path!r}",
            fix=f'webhook_path = "{PaymentConfig.webhook_path}" (where the app takes Stripe\'s events)',
        )
    metadata = None
    if "metadata" in data:
        metadata = _templates(data["metadata"], f"{source[:-1]}.metadata]")
    return PaymentConfig(kind=kind, webhook_path=path, metadata=metadata)


def _templates(data: Any, where: str) -> Templates:
    if not isinstance(data, dict):
        raise BadInput(f"{where} must be a table of templates, not {data!r}", fix='plan = "{plan_slug}"')
    if len(data) > MAX_KEYS:
        raise BadInput(f"{where} has {len(data)} keys; Stripe takes at most {MAX_KEYS}")
    out = []
    for key, template in data.items():
        if len(key) > MAX_KEY_CHARS:
            raise BadInput(f"{where} key {key!r} is longer than Stripe's {MAX_KEY_CHARS} characters")
        if not isinstance(template, str):
            raise BadInput(
                f"{where} {key} must be a string template, not {template!r}", fix=f'{key} = "{{plan}}"'
            )
        _check_template(template, f"{where} {key}")
        out.append((key, template))
    return tuple(out)


def _check_template(template: str, where: str) -> None:
    fields = ", ".join(f"{{{f}}}" for f in FIELDS)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise BadInput(
            f"{where} is not a template ({exc}): {template!r}", fix=f"use {fields}; write {{{{ for a brace"
        ) from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            raise BadInput(
                f"{where} names {{{name}}}, which pitstop does not fill in", fix=f"use only {fields}"
            )
