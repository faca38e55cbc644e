"""docs/app-contract.md agrees with what the steps rely on: the page objects, Flows, [tool.pitstop],
the api store's debug API calls; and the reference app has what the page objects declare."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from harness.config.contract import AppContract
from harness.flows import contract_doc
from harness.flows.pages import PAGE_OBJECTS, EmbeddedCheckoutPage, StripeCheckoutPage
from harness.flows.pages.contract import Route, TestId, declarations
from harness.store import api

ROOT = Path(__file__).parents[1]
DOCUMENT = ROOT / "docs" / "app-contract.md"
APP = ROOT / "harness" / "stack" / "reference_app"
STRIPES_PAGES = (EmbeddedCheckoutPage, StripeCheckoutPage)


def document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def test_the_generated_part_is_what_the_page_objects_and_flows_declare() -> None:
    assert contract_doc.generated_part(document()) == contract_doc.render_generated(), (
        "docs/app-contract.md is out of date: run "
        "python -m harness.flows.contract_doc --write docs/app-contract.md"
    )


def test_every_tool_pitstop_key_is_documented_with_its_default() -> None:
    section = document().split("## `[tool.pitstop]` keys", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", section, re.MULTILINE))
    defaults = AppContract()
    assert rows == {field.name: getattr(defaults, field.name) for field in dataclasses.fields(AppContract)}


def _api_store_calls() -> set[tuple[str, str]]:
    """(method, path) of every call the api store makes to the debug API (read from its source)."""
    tree = ast.parse(Path(api.__file__).read_text(encoding="utf-8"))
    found = set()
    for call in ast.walk(tree):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in ("_json", "_send")
            and len(call.args) >= 2
            and isinstance(call.args[1], ast.Constant)
        ):
            continue
        methods = [node.value for node in ast.walk(call.args[0]) if isinstance(node, ast.Constant)]
        found |= {(str(method), api.DEBUG + str(call.args[1].value)) for method in methods}
    return found


def test_the_debug_api_table_is_what_the_api_store_calls() -> None:
    documented = set()
    for methods, path in re.findall(
        r"^\| ((?:`[A-Z]+`(?:, )?)+) \| `(/api/debug/[^`]+)` \|", document(), re.MULTILINE
    ):
        documented |= {(method, path) for method in re.findall(r"`([A-Z]+)`", methods)}
    assert documented == _api_store_calls()
    assert len(documented) == 6


def _app_text() -> str:
    files = [*APP.glob("templates/*.html"), *APP.glob("static/*.js")]
    return "\n".join(path.read_text(encoding="utf-8") for path in files)


def test_the_reference_app_has_every_test_id_and_route_the_page_objects_declare() -> None:
    text = _app_text()
    routes = set()
    for path in APP.glob("routers/*.py"):
        routes |= set(
            re.findall(r'@router\.(?:get|post|api_route)\("([^"]+)"', path.read_text(encoding="utf-8"))
        )
    routes |= {"/customer/login", "/mechanic/login"}  # registered in a loop (routers/auth.py)
    for page in PAGE_OBJECTS:
        if page in STRIPES_PAGES:
            continue
        for name, value in declarations(page):
            if isinstance(value, TestId):
                fixed = value.split("{")[0]  # "request-{request_id}": the part the app writes as it is
                assert re.search(rf"""(testid['"]?\s*[:=]\s*|\.testid = )[`'"]{re.escape(fixed)}""", text), (
                    f"{page.__name__}.{name}: no test id {value!r} in reference_app"
                )
            if isinstance(value, Route):
                assert value.split("?")[0] in routes, f"{page.__name__}.{name}: no route {value!r}"


def test_no_default_step_hard_codes_the_test_id_attribute() -> None:
    """Every selector of the steps goes through [tool.pitstop] test_id_attribute (Stripe's pages aside)."""
    flows = ROOT / "harness" / "flows"
    steps = [*flows.glob("*.py"), *flows.glob("pages/*.py"), *(ROOT / "scenarios").glob("*.py")]
    assert len(steps) > 10, steps  # the walk found the steps, the page objects and the scenarios
    offenders = []
    for path in steps:
        if path.name == "hosted_checkout.py":  # Stripe's own attribute on Stripe's page
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "data-testid" in line and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    # Prose may name the default, or Stripe's own attribute; code may not.
    assert [o for o in offenders if not re.search(r"default `?data-testid|Stripe's ``data-testid", o)] == []
