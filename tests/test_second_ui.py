"""The shipped scenarios, unchanged, pass against other pages: the reference app's second UI.

The second UI (``APP_UI=second``, harness/stack/reference_app/ui.py) has other routes, wording and test
ids (under ``data-test``), and pays by Checkout Session; a Flows subclass in a conftest.py
(tests/examples/second_ui_conftest.py) drives it, and ``[tool.pitstop]`` says the rest. One
``pitstop run`` of the eight scenarios, against an embedded stack of its own with the second UI
(``PITSTOP_APP_UI``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import pitstop_run

EXAMPLES = Path(__file__).parent / "examples"
WAIT_S = 180

PYPROJECT = """
[tool.pitstop]
customer_login_path = "/signin"
mechanic_login_path = "/signin"
test_id_attribute = "data-test"

[tool.pitstop.payments]
kind = "checkout_session"
"""


@pytest.mark.usefixtures("no_target_environment")
def test_the_shipped_scenarios_pass_on_the_second_ui(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PITSTOP_APP_UI", "second")
    result = pitstop_run(pytester, EXAMPLES / "second_ui_conftest.py", pyproject=PYPROJECT, timeout=WAIT_S)
    result.assert_outcomes(passed=8)
    data = json.loads((pytester.path / "pitstop-health.json").read_text())
    assert data["target"]["kind"] == "embedded"
    assert data["run"]["leaks"] == [] and data["run"]["tests"]["passed"] == 8
