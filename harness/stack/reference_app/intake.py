"""The intake form: the vehicle and the problem, checked field by field."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from harness.stack.reference_app.payments import Intake

MIN_YEAR = 1950
MAX_NAME_CHARS = 40
# Stripe metadata values hold at most 500 characters; the description travels there.
MAX_DESCRIPTION_CHARS = 500
MAX_MILEAGE = 2_000_000
FIELDS = ("year", "make", "model", "mileage", "description")


def _whole_number(text: str) -> int | None:
    text = text.replace(",", "").replace("_", "").strip()
    # isdigit() alone admits "²" and other digits int() refuses.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def parse_intake(form: Mapping[str, str]) -> tuple[Intake | None, dict[str, str], dict[str, str]]:
    """The intake, or ``None`` and one message per bad field; plus the values to show again."""
    values = {name: str(form.get(name, "") or "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    max_year = datetime.date.today().year + 1

    year = _whole_number(values["year"])
    if not values["year"]:
        errors["year"] = "Enter the vehicle's year"
    elif year is None or not MIN_YEAR <= year <= max_year:
        errors["year"] = f"Enter a year between {MIN_YEAR} and {max_year}"

    for name, label in (("make", "make"), ("model", "model")):
        if not values[name]:
            errors[name] = f"Enter the vehicle's {label}"
        elif len(values[name]) > MAX_NAME_CHARS:
            errors[name] = f"The {label} can be at most {MAX_NAME_CHARS} characters"

    mileage = _whole_number(values["mileage"])
    if not values["mileage"]:
        errors["mileage"] = "Enter the mileage"
    elif mileage is None or mileage > MAX_MILEAGE:
        errors["mileage"] = f"Enter the mileage as a whole number from 0 to {MAX_MILEAGE:,}"

    if not values["description"]:
        errors["description"] = "Describe the problem"
    elif len(values["description"]) > MAX_DESCRIPTION_CHARS:
        errors["description"] = (
            f"The description can be at most {MAX_DESCRIPTION_CHARS} characters"
            f" (it has {len(values['description'])})"
        )

    if errors:
        return None, errors, values
    assert year is not None and mileage is not None
    intake = Intake(year, values["make"], values["model"], mileage, values["description"])
    return intake, {}, values
