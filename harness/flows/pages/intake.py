from __future__ import annotations

from typing import TypedDict

from playwright.sync_api import Page, expect

from .contract import By, TestId


class Vehicle(TypedDict):
    year: int
    make: str
    model: str
    mileage: int
    description: str


class IntakePage:
    """The vehicle details form between the plan and the payment."""

    FIELD = TestId("vehicle-{field}", "the inputs year, make, model and mileage", by=By.label(r"^\s*{field}"))
    DESCRIPTION = TestId(
        "problem-description",
        "what is wrong with the car",
        by=By.label(r"problem|issue|describe|description"),
    )
    SUBMIT = TestId("intake-submit", "on to the payment", by=By.role("button", r"continue|next|payment"))
    ERROR = TestId("error-{field}", "why a field was refused")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.submit = self.SUBMIT.locate(page)

    def describe(self, vehicle: Vehicle) -> None:
        fields = {"year": vehicle["year"], "make": vehicle["make"], "model": vehicle["model"]}
        for field, value in {**fields, "mileage": vehicle["mileage"]}.items():
            self.FIELD.locate(self.page, field=field).fill(str(value))
        self.DESCRIPTION.locate(self.page).fill(vehicle["description"])
        self.submit.click()

    def expect_error(self, field: str, text: str) -> None:
        expect(self.page.get_by_test_id(self.ERROR.format(field=field))).to_contain_text(text)
