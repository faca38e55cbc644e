"""One definition of the plans: the app's ``plans.json``, which pitstop's test data reads too."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from harness.engine.data import load
from harness.stack.reference_app.plans import PLANS, PLANS_FILE, find_plan


def test_the_plans_the_scenarios_buy_are_the_apps() -> None:
    assert [(p["slug"], p["name"], p["amount"], p["currency"]) for p in load("plans")] == [
        (p.slug, p.name, p.amount, p.currency) for p in PLANS
    ]
    assert [p.amount for p in PLANS] == [1900, 3900, 6900]
    # No second copy in the harness's own test data.
    assert not files("harness.testdata").joinpath("plans.json").is_file()
    assert PLANS_FILE.parent == Path(__file__).parents[2] / "harness" / "stack" / "reference_app"


def test_a_plan_is_found_by_slug_or_by_name() -> None:
    assert find_plan("quick-chat") is find_plan("Quick Chat") is PLANS[0]
    assert find_plan("gold") is None and find_plan(None) is None and find_plan("") is None
