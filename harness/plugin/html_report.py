"""pitstop's part of pytest-html's report, through pytest-html's hooks.

Registered by ``harness.plugin`` where the reports are written (the xdist
controller, or the only process), and only when pytest-html is installed and
writes a report (``--html``): pitstop does not need pytest-html.

- the summary gets pitstop's section: the health at the start and at the end
  of the run, resets, leaks, step timings, and links to pitstop's JSON report
  (and its own page, when one is written);
- the results table gets two columns: the test's step timings and its leaks;
- a test's links get its evidence bundle, and its Playwright trace where
  pytest-playwright does not link it itself.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest

from harness.plugin.stash_keys import RECORDER, REPORT, STATE, USER_PROPERTY
from harness.report import html as report_html

LINK_NAMES = {"evidence": "pitstop evidence", "trace": "Trace"}


class HtmlReport:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.recorder = config.stash[RECORDER]
        root = config.invocation_params.dir
        # pytest-html resolves --html like this: against the folder pytest was started from.
        self.page = root / Path(os.path.expandvars(str(config.getoption("htmlpath")))).expanduser()
        self.links = report_html.Links(self.page, root)
        self.extras: Any = importlib.import_module("pytest_html.extras")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        data = self.config.stash.get(REPORT, None)
        if data is None:  # the run never reached its target: nothing to say
            return
        run_config = self.config.stash[STATE].config
        root = self.config.invocation_params.dir
        html_page = root / run_config.health_html if run_config.health_html else None
        summary.append(
            report_html.summary_section(
                data, links=self.links, json_report=root / run_config.health_path, html_report=html_page
            )
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.append('<th class="pitstop-steps">Steps</th>')
        cells.append('<th class="pitstop-leaks">Leaks</th>')

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        # pytest-html makes a test's rows once its teardown is reported, and so
        # after pitstop recorded what the test's worker attached to that report.
        data = self.recorder.tests.get(report.nodeid, {})
        steps = report_html.steps_html(data.get("steps") or {})
        leaks = report_html.leaks_html(data.get("leak") or [])
        cells.append(f'<td class="col-pitstop-steps"><div class="pitstop">{steps}</div></td>')
        cells.append(f'<td class="col-pitstop-leaks"><div class="pitstop">{leaks}</div></td>')

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Link the test's evidence bundle (and trace) from its row: pytest-html's ``extras``."""
        if report.when != "teardown":
            return
        data = next((v for n, v in report.user_properties if n == USER_PROPERTY and isinstance(v, dict)), {})
        playwright_linked = any(str(n).startswith("playwright_") for n, _ in report.user_properties)
        extras = list(getattr(report, "extras", []))
        for artifact in data.get("artifacts", []):
            kind = artifact["kind"]
            if kind == "evidence" or (kind == "trace" and not playwright_linked):
                extras.append(self.extras.url(self.links.href(artifact["path"]), name=LINK_NAMES[kind]))
        if extras:
            report.extras = extras  # type: ignore[attr-defined]
