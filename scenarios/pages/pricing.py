from __future__ import annotations

from playwright.sync_api import Page


class PricingPage:
    """``/onboarding/pricing``: the plans, each with a "choose" button."""

    path = "/onboarding/pricing"

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> PricingPage:
        self.page.goto(self.path)
        return self

    def choose(self, plan_slug: str) -> None:
        self.page.get_by_test_id(f"plan-{plan_slug}").get_by_test_id("choose-plan").click()
