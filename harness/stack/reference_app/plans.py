"""The three plans a customer can buy. Prices in cents.

One definition: ``plans.json`` beside this module. The app ships it and reads
it here; pitstop's test data (``harness.engine.data.load("plans")``, what the shipped
scenarios buy) reads the same file from this package, as ``harness.rules.sql`` reads
``schema.sql``. So the scenarios' prices are the app's by construction, and the
app imports nothing from the rest of ``harness``. (Not the other way round, the
app reading ``fixtures/``, which is the harness's.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PLANS_FILE = Path(__file__).with_name("plans.json")


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    amount: int  # cents
    summary: str
    currency: str = "usd"

    @property
    def price(self) -> str:
        return f"${self.amount / 100:.2f}"


PLANS: tuple[Plan, ...] = tuple(
    Plan(p["slug"], p["name"], int(p["amount"]), p["summary"], p.get("currency", "usd"))
    for p in json.loads(PLANS_FILE.read_text(encoding="utf-8"))
)
BY_SLUG = {plan.slug: plan for plan in PLANS}
BY_NAME = {plan.name: plan for plan in PLANS}


def find_plan(value: str | None) -> Plan | None:
    """The plan a payment's metadata names: by slug (as this app writes it) or by name."""
    return BY_SLUG.get(value or "") or BY_NAME.get(value or "")
