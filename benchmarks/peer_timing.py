"""A pytest plugin for the peer benchmark's pitstop runs (``-p peer_timing``): when the first test
started and the last one ended (epoch seconds), and each test's duration (its setup, call and
teardown as pytest reports them), written to ``$PITSTOP_PEER_TIMES`` at the session's end. On an
xdist controller the hooks see every worker's tests."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

_times: dict[str, float] = {}
_durations: dict[str, float] = {}


def pytest_runtest_logstart() -> None:
    _times.setdefault("first_start", time.time())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_runtest_logfinish() -> None:
    _times["last_stop"] = time.time()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("PITSTOP_PEER_TIMES")
    if path and not hasattr(session.config, "workerinput"):
        Path(path).write_text(json.dumps({**_times, "durations": list(_durations.values())}))
