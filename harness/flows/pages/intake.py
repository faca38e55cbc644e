from __future__ import annotations

from typing import TypedDict

from playwright.sync_api import Page, expect

from .contract import TestId


class Vehicle(TypedDict):
    year: int
    make: str
    model: str
    mileage: int
    description: str


class IntakePage:
    """The vehicle details form between the plan and the payment."""

    FIELD = TestId("vehicle-{field}", "the inputs year, make, model and mileage")
    DESCRIPTION = TestId("problem-description", "what is wrong with the car")
    SUBMIT = TestId("intake-submit", "on to the payment")
    ERROR = TestId("error-{field}", "why a field was refused")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.submit = page.get_by_test_id(self.SUBMIT)

    def describe(self, vehicle: Vehicle) -> None:
        fields = {"year": vehicle["year"], "make": vehicle["make"], "model": vehicle["model"]}
        for field, value in {**fields, "mileage": vehicle["mileage"]}.items():
            self.page.get_by_test_id(self.FIELD.format(field=field)).fill(str(value))
        self.page.get_by_test_id(self.DESCRIPTION).fill(vehicle["description"])
        self.submit.click()

    def expect_error(self, field: str, text: str) -> None:
        expect(self.page.get_by_test_id(self.ERROR.format(field=field))).to_contain_text(text)
