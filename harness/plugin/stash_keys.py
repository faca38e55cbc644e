"""Where pitstop keeps its state on pytest's objects: the stash keys, and its user property's name.

The plugin (``harness.plugin``), the fixtures (``harness.plugin.fixtures``) and the
pytest-html part (``harness.plugin.html_report``) all read them; they live here so
that none of those modules imports another for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.engine.run import Run, TestRecord
from harness.report.recorder import Recorder

RUN = pytest.StashKey[Run]()  # config: this process's run
RECORDER = pytest.StashKey[Recorder]()  # config: what the run's report is made of (controller only)
REPORT = pytest.StashKey[dict[str, Any]]()  # config: the report written at the end of the run
PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()  # item: its reports, by phase
TEST_RECORD = pytest.StashKey[TestRecord]()  # item: what pitstop recorded for it
EVIDENCE = pytest.StashKey[Path]()  # item: the evidence bundle of a failed test (harness.plugin.fixtures)

# The name of pitstop's entry in a test report's ``user_properties`` (sent along from xdist workers).
USER_PROPERTY = "pitstop"
