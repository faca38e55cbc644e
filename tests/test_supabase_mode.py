"""The shipped scenarios, unchanged, with every persona signed in the Supabase way.

``[tool.pitstop.auth] mode = "supabase"``: each page fixture's storage state holds an offline
Supabase session (the embedded stack's JWT secret) in @supabase/ssr's cookies, and the
reference app verifies it. The team's ``Flows.sign_in`` fails the test if it is ever called
(tests/examples/no_login_page_conftest.py): no page of the run sees a login form. One ``pitstop
run`` of the eight scenarios, as a team runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import pitstop_run

EXAMPLES = Path(__file__).parent / "examples"
WAIT_S = 180


@pytest.mark.usefixtures("no_target_environment")
def test_the_shipped_scenarios_pass_signed_in_the_supabase_way(pytester: pytest.Pytester) -> None:
    result = pitstop_run(
        pytester,
        EXAMPLES / "no_login_page_conftest.py",
        pyproject='[tool.pitstop.auth]\nmode = "supabase"\nstorage = "both"\n',
        timeout=WAIT_S,
    )
    result.assert_outcomes(passed=8)
    data = json.loads((pytester.path / "pitstop-health.json").read_text())
    assert data["run"]["leaks"] == [] and data["run"]["tests"]["passed"] == 8
