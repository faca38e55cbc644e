from __future__ import annotations

from typing import TypedDict

from playwright.sync_api import Page, expect


class Vehicle(TypedDict):
    year: int
    make: str
    model: str
    mileage: int
    description: str


class IntakePage:
    """The vehicle details form between the plan and the checkout."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.submit = page.get_by_test_id("intake-submit")

    def describe(self, vehicle: Vehicle) -> None:
        fields = {"year": vehicle["year"], "make": vehicle["make"], "model": vehicle["model"]}
        for field, value in {**fields, "mileage": vehicle["mileage"]}.items():
            self.page.get_by_test_id(f"vehicle-{field}").fill(str(value))
        self.page.get_by_test_id("problem-description").fill(vehicle["description"])
        self.submit.click()

    def expect_error(self, field: str, text: str) -> None:
        expect(self.page.get_by_test_id(f"error-{field}")).to_contain_text(text)
