"""The three plans a customer can buy. Prices in cents."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    amount: int  # cents
    summary: str

    @property
    def price(self) -> str:
        return f"${self.amount / 100:.2f}"


PLANS: tuple[Plan, ...] = (
    Plan("quick-chat", "Quick Chat", 1900, "15 minutes of text chat with a mechanic"),
    Plan("standard-video", "Standard Video", 3900, "30 minutes of chat with photos"),
    Plan("full-diagnostic", "Full Diagnostic", 6900, "60 minutes, a full walk through the problem"),
)
BY_SLUG = {plan.slug: plan for plan in PLANS}
