"""A pytest plugin for the benchmark's inner runs (``-p benchmarks.inner_plugin``).

It orders repeated tests round-robin (repetition 0 of every test, then 1, ...) so that
variants being compared share the machine's noise, and writes each test's phase
durations to ``$PITSTOP_BENCH_OUT/timings.json`` (on the xdist controller, or alone).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def _repetition(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("run", 0) if callspec is not None else 0
    return int(value)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_repetition)  # stable: keeps the file's order within a repetition


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Timings(config), "pitstop-bench-timings")


class Timings:
    """Each test's phase durations, from its reports (on xdist, the workers' reports too)."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._tests: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self._tests.setdefault(report.nodeid, {"outcome": "passed", "start": report.start})
        entry[report.when] = report.duration
        entry["stop"] = report.stop
        if report.failed:
            entry["outcome"] = "failed"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        out = os.environ.get("PITSTOP_BENCH_OUT")
        if out and not hasattr(self._config, "workerinput"):
            path = Path(out) / "timings.json"
            path.write_text(json.dumps(self._tests, indent=1), encoding="utf-8")
