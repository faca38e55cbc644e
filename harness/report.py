"""The run's health report: recorded during the run, written after it.

One JSON object (the contract below), a few terminal lines, an HTML page with
two charts, and a Markdown summary for CI job pages:

    {"target": {...}, "health": <pitstop.health()>, "run": {"started_at", "duration_s",
     "tests": {"passed", "failed", "skipped", "errors"}, "resets": {"count", "p50_ms", "p95_ms"},
     "leaks": [{"test", "sessions": [{"id", "status", "user"}]}],
     "flows": [{"test", "steps": {"payment_ms", "accept_ms", "chat_latency_ms", "end_ms"}}]}}
"""

from __future__ import annotations

import html
import json
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.health import Health
from harness.store import JSON

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
    resets_ms: list[float] = field(default_factory=list)
    leaks: list[JSON] = field(default_factory=list)
    flows: list[JSON] = field(default_factory=list)

    def outcome(self, nodeid: str, when: str, outcome: str) -> None:
        """Fold one phase's outcome into the test's: an error in setup/teardown wins."""
        if outcome == "failed":
            self.outcomes[nodeid] = "failed" if when == "call" else "errors"
        elif outcome == "skipped":
            self.outcomes.setdefault(nodeid, "skipped")
        elif when == "call":
            self.outcomes.setdefault(nodeid, "passed")

    def test_data(self, nodeid: str, data: JSON) -> None:
        """Per-test data a worker attached to its report (``user_properties``)."""
        self.resets_ms.extend(data.get("resets_ms", []))
        if data.get("leak"):
            self.leaks.append({"test": nodeid, "sessions": data["leak"]})
        if data.get("steps"):
            self.flows.append({"test": nodeid, "steps": data["steps"]})

    def run_json(self) -> JSON:
        counts = dict.fromkeys(("passed", "failed", "skipped", "errors"), 0)
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        return {
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
        }


def build(target: JSON, health: JSON, recorder: Recorder, users_left: list[JSON] | None = None) -> JSON:
    """The report; ``users_left``: test users the run could not delete, each with the reason."""
    run = {**recorder.run_json(), "users_left": users_left or []}
    return {"target": target, "health": health, "run": run}


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
        f"tests     {tests['passed']} passed, {tests['failed']} failed, "
        f"{tests['skipped']} skipped, {tests['errors']} errors in {run['duration_s']:.1f} s",
        f"resets    {run['resets']['count']} (p50 {_ms(run['resets']['p50_ms'])}, "
        f"p95 {_ms(run['resets']['p95_ms'])})",
    ]
    for leak in run["leaks"]:
        states = ", ".join(f"{s['status']} {s['id']}" for s in leak["sessions"])
        lines.append(f"leak      {leak['test']}: {states}")
    for flow in run["flows"]:
        steps = "  ".join(f"{k.removesuffix('_ms')} {_ms(v)}" for k, v in flow["steps"].items())
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
        f"(p50 {_ms(run['resets']['p50_ms'])}) · **leaks:** {len(run['leaks'])}",
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
        problems = health["problems"]
        out += [f"- **{p['code']}** ({p['count']}): {p['message']}" for p in problems] or ["No problems."]
    if run["flows"]:
        out += ["", "| flow | " + " | ".join(s.removesuffix("_ms") for s in FLOW_STEPS) + " |"]
        out.append("|---" * (len(FLOW_STEPS) + 1) + "|")
        for flow in run["flows"]:
            cells = " | ".join(_ms(flow["steps"].get(s)) for s in FLOW_STEPS)
            out.append(f"| {flow['test'].split('::')[-1]} | {cells} |")
    if run.get("users_left"):
        out += ["", "**Test users left in place:**"]
        out += [f"- {user['email']}: {user['reason']}" for user in run["users_left"]]
    return "\n".join(out) + "\n"


def html_page(report: JSON) -> str:
    """A self-contained page: the figures, a bar chart of session states and one of step timings."""
    health, run = report["health"], report["run"]
    states = {} if "error" in health else {s: c["total"] for s, c in health["sessions"].items()}
    step_medians = {
        step.removesuffix("_ms"): percentile(
            [f["steps"][step] for f in run["flows"] if f["steps"].get(step) is not None], 50
        )
        for step in FLOW_STEPS
    }
    body = [
        "<h1>pitstop health</h1>",
        f"<p>{html.escape(str(report['target'].get('app_url', '')))}"
        f" · started {html.escape(run['started_at'])} · {run['duration_s']:.1f} s</p>",
        "<pre>" + html.escape("\n".join(terminal_lines(report))) + "</pre>",
        "<h2>Session states</h2>",
        _bars({k: float(v) for k, v in states.items()}, unit=""),
        "<h2>Step timings (median over flows)</h2>",
        _bars({k: v for k, v in step_medians.items() if v is not None}, unit=" ms"),
        "<h2>Report</h2>",
        "<pre>" + html.escape(json.dumps(report, indent=2, default=str)) + "</pre>",
    ]
    style = (
        "body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
        "pre{background:#f5f5f5;padding:1rem;overflow:auto}"
        ".bar{display:flex;align-items:center;margin:.2rem 0}.bar span{width:9rem}"
        ".bar div{background:#3b82f6;height:1rem;margin-right:.5rem}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>pitstop health</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _bars(values: dict[str, float], *, unit: str) -> str:
    if not values:
        return "<p>none</p>"
    top = max(values.values()) or 1.0
    rows = [
        f"<div class='bar'><span>{html.escape(k)}</span><div style='width:{20 * v / top:.2f}rem'></div>"
        f"{v:.1f}{unit}</div>"
        for k, v in values.items()
    ]
    return "".join(rows)


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f} ms"
