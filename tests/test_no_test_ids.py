"""The shipped scenarios on an app whose pages carry no test ids: the reference app's bare UI.

The bare UI (``APP_UI=bare``) is the classic pages with every ``data-testid`` dropped as the app
renders them (harness/stack/reference_app/ui.py). A small Flows subclass in the team's conftest.py
(tests/examples/no_test_ids_conftest.py, the example docs/app-contract.md shows) gives what pitstop
cannot guess; the defaults find the rest by role, label and text. One ``pitstop run`` of the eight
scenarios, against an embedded stack of its own serving the bare UI (``PITSTOP_APP_UI``).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from harness import Flows
from tests.conftest import pitstop_run

EXAMPLE = Path(__file__).parent / "examples" / "no_test_ids_conftest.py"
DOCS = Path(__file__).parents[1] / "docs" / "app-contract.md"
WAIT_S = 180


@pytest.mark.usefixtures("no_target_environment")
def test_the_shipped_scenarios_pass_on_pages_without_test_ids(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PITSTOP_APP_UI", "bare")
    result = pitstop_run(pytester, EXAMPLE, timeout=WAIT_S)  # no [tool.pitstop] needed
    result.assert_outcomes(passed=8)
    data = json.loads((pytester.path / "pitstop-health.json").read_text())
    assert data["run"]["leaks"] == [] and data["run"]["tests"]["passed"] == 8


def test_the_docs_show_the_example_and_its_size() -> None:
    """docs/app-contract.md holds the example as it runs, and says how many steps and lines it overrides."""
    source = EXAMPLE.read_text()
    tree = ast.parse(source)
    [subclass] = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    overridden = {node.name for node in subclass.body if isinstance(node, ast.FunctionDef)}
    steps = {name for name, value in vars(Flows).items() if callable(value) and not name.startswith("_")}
    assert overridden <= steps
    lines = [line for line in source.splitlines()[subclass.lineno - 1 : subclass.end_lineno] if line.strip()]
    size = f"**{len(overridden)} of the {len(steps)} steps, in {len(lines)} lines**"
    docs = DOCS.read_text()
    section = docs[docs.index("## An app without test ids") :]
    assert size in " ".join(section.split())
    shown = section[section.index("```python\n") + len("```python\n") :]
    code_start = source.index("\nimport ") + 1  # after the module docstring
    assert shown[: shown.index("```\n")] == source[code_start:]
