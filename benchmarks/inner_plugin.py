"""A pytest plugin for the benchmark's inner runs (``-p benchmarks.inner_plugin``).

It orders repeated tests round-robin (repetition 0 of every test, then 1, ...) so that
variants being compared share the machine's noise, and writes each test's phase
durations and CPU time to ``$PITSTOP_BENCH_OUT/timings.json`` (on the xdist
controller, or alone).

A test's CPU time is measured from its setup to the end of its teardown, by part:
this pytest process, its Playwright driver and its browser (the test's own tree),
and the stack's processes named in ``$PITSTOP_BENCH_STACK_PIDS`` (JSON, part → pid).
Everything those processes do meanwhile counts, so run one test at a time per stack
(``-n 1`` or no xdist) for a per-test figure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.machine import command_name, parts_cpu_seconds

CPU_KEY = "pitstop_bench_cpu_s"


def _repetition(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("run", 0) if callspec is not None else 0
    return int(value)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_repetition)  # stable: keeps the file's order within a repetition


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Timings(config), "pitstop-bench-timings")
    config.pluginmanager.register(CpuTime(), "pitstop-bench-cpu")


def _own_part(pid: int) -> str:
    """Which part of this pytest run's own tree a process is: browser, driver or pytest."""
    name = command_name(pid)
    if name.startswith(("chrom", "headless")):
        return "browser"
    return "driver" if name.startswith("node") else "pytest"


class CpuTime:
    """CPU seconds each test costs, by part, kept on its teardown report (which xdist carries)."""

    def __init__(self) -> None:
        self._stack: dict[str, int] = json.loads(os.environ.get("PITSTOP_BENCH_STACK_PIDS", "{}"))
        self._started: dict[str, dict[str, float]] = {}

    def _sample(self) -> dict[str, float]:
        own = parts_cpu_seconds({"pytest": os.getpid()}, name=_own_part)
        return own | parts_cpu_seconds(self._stack)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._started[nodeid] = self._sample()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        if call.when == "teardown" and item.nodeid in self._started:
            before, after = self._started.pop(item.nodeid), self._sample()
            spent = {part: round(after[part] - before.get(part, 0.0), 3) for part in after}
            item.user_properties.append((CPU_KEY, spent))
        return (yield)


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
        cpu = dict(report.user_properties).get(CPU_KEY)
        if cpu is not None:
            entry["cpu_s"] = cpu

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        out = os.environ.get("PITSTOP_BENCH_OUT")
        if out and not hasattr(self._config, "workerinput"):
            path = Path(out) / "timings.json"
            path.write_text(json.dumps(self._tests, indent=1), encoding="utf-8")
