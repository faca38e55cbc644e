"""The public API: what users import, from ``harness`` itself; the old import paths for one release."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import harness

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WAIT_S = 60


def test_every_public_name_resolves_and_only_those_are_listed() -> None:
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    assert {
        "Pitstop",
        "TestUser",
        "Flows",
        "ChatProbe",
        "Ready",
        "NewMechanic",
        "BadInput",
        "PitstopError",
    } <= set(harness.__all__)
    assert {"LoginPage", "ChatPage", "MechanicDashboard", "CheckoutPage"} <= set(harness.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Run'"):
        _ = harness.Run


def test_the_public_names_are_the_objects_the_package_uses() -> None:
    from harness.engine.handle import Pitstop
    from harness.flows.steps import Flows

    assert harness.Pitstop is Pitstop and harness.Flows is Flows


def test_the_docs_import_from_the_public_api_only() -> None:
    found = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"\s*(from harness\.[\w.]+ import|import harness\.)", line):
                found.append(f"{doc.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
    assert any("from harness import" in doc.read_text(encoding="utf-8") for doc in DOCS)


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("harness.mechanics", "NewMechanic"),
        ("harness.handle", "Pitstop"),
        ("harness.personas", "TestUser"),
        ("harness.scenarios.flows", "Flows"),
        ("harness.scenarios.pages", "ChatPage"),
    ],
)
def test_an_old_import_path_still_works_with_a_deprecation_warning(old: str, name: str) -> None:
    code = (
        "import warnings\nwarnings.simplefilter('error')\n"
        f"try:\n    from {old} import {name}\nexcept DeprecationWarning as w:\n    print('warned:', w)\n"
        "warnings.simplefilter('ignore')\n"
        f"from {old} import {name}\nimport harness\nprint({name} is getattr(harness, {name!r}))\n"
        # The module keeps its own spec: importlib.resources and reload find it under its name.
        f"import importlib\nprint(importlib.import_module({harness.MOVED[old]!r}).__spec__.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT_S, check=True
    )
    assert result.stdout.splitlines() == [
        f"warned: {old} is now {harness.MOVED[old]}: import its names from harness (the public API); "
        "the old path goes in the next release",
        "True",
        harness.MOVED[old],
    ]


def test_flows_from_the_old_scenarios_package_warns_and_is_the_same_class() -> None:
    scenarios = importlib.import_module("harness.scenarios")
    vars(scenarios).pop("Flows", None)  # as on first use: warned once, then kept
    with pytest.warns(DeprecationWarning, match=r"harness\.scenarios\.Flows is now harness\.Flows"):
        flows = scenarios.Flows
    assert flows is harness.Flows


def test_the_readme_lists_every_plugin_option_with_its_variable() -> None:
    from harness.config.options import PLUGIN

    rows = [
        line
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `--pitstop-")
    ]
    for option in PLUGIN:
        row = next((r for r in rows if re.search(rf"`{option.flag}[`=,]", r)), None)
        assert row is not None, f"no row for {option.flag} in the README's options table"
        assert option.env is None or f"`{option.env}`" in row, f"{option.flag}: its variable {option.env}"


def test_every_public_name_has_one_home() -> None:
    assert set(harness._HOMES) | {
        "BadInput",
        "ExitCode",
        "PitstopError",
        "Refused",
        "Unreachable",
        "Unsupported",
        "__version__",
    } == set(harness.__all__)


def test_the_chat_probe_s_old_maker_still_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"ChatPage\.probe\(\)"):
        probe = harness.ChatProbe.of(harness.ChatPage, "data-testid")
    assert isinstance(probe, harness.ChatProbe) and probe.messages is not None
    assert callable(harness.ChatPage.wait_until_subscribed)  # kept, warning, for 0.1.x
