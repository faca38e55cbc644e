"""The run report as HTML: the standalone page (``--pitstop-health-html``, what
``pitstop demo`` writes) and the parts pitstop adds to pytest-html's report.

Everything is inline (CSS only: no scripts, no external assets), so a page can
be mailed or kept as a CI artifact. Links to the JSON report and to a test's
artifacts (Playwright trace, screenshots, video, pitstop's evidence bundle) are
made relative to the page, so they keep working when the folder moves.
"""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.json_types import JSON
from harness.report.merge import unread_note
from harness.report.recorder import FLOW_STEPS, ms_text, percentile
from harness.rules.health import protected_text

OUTCOME_LABELS = {"passed": "passed", "failed": "failed", "errors": "error", "skipped": "skipped"}

# Scoped to .pitstop, so that it changes nothing of pytest-html's page around it.
STYLE = """
.pitstop{--ok:#15803d;--bad:#b91c1c;--err:#c2410c;--skip:#6b7280;--line:#e5e7eb;--start:#94a3b8;--end:#2563eb;
 color:#111827;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.4}
.pitstop h1{margin:0 0 .2rem}
.pitstop h2{margin:1.6rem 0 .4rem;font-size:1.15em}
.pitstop h3{margin:.8rem 0 .3rem;font-size:1em}
.pitstop .meta{color:#4b5563;margin:.2rem 0 .8rem}
.pitstop a{color:#1d4ed8}
.pitstop .alert{border-left:4px solid var(--bad);background:#fef2f2;padding:.5rem .8rem;margin:.6rem 0}
.pitstop .note{border-left:4px solid #d97706;background:#fffbeb;padding:.5rem .8rem;margin:.6rem 0}
.pitstop .cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.8rem 0}
.pitstop .card{border:1px solid var(--line);border-radius:.5rem;padding:.5rem .9rem;flex:1 1 7rem}
.pitstop .card b{display:block;font-size:1.35rem;font-variant-numeric:tabular-nums}
.pitstop .card span{color:#4b5563;font-size:.85rem}
.pitstop table.grid{border-collapse:collapse;width:100%;margin:.3rem 0 .8rem;font-size:.92em}
.pitstop .grid th,.pitstop .grid td{text-align:left;padding:.3rem .55rem;border-bottom:1px solid var(--line);
 vertical-align:top}
.pitstop .grid th{background:#f9fafb;font-weight:600}
.pitstop .grid .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pitstop .grid td.test{overflow-wrap:anywhere}
.pitstop .grid td.test .file{color:#6b7280}
.pitstop .grid td.shard{overflow-wrap:anywhere;max-width:14rem}
.pitstop table.health{width:auto;min-width:min(100%,36rem)}
.pitstop .tests tr[data-outcome=failed] td,.pitstop .tests tr[data-outcome=errors] td{background:#fef2f2}
.pitstop .grid td.changed{background:#fef3c7}
.pitstop .outcome{display:inline-block;padding:0 .5rem;border-radius:999px;color:#fff;font-size:.8em}
.pitstop .outcome.passed{background:var(--ok)}
.pitstop .outcome.failed{background:var(--bad)}
.pitstop .outcome.errors{background:var(--err)}
.pitstop .outcome.skipped{background:var(--skip)}
.pitstop .step{display:inline-block;margin:0 .6rem .1rem 0;white-space:nowrap}
.pitstop .step i{font-style:normal;color:#4b5563}
.pitstop .leak{color:var(--bad)}
.pitstop .links a{margin-right:.5rem}
.pitstop .muted{color:#6b7280}
.pitstop .side{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:0 2rem}
.pitstop .chart{margin:.3rem 0 .8rem}
.pitstop .bar{display:flex;align-items:center;margin:.15rem 0;font-variant-numeric:tabular-nums}
.pitstop .bar>span{width:9rem;flex:none}
.pitstop .bar>div{height:.9rem;margin-right:.5rem;background:var(--end);border-radius:2px;min-width:1px}
.pitstop .bar.start>div{background:var(--start)}
.pitstop .bar.start>span{color:#6b7280}
.pitstop .bar em{font-style:normal}
.pitstop .chart .group{margin-bottom:.35rem}
.pitstop .legend i{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;vertical-align:-1px}
"""


@dataclass(frozen=True)
class Links:
    """How a page links to files: relative to the page's folder when it is known.

    ``root``: what an artifact's relative path is relative to (the folder pytest
    was started from; the current folder when not given).
    """

    page: Path | None = None
    root: Path | None = None

    def href(self, path: str | Path) -> str:
        target = Path(path)
        if not target.is_absolute():
            target = (self.root or Path.cwd()) / target
        if self.page is None:
            return target.absolute().as_uri()
        try:
            relative = os.path.relpath(target.absolute(), self.page.absolute().parent)
        except ValueError:  # another drive (Windows): no relative link
            return target.absolute().as_uri()
        return urllib.parse.quote(Path(relative).as_posix())

    def a(self, path: str | Path, text: str) -> str:
        return f'<a href="{html.escape(self.href(path))}">{html.escape(text)}</a>'


# -- the standalone page -------------------------------------------------------------------------


def html_page(
    report: JSON, *, page: Path | None = None, json_report: Path | None = None, root: Path | None = None
) -> str:
    """The standalone page: figures, the tests, health at the start and the end, charts.

    ``page``: where it will be written (links are made relative to it);
    ``json_report``: the JSON report to link to; ``root``: see ``Links``.
    """
    links = Links(page, root)
    target, run, end = report["target"], report["run"], report["health"]
    start = report.get("health_start")
    where = html.escape(str(target.get("app_url", "?")))
    meta = [
        f"{where} ({html.escape(str(target.get('kind', '?')))})",
        f"started {html.escape(_when(str(run['started_at'])))}",
        f"{run['duration_s']:.1f} s",
    ]
    if json_report is not None:
        meta.append(links.a(json_report, f"JSON report ({json_report.name})"))
    tests = run.get("tests_list", [])
    shards = report.get("shards")
    if shards is not None:  # merged from a suite's shards (``harness.report.merge``)
        merged = sum(1 for shard in shards if not shard.get("error"))
        meta.insert(1, f"merged from {merged} of {len(shards)} shards")
    body = [
        "<h1>pitstop health</h1>",
        f"<p class='meta'>{' · '.join(meta)}</p>",
        *_alerts(report),
        *_notes(report),
        _cards(report),
        *(["<h2>Shards</h2>", shards_table(shards)] if shards is not None else []),
        "<h2>Tests</h2>",
        tests_table(tests, links),
        "<h2>Health at the start and at the end of the run</h2>",
        *_health_shards(report),
        health_comparison(start, end),
        "<h2>Charts</h2>",
        "<div class='side'>",
        "<div><h3>Session states</h3>" + session_chart(start, end) + "</div>",
        "<div><h3>Step timings (median over flows)</h3>" + step_chart(run["flows"]) + "</div>",
        "</div>",
        *_users_left(run),
    ]
    if json_report is not None:
        link = links.a(json_report, json_report.name)
        body.append(f"<p class='muted'>Every figure is in the JSON report: {link}</p>")
    page_style = "body{margin:2rem auto;max-width:76rem;padding:0 1.2rem}"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'><title>pitstop health</title>"
        f"<style>{page_style}{STYLE}</style></head>"
        f"<body><main class='pitstop'>{''.join(body)}</main></body></html>\n"
    )


def _when(stamp: str) -> str:
    """An ISO timestamp to the second: "2026-11-24 09:10:32 UTC"."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (f" {moment.tzname()}" if moment.tzinfo else "")


def _alerts(report: JSON) -> list[str]:
    out = []
    for said in ("app_error", "lease_problem"):
        if report["target"].get(said):
            out.append(f"<p class='alert'>{html.escape(str(report['target'][said]))}</p>")
    if "error" in report["health"]:
        out.append(
            "<p class='alert'>Health at the end not checked: "
            f"{html.escape(str(report['health']['error']))}</p>"
        )
    return out


def _notes(report: JSON) -> list[str]:
    """A merged report's notes: a shard that could not be read as an alert, the others as notes."""
    shards = report.get("shards", [])
    unread = {unread_note(str(s["label"]), str(s["file"]), s["error"]) for s in shards if s.get("error")}
    return [
        f"<p class='{'alert' if note in unread else 'note'}'>{html.escape(str(note))}</p>"
        for note in report.get("notes", [])
    ]


def _health_shards(report: JSON) -> list[str]:
    """A merged report's: which shard's health is at the start, which at the end."""
    said = report.get("health_shards")
    if not said:
        return []
    start = f"shard {said['start']} (the earliest that recorded it)" if said.get("start") else "none recorded"
    text = f"At the start: {start}; at the end: shard {said['end']} (the last to end)."
    return [f"<p class='muted'>{html.escape(text)}</p>"]


def shards_table(shards: list[JSON]) -> str:
    """A merged report's shards: when each ran, its tests, its own end problems, or why it is missing."""
    rows = []
    for shard in shards:
        label = f"<td>{html.escape(str(shard['label']))}</td><td>{html.escape(str(shard['file']))}</td>"
        if shard.get("error"):
            rows.append(
                f"<tr data-shard='{html.escape(str(shard['label']))}' data-error='yes'>{label}"
                f"<td colspan='4' class='leak'>not merged: {html.escape(str(shard['error']))}</td></tr>"
            )
            continue
        tests = shard["tests"]
        counts = ", ".join(f"{tests[k]} {OUTCOME_LABELS[k]}" for k in OUTCOME_LABELS)
        if shard.get("health_error"):
            problems = f"<span class='muted'>not checked: {html.escape(str(shard['health_error']))}</span>"
        elif shard.get("health_problems"):
            problems = ", ".join(
                f"<b>{html.escape(str(p['code']))}</b> ({p['count']})" for p in shard["health_problems"]
            )
        else:
            problems = "none"
        rows.append(
            f"<tr data-shard='{html.escape(str(shard['label']))}'>{label}"
            f"<td>{html.escape(_when(str(shard['started_at'])))}</td>"
            f"<td class='num'>{float(shard['duration_s']):.1f} s</td>"
            f"<td>{html.escape(counts)}</td><td>{problems}</td></tr>"
        )
    head = (
        "<tr><th>Shard</th><th>Report</th><th>Started</th><th class='num'>Duration</th><th>Tests</th>"
        "<th>Problems at its end</th></tr>"
    )
    return f"<table class='grid shards'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _cards(report: JSON) -> str:
    run, end = report["run"], report["health"]
    counts = run["tests"]
    resets = run["resets"]
    problems = "-" if "error" in end else str(len(end["problems"]))
    cards = [
        *((str(counts[key]), key, key) for key in ("passed", "failed", "errors", "skipped")),
        (
            str(resets["count"]),
            f"resets (p50 {ms_text(resets['p50_ms'])}, p95 {ms_text(resets['p95_ms'])})",
            "resets",
        ),
        (str(len(run["leaks"])), "tests that leaked", "leaks"),
        (problems, "health problems at the end", "problems"),
    ]
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card' data-card='{name}'><b>{html.escape(value)}</b>"
            f"<span>{html.escape(label)}</span></div>"
            for value, label, name in cards
        )
        + "</div>"
    )


def _users_left(run: JSON) -> list[str]:
    left = run.get("users_left") or []
    if not left:
        return []
    items = "".join(
        f"<li>{html.escape(str(u['email']))}: {html.escape(str(u['reason']))}"
        + (f" <span class='muted'>(fix: {html.escape(str(u['fix']))})</span>" if u.get("fix") else "")
        + "</li>"
        for u in left
    )
    return ["<h2>Test users left in place</h2>", f"<ul>{items}</ul>"]


# -- pieces, also used in pytest-html's report ---------------------------------------------------


def tests_table(tests: list[JSON], links: Links) -> str:
    """One row per test: outcome, duration, step timings, leaks, links to its artifacts."""
    if not tests:
        return "<p class='muted'>No tests were recorded.</p>"
    sharded = any("shard" in test for test in tests)  # merged from shards: which ran each test
    rows = []
    for test in tests:
        outcome = str(test["outcome"])
        shard = html.escape(str(test.get("shard", "")))
        rows.append(
            f"<tr data-outcome='{html.escape(outcome)}'"
            + (f" data-shard='{shard}'>" if sharded else ">")
            + f"<td class='test'>{nodeid_html(str(test['test']))}</td>"
            + (f"<td class='shard'>{shard}</td>" if sharded else "")
            + f"<td><span class='outcome {html.escape(outcome)}'>"
            f"{html.escape(OUTCOME_LABELS.get(outcome, outcome))}</span></td>"
            f"<td class='num'>{float(test['duration_s']):.2f} s</td>"
            f"<td class='steps'>{steps_html(test.get('steps') or {})}</td>"
            f"<td class='num leaks'>{leaks_html(test.get('leak') or [])}</td>"
            f"<td class='links'>{artifacts_html(test.get('artifacts') or [], links)}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>Test</th>"
        + ("<th>Shard</th>" if sharded else "")
        + "<th>Outcome</th><th class='num'>Duration</th><th>Steps</th>"
        "<th class='num'>Leaks</th><th>Trace and evidence</th></tr>"
    )
    return f"<table class='grid tests'><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def nodeid_html(nodeid: str) -> str:
    """A node id that wraps at its words: the file muted, the test's name plain."""
    file, sep, name = nodeid.rpartition("::")

    def breakable(text: str) -> str:
        return re.sub(r"([_/.\[])", r"\1<wbr>", html.escape(text))

    return f"<span class='file'>{breakable(file + sep)}</span>{breakable(name)}"


def steps_html(steps: JSON) -> str:
    """A test's step timings, the flow's steps first; "-" for none."""
    if not steps:
        return "<span class='muted'>-</span>"
    names = [s for s in FLOW_STEPS if s in steps] + [s for s in steps if s not in FLOW_STEPS]
    return "".join(
        f"<span class='step' data-step='{html.escape(name)}'><i>{html.escape(name.removesuffix('_ms'))}</i> "
        f"{ms_text(steps[name])}</span>"
        for name in names
    )


def leaks_html(leak: list[JSON]) -> str:
    """How many sessions a test left (the count; their states and ids on hover)."""
    if not leak:
        return "0"
    detail = ", ".join(f"{s.get('status')} session {s.get('id')} of {s.get('user')}" for s in leak)
    return f"<span class='leak' title='{html.escape(detail)}'>{len(leak)}</span>"


def artifacts_html(artifacts: list[JSON], links: Links) -> str:
    if not artifacts:
        return "<span class='muted'>-</span>"
    return "".join(
        links.a(a["path"], str(a["kind"])).replace("<a ", f"<a data-kind='{html.escape(str(a['kind']))}' ", 1)
        for a in artifacts
    )


def health_comparison(start: JSON | None, end: JSON) -> str:
    """The health at the start and at the end side by side; a cell that changed is marked."""
    columns = [("start of the run", start), ("end of the run", end)]
    head = "".join(
        f"<th class='num'>{html.escape(title)}<br><span class='muted'>{html.escape(_checked(h))}</span></th>"
        for title, h in columns
    )
    readable = [h for _, h in columns if h is not None and "error" not in h]
    if not readable:
        return f"<table class='grid health'><thead><tr><th></th>{head}</tr></thead></table>"
    rows: list[tuple[str, list[str]]] = []
    for kind in ("sessions", "requests"):
        for status in _union(h[kind] for h in readable):
            rows.append((f"{kind} · {status}", [_counts(h, kind, status) for _, h in columns]))
    rows.append(("orphans", [_plain(h, lambda h: str(h["orphans"])) for _, h in columns]))
    if any("protected" in h for h in readable):  # where the model protects sessions: how many, and why
        rows.append(
            ("protected", [_plain(h, lambda h: protected_text(h.get("protected", {}))) for _, h in columns])
        )
    rows.append(("problems", [_plain(h, lambda h: str(len(h["problems"]))) for _, h in columns]))
    body = "".join(
        f"<tr data-row='{html.escape(name)}'><th>{html.escape(name)}</th>"
        + "".join(
            f"<td class='num{' changed' if start is not None and cells[0] != cells[1] else ''}'>"
            f"{html.escape(cell)}</td>"
            for cell in cells
        )
        + "</tr>"
        for name, cells in rows
    )
    problems = "".join(
        f"<div><h3>Problems at the {word}</h3>{_problems(h)}</div>"
        for word, h in (("start", start), ("end", end))
    )
    return (
        f"<table class='grid health'><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<div class='side'>{problems}</div>"
    )


def _checked(health: JSON | None) -> str:
    if health is None:
        return "not recorded"
    if "error" in health:
        return f"not checked: {health['error']}"
    return f"checked at {_when(str(health.get('checked_at', '?')))}"


def _union(groups: Iterable[JSON]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return list(seen)


def _counts(health: JSON | None, kind: str, status: str) -> str:
    """``total``, with its non-zero stale counts: "2 (1 stale)"."""
    if health is None or "error" in health:
        return "-"
    counts = health[kind].get(status)
    if counts is None:
        return "-"
    extra = [
        f"{counts[key]} {label}"
        for key, label in (("stale", "stale"), ("veryStale", "very stale"))
        if counts.get(key)
    ]
    return f"{counts['total']}" + (f" ({', '.join(extra)})" if extra else "")


def _plain(health: JSON | None, value: Any) -> str:
    if health is None or "error" in health:
        return "-"
    return str(value(health))


def _problems(health: JSON | None) -> str:
    if health is None or "error" in health:
        return f"<p class='muted'>{html.escape(_checked(health))}</p>"
    if not health["problems"]:
        return "<p>None.</p>"
    return (
        "<ul>"
        + "".join(
            f"<li><b>{html.escape(str(p['code']))}</b> ({p['count']}): {html.escape(str(p['message']))}</li>"
            for p in health["problems"]
        )
        + "</ul>"
    )


# -- charts ---------------------------------------------------------------------------------------


def session_chart(start: JSON | None, end: JSON) -> str:
    """Sessions by status, a bar at the start and one at the end (whole numbers)."""
    series = {
        word: {s: int(c["total"]) for s, c in h["sessions"].items()}
        for word, h in (("start", start), ("end", end))
        if h is not None and "error" not in h
    }
    if not series:
        return "<p class='muted'>none</p>"
    top = max((v for counts in series.values() for v in counts.values()), default=0) or 1
    groups = []
    for status in _union(series.values()):
        bars = [
            _bar(
                status if i == 0 else "",
                counts.get(status, 0),
                top,
                str(counts.get(status, 0)),
                word,
                title=f"{status} at the {word} of the run: {counts.get(status, 0)}",
            )
            for i, (word, counts) in enumerate(series.items())
        ]
        groups.append(f"<div class='group' data-status='{html.escape(status)}'>{''.join(bars)}</div>")
    legend = "".join(f"<i style='background:var(--{word})'></i>{word} of the run" for word in series)
    return f"<div class='chart sessions'>{''.join(groups)}</div><p class='legend muted'>{legend}</p>"


def step_chart(flows: list[JSON]) -> str:
    """The median of each flow step over the run's flows, in milliseconds."""
    medians = {
        step.removesuffix("_ms"): percentile(
            [float(f["steps"][step]) for f in flows if f["steps"].get(step) is not None], 50
        )
        for step in FLOW_STEPS
    }
    values = {k: v for k, v in medians.items() if v is not None}
    if not values:
        return "<p class='muted'>none</p>"
    top = max(values.values()) or 1.0
    return (
        "<div class='chart steps'>"
        + "".join(_bar(k, v, top, ms_text(v), "end", title=f"{k}: {ms_text(v)}") for k, v in values.items())
        + "</div>"
    )


def _bar(label: str, value: float, top: float, text: str, series: str, *, title: str) -> str:
    width = 18 * value / top if top else 0
    return (
        f"<div class='bar {series}' title='{html.escape(title)}'><span>{html.escape(label)}</span>"
        f"<div style='width:{width:.2f}rem'></div><em>{html.escape(text)}</em></div>"
    )


# -- pytest-html -----------------------------------------------------------------------------------


def summary_section(
    report: JSON, *, links: Links, json_report: Path | None = None, html_report: Path | None = None
) -> str:
    """pitstop's section in pytest-html's summary: figures, health at the start and the end, timings."""
    run, resets = report["run"], report["run"]["resets"]
    meta = [
        f"target {html.escape(str(report['target'].get('app_url', '?')))}",
        f"resets {resets['count']} (p50 {ms_text(resets['p50_ms'])}, p95 {ms_text(resets['p95_ms'])})",
        f"tests that leaked {len(run['leaks'])}",
    ]
    if json_report is not None:
        meta.append(links.a(json_report, "JSON report"))
    if html_report is not None:
        meta.append(links.a(html_report, "pitstop's page"))
    return (
        f"<section class='pitstop' id='pitstop-health'><style>{STYLE}</style><h2>pitstop health</h2>"
        f"<p class='meta'>{' · '.join(meta)}</p>{''.join(_alerts(report))}"
        f"{health_comparison(report.get('health_start'), report['health'])}"
        f"<h3>Step timings (median over flows)</h3>{step_chart(run['flows'])}"
        f"{''.join(_users_left(run))}</section>"
    )
