"""No shipped scenario passes on pages it cannot read: the proof over all of them.

The eight scenarios run (``pitstop run``) against the reference app's second UI (other paths and
wording than the defaults guess) with ``test_id_attribute`` set to a name the app never renders and
only ``Flows.sign_in`` overridden (tests/examples/sign_in_only_conftest.py): each scenario looks at a
page, so each must fail, and its failure must name the step that found nothing (the step to
override). A check that passed here would be one that cannot fail on an app without hooks.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import pitstop_run
from tests.test_second_ui import PYPROJECT as SECOND_UI

EXAMPLES = Path(__file__).parent / "examples"
WAIT_S = 240

# The second UI's settings (its login paths, its Checkout Session payments), its attribute never rendered.
PYPROJECT = SECOND_UI.replace(
    'test_id_attribute = "data-test"', 'test_id_attribute = "data-pitstop-never-rendered"'
)

# Each scenario, and the first step of it that reads a page by what the app does not render.
FIRST_BLIND_STEP = {
    "test_a_user_who_is_not_a_participant_cannot_join_the_chat": "Flows.expect_chat_refused",
    "test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it": "Flows.choose_plan",
    "test_two_mechanics_race_for_one_request_and_exactly_one_wins": "Flows.expect_request",
    "test_the_dashboard_lists_neither_expired_nor_stale_requests": "Flows.expect_request",
    "test_a_declined_card_shows_the_error_and_creates_no_session": "Flows.choose_plan",
    "test_a_stale_waiting_session_does_not_block_a_new_payment": "Flows.choose_plan",
    "test_an_active_session_blocks_a_second_payment": "Flows.choose_plan",
    "test_the_webhook_path_fulfills_exactly_once_when_the_event_arrives_twice": "Flows.expect_waiting",
}


@pytest.mark.usefixtures("no_target_environment")
def test_with_only_sign_in_overridden_every_scenario_fails_naming_its_step(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its sign_in is the second UI's own (the module beside it), and nothing else.
    shutil.copy(EXAMPLES / "second_ui_conftest.py", pytester.path / "second_ui.py")
    monkeypatch.setenv("PITSTOP_APP_UI", "second")
    result = pitstop_run(
        pytester, EXAMPLES / "sign_in_only_conftest.py", "--pitstop-payment", "webhook",
        "--junitxml", "junit.xml", pyproject=PYPROJECT, timeout=WAIT_S,
    )  # fmt: skip
    failures = {
        case.get("name", "").split("[")[0]: (case.find("failure"), case.find("error"))
        for case in ET.parse(pytester.path / "junit.xml").iter("testcase")
    }
    assert set(failures) == set(FIRST_BLIND_STEP), result.stdout.str()[-3000:]
    for name, (failure, error) in failures.items():
        assert error is None, (
            f"{name} errored in its setup, not in a step:\n{error.text if error is not None else ''}"
        )
        assert failure is not None, f"{name} passed on pages without the hooks it checks"
        text = failure.text or ""
        assert f"pitstop: failed in the step {FIRST_BLIND_STEP[name]} " in text, f"{name}:\n{text[-2000:]}"
        assert "override" in text
