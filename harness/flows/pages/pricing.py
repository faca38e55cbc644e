from __future__ import annotations

from typing import TypedDict

from playwright.sync_api import Page

from .contract import Route, TestId


class Plan(TypedDict):
    """A plan as the app sells it (``harness.engine.data.load("plans")``)."""

    slug: str
    name: str
    amount: int


class PricingPage:
    """The plans, each with a "choose" button."""

    ROUTE = Route("/onboarding/pricing", "the plans a customer picks from")
    PLAN = TestId("plan-{slug}", "one plan's card, by the plan's slug (quick-chat, …)")
    CHOOSE = TestId("choose-plan", "the plan card's button that starts the intake")

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> PricingPage:
        self.page.goto(self.ROUTE)
        return self

    def choose(self, plan_slug: str) -> None:
        self.page.get_by_test_id(self.PLAN.format(slug=plan_slug)).get_by_test_id(self.CHOOSE).click()
