"""The run's health report: recorded during the run, written after it.

One JSON object (the contract below), a few terminal lines, a Markdown summary
for CI job pages; its HTML renderings are in ``harness.report.html``:

    {"target": {...}, "health": <pitstop.health() at the end>, "health_start": <at the start, or null>,
     "run": {"shard" (only for a shard of the suite: "K/N"), "started_at", "duration_s",
     "tests": {"passed", "failed", "skipped", "errors"}, "resets": {"count", "p50_ms", "p95_ms"},
     "leaks": [{"test", "sessions": [{"id", "status", "user"}]}],
     "flows": [{"test", "steps": {"payment_ms", "accept_ms", "chat_latency_ms", "end_ms"}}],
     "tests_list": [{"test", "outcome", "duration_s", "resets_ms", "steps", "leak",
                     "artifacts": [{"kind": "trace" | "screenshot" | "video" | "evidence", "path"}]}],
     "users_left": [{"email", "reason", "fix"}]}}

``health_start`` is taken once the start-of-run reset is done; an artifact's
path is relative to the folder pytest was started from when it lies inside it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import PitstopError
from harness.json_types import JSON
from harness.rules.health import Health, protected_text

FLOW_STEPS = ("payment_ms", "accept_ms", "chat_latency_ms", "end_ms")


def percentile(values: list[float], q: int) -> float | None:
    """The q-th percentile (inclusive method); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 3)


@dataclass
class Recorder:
    """What the run saw, test by test; fed from test reports (also those of xdist workers)."""

    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.monotonic)
    outcomes: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)  # seconds, every phase; in report order
    resets_ms: list[float] = field(default_factory=list)
    leaks: list[JSON] = field(default_factory=list)
    flows: list[JSON] = field(default_factory=list)
    tests: dict[str, JSON] = field(default_factory=dict)  # what each test's worker attached
    health_start: JSON | None = None  # pitstop.health() once the start-of-run reset is done
    shard: str | None = None  # "K/N": the shard of the suite this run ran (None: all of it)

    def outcome(self, nodeid: str, when: str, outcome: str, duration: float = 0.0) -> None:
        """Fold one phase's outcome into the test's: an error in setup/teardown wins.
        Its duration adds to the test's."""
        self.durations[nodeid] = self.durations.get(nodeid, 0.0) + duration
        if outcome == "failed":
            self.outcomes[nodeid] = "failed" if when == "call" else "errors"
        elif outcome == "skipped":
            self.outcomes.setdefault(nodeid, "skipped")
        elif when == "call":
            self.outcomes.setdefault(nodeid, "passed")

    def note_health_start(self, health: Callable[[], JSON]) -> None:
        """Once per run, after the start-of-run reset: the health then (an error, when it cannot be read).

        The xdist controller takes it as it hands the target to the first worker;
        a run without workers when its tests first reach the target (the ``pitstop`` fixture).
        """
        if self.health_start is not None:
            return
        try:
            self.health_start = Health(health()).to_json()
        except PitstopError as exc:
            self.health_start = {"error": str(exc)}

    def test_data(self, nodeid: str, data: JSON) -> None:
        """Per-test data a worker attached to its report (``user_properties``)."""
        self.resets_ms.extend(data.get("resets_ms", []))
        if data.get("leak"):
            self.leaks.append({"test": nodeid, "sessions": data["leak"]})
        if data.get("steps"):
            self.flows.append({"test": nodeid, "steps": data["steps"]})
        self.tests[nodeid] = data

    def test_json(self, nodeid: str) -> JSON:
        """One test: its outcome, duration, and what pitstop recorded for it."""
        data = self.tests.get(nodeid, {})
        return {
            "test": nodeid,
            "outcome": self.outcomes[nodeid],
            "duration_s": round(self.durations.get(nodeid, 0.0), 3),
            "resets_ms": data.get("resets_ms", []),
            "steps": data.get("steps", {}),
            "leak": data.get("leak", []),
            "artifacts": data.get("artifacts", []),
        }

    def run_json(self) -> JSON:
        counts = dict.fromkeys(("passed", "failed", "skipped", "errors"), 0)
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        return {
            **({"shard": self.shard} if self.shard else {}),
            "started_at": self.started_at.isoformat(),
            "duration_s": round(time.monotonic() - self.started, 3),
            "tests": counts,
            "resets": {
                "count": len(self.resets_ms),
                "p50_ms": percentile(self.resets_ms, 50),
                "p95_ms": percentile(self.resets_ms, 95),
            },
            "leaks": self.leaks,
            "flows": self.flows,
            "tests_list": [self.test_json(nodeid) for nodeid in self.durations if nodeid in self.outcomes],
        }


def build(target: JSON, health: JSON, recorder: Recorder, users_left: list[JSON] | None = None) -> JSON:
    """The report; ``users_left``: test users the run could not delete, each with the reason."""
    run = {**recorder.run_json(), "users_left": users_left or []}
    return {"target": target, "health": health, "health_start": recorder.health_start, "run": run}


def write(report: JSON, path: Path) -> None:
    """Write atomically: a reader (or an interrupted run) never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    partial.replace(path)


def terminal_lines(report: JSON) -> list[str]:
    run, health = report["run"], report["health"]
    tests = run["tests"]
    lines = [
        f"target    {report['target'].get('app_url', '?')} ({report['target'].get('kind', '?')})",
        *([f"app       {report['target']['app_error']}"] if report["target"].get("app_error") else []),
        *(
            [f"lease     {report['target']['lease_problem']}"]
            if report["target"].get("lease_problem")
            else []
        ),
        f"tests     {tests['passed']} passed, {tests['failed']} failed, "
        f"{tests['skipped']} skipped, {tests['errors']} errors in {run['duration_s']:.1f} s",
        f"resets    {run['resets']['count']} (p50 {ms_text(run['resets']['p50_ms'])}, "
        f"p95 {ms_text(run['resets']['p95_ms'])})",
    ]
    for leak in run["leaks"]:
        states = ", ".join(f"{s['status']} {s['id']}" for s in leak["sessions"])
        lines.append(f"leak      {leak['test']}: {states}")
    for flow in run["flows"]:
        steps = "  ".join(f"{k.removesuffix('_ms')} {ms_text(v)}" for k, v in flow["steps"].items())
        lines.append(f"flow      {flow['test'].split('::')[-1]}: {steps}")
    for user in run.get("users_left", []):
        lines.append(f"left      {user['email']}: {user['reason']}")
    if "error" in health:
        lines.append(f"health    not checked: {health['error']}")
    else:
        lines.extend(Health(health).lines())
    return lines


def markdown(report: JSON) -> str:
    """A short summary for ``$GITHUB_STEP_SUMMARY``."""
    health, run = report["health"], report["run"]
    tests = run["tests"]
    out = [
        "## pitstop health",
        "",
        f"**Tests:** {tests['passed']} passed, {tests['failed']} failed, {tests['skipped']} skipped, "
        f"{tests['errors']} errors · **resets:** {run['resets']['count']} "
        f"(p50 {ms_text(run['resets']['p50_ms'])}) · **leaks:** {len(run['leaks'])}",
        "",
    ]
    if "error" in health:
        out.append(f"Health not checked: {health['error']}")
    else:
        out += ["| sessions | total | stale | very stale |", "|---|---|---|---|"]
        for status, counts in health["sessions"].items():
            stale, very = counts.get("stale", ""), counts.get("veryStale", "")
            out.append(f"| {status} | {counts['total']} | {stale} | {very} |")
        out.append("")
        if "protected" in health:
            out += [f"Protected: {protected_text(health['protected'])}.", ""]
        problems = health["problems"]
        out += [f"- **{p['code']}** ({p['count']}): {p['message']}" for p in problems] or ["No problems."]
    if run["flows"]:
        out += ["", "| flow | " + " | ".join(s.removesuffix("_ms") for s in FLOW_STEPS) + " |"]
        out.append("|---" * (len(FLOW_STEPS) + 1) + "|")
        for flow in run["flows"]:
            cells = " | ".join(ms_text(flow["steps"].get(s)) for s in FLOW_STEPS)
            out.append(f"| {flow['test'].split('::')[-1]} | {cells} |")
    if run.get("users_left"):
        out += ["", "**Test users left in place:**"]
        out += [f"- {user['email']}: {user['reason']}" for user in run["users_left"]]
    return "\n".join(out) + "\n"


def ms_text(value: Any) -> str:
    """A time in milliseconds, as the report prints it; "-" for none."""
    return "-" if value is None else f"{float(value):.1f} ms"
