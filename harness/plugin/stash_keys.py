"""Where pitstop keeps its state on pytest's objects: the stash keys, and its user property's name.

The plugin's hooks, its fixtures and its pytest-html part all read them; they live here so
that none of those modules imports another for them. Light: the types are named, not imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness.engine.run import TestRecord
    from harness.plugin.state import State
    from harness.report.recorder import Recorder

STATE: pytest.StashKey[State] = pytest.StashKey()  # config: this process's options and run
RECORDER: pytest.StashKey[Recorder] = pytest.StashKey()  # config: what the report is made of (controller)
REPORT = pytest.StashKey[dict[str, Any]]()  # config: the report written at the end of the run
PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()  # item: its reports, by phase
TEST_RECORD: pytest.StashKey[TestRecord] = pytest.StashKey()  # item: what pitstop recorded for it
EVIDENCE = pytest.StashKey[Path]()  # item: the evidence bundle of a failed test (harness.plugin.fixtures)

# The name of pitstop's entry in a test report's ``user_properties`` (sent along from xdist workers).
USER_PROPERTY = "pitstop"
