from __future__ import annotations

from typing import TypedDict

from playwright.sync_api import Page

from .contract import By, Route, TestId


class Plan(TypedDict):
    """A plan as the app sells it (``harness.engine.data.load("plans")``)."""

    slug: str
    name: str
    amount: int


class PricingPage:
    """The plans, each with a "choose" button."""

    ROUTE = Route("/onboarding/pricing", "the plans a customer picks from")
    PLAN = TestId("plan-{slug}", "one plan's card, by the plan's slug (quick-chat, …)")
    CHOOSE = TestId(
        "choose-plan",
        "the plan card's button that starts the intake; else the link or button named for the plan",
    )
    CHOOSE_BY = By.role("link|button", r"\b{name}\b")  # without test ids: named for the plan

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> PricingPage:
        self.page.goto(self.ROUTE)
        return self

    def choose(self, plan: Plan) -> None:
        on_card = self.PLAN.locate(self.page, slug=plan["slug"]).get_by_test_id(self.CHOOSE)
        on_card.or_(self.CHOOSE_BY.locate(self.page, name=plan["name"])).click()
