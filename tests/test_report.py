"""The run report: outcomes folded per test, percentiles, and its renderings (the HTML page in Chromium)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from playwright.sync_api import Browser

from harness.report.html import Links, html_page, summary_section
from harness.report.recorder import Recorder, build, markdown, percentile, terminal_lines, write
from harness.store import JSON

HEALTH = {
    "checked_at": "2026-11-24T00:00:00+00:00",
    "sessions": {
        "pending": {"total": 0, "stale": 0, "veryStale": 0},
        "waiting": {"total": 2, "stale": 1, "veryStale": 0},
        "live": {"total": 1},
        "completed": {"total": 4},
        "cancelled": {"total": 3},
    },
    "requests": {
        "pending": {"total": 2, "stale": 1},
        "accepted": {"total": 5},
        "expired": {"total": 0},
        "cancelled": {"total": 1},
    },
    "orphans": 0,
    "problems": [
        {"code": "stale_waiting", "count": 1, "message": "1 waiting/pending sessions older than 15"}
    ],
}


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 95) == 4.0
    assert percentile([float(n) for n in range(1, 101)], 50) == 50.5
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.05


def test_outcomes_are_folded_per_test() -> None:
    recorder = Recorder()
    for nodeid, phases in {
        "t::ok": [("setup", "passed"), ("call", "passed"), ("teardown", "passed")],
        "t::fails": [("setup", "passed"), ("call", "failed"), ("teardown", "passed")],
        "t::teardown_error": [("setup", "passed"), ("call", "passed"), ("teardown", "failed")],
        "t::setup_error": [("setup", "failed"), ("teardown", "passed")],
        "t::skipped": [("setup", "skipped"), ("teardown", "passed")],
    }.items():
        for when, outcome in phases:
            recorder.outcome(nodeid, when, outcome)
    assert recorder.run_json()["tests"] == {"passed": 1, "failed": 1, "skipped": 1, "errors": 2}


def test_test_data_feeds_resets_leaks_and_flows() -> None:
    recorder = Recorder()
    recorder.test_data("t::a", {"resets_ms": [1.0, 3.0], "leak": [], "steps": {}})
    recorder.test_data(
        "t::b",
        {
            "resets_ms": [2.0],
            "leak": [{"id": "s1", "status": "waiting", "user": "customer-main-r@pitstop.test"}],
            "steps": {"payment_ms": 900.0, "accept_ms": 250.0},
        },
    )
    run = recorder.run_json()
    assert run["resets"] == {"count": 3, "p50_ms": 2.0, "p95_ms": 2.9}
    assert run["leaks"] == [
        {
            "test": "t::b",
            "sessions": [{"id": "s1", "status": "waiting", "user": "customer-main-r@pitstop.test"}],
        }
    ]
    assert run["flows"] == [{"test": "t::b", "steps": {"payment_ms": 900.0, "accept_ms": 250.0}}]


def test_renderings_carry_the_figures() -> None:
    recorder = Recorder()
    recorder.outcome("t::b", "call", "passed")
    recorder.test_data("t::b", {"resets_ms": [2.0], "leak": [], "steps": {"payment_ms": 900.0}})
    report = build({"app_url": "http://127.0.0.1:1", "kind": "embedded"}, HEALTH, recorder)
    lines = terminal_lines(report)
    assert lines[0] == "target    http://127.0.0.1:1 (embedded)"
    assert any(line.startswith("flow      b: payment 900.0 ms") for line in lines)
    assert "  - stale_waiting (1): 1 waiting/pending sessions older than 15" in lines
    summary = markdown(report)
    assert summary.startswith("## pitstop health") and "| waiting | 2 | 1 | 0 |" in summary
    assert "**stale_waiting** (1)" in summary
    page = html_page(report)
    assert page.startswith("<!doctype html>") and "payment" in page and "900.0 ms" in page
    assert "<pre" not in page  # no raw JSON dump: the JSON report is linked instead


def test_a_health_that_could_not_be_read_is_reported_as_such() -> None:
    report = build({"app_url": "x", "kind": "given"}, {"error": "the database did not answer"}, Recorder())
    assert "health    not checked: the database did not answer" in terminal_lines(report)
    assert "Health not checked" in markdown(report)
    assert "none" in html_page(report)


def test_each_test_is_recorded_with_its_outcome_duration_and_data() -> None:
    recorder = Recorder()
    for when, outcome, duration in (
        ("setup", "passed", 0.25),
        ("call", "failed", 1.5),
        ("teardown", "passed", 0.5),
    ):
        recorder.outcome("t::fails", when, outcome, duration)
    recorder.test_data(
        "t::fails",
        {
            "resets_ms": [2.0],
            "leak": [],
            "steps": {"payment_ms": 900.0},
            "artifacts": [{"kind": "evidence", "path": "test-results/t-fails/pitstop-bundle.json"}],
        },
    )
    recorder.outcome("t::skipped", "setup", "skipped", 0.001)
    recorder.outcome("t::skipped", "teardown", "passed", 0.001)
    recorder.health_start = HEALTH
    report = build({"app_url": "x", "kind": "given"}, HEALTH, recorder)
    assert report["health_start"] == HEALTH
    assert report["run"]["tests_list"] == [
        {
            "test": "t::fails",
            "outcome": "failed",
            "duration_s": 2.25,
            "resets_ms": [2.0],
            "steps": {"payment_ms": 900.0},
            "leak": [],
            "artifacts": [{"kind": "evidence", "path": "test-results/t-fails/pitstop-bundle.json"}],
        },
        {
            "test": "t::skipped",
            "outcome": "skipped",
            "duration_s": 0.002,
            "resets_ms": [],
            "steps": {},
            "leak": [],
            "artifacts": [],
        },
    ]
    # The keys scripts read are all still there.
    assert {"started_at", "duration_s", "tests", "resets", "leaks", "flows", "users_left"} <= set(
        report["run"]
    )


def test_links_are_relative_to_the_page(tmp_path: Path) -> None:
    links = Links(page=tmp_path / "reports" / "page.html", root=tmp_path)
    assert links.href("test-results/a b/trace.zip") == "../test-results/a%20b/trace.zip"
    assert links.href(tmp_path / "reports" / "r.json") == "r.json"
    assert Links().href(tmp_path / "r.json") == (tmp_path / "r.json").as_uri()


# -- a realistic run, rendered and read back in Chromium ------------------------------------------

FLOW = (
    "scenarios/test_full_flow.py::"
    "test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it[chromium]"
)
BROWSER_FAILS = "tests/test_dashboard.py::test_dashboard_names_the_customer[chromium]"


def _health(waiting: int, live: int, completed: int, cancelled: int, problems: list[JSON]) -> JSON:
    health = copy.deepcopy(HEALTH)
    health["sessions"]["waiting"] = {"total": waiting, "stale": 1 if problems else 0, "veryStale": 0}
    health["sessions"]["live"] = {"total": live}
    health["sessions"]["completed"] = {"total": completed}
    health["sessions"]["cancelled"] = {"total": cancelled}
    health["problems"] = problems
    return health


def realistic_report(root: Path) -> JSON:
    """A run as the plugin records one: the shipped flow, a failed browser test with its trace and
    evidence (files under ``root``), a leak, a skip, a teardown error; health at both ends."""
    recorder = Recorder()
    recorder.health_start = _health(0, 0, 12, 3, [])
    folder = root / "test-results" / "tests-test-dashboard-py-test-dashboard-names-the-customer-chromium"
    folder.mkdir(parents=True)
    (folder / "trace.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (folder / "pitstop-bundle.json").write_text("{}")
    artifacts = [
        {"kind": "trace", "path": str((folder / "trace.zip").relative_to(root))},
        {"kind": "evidence", "path": str((folder / "pitstop-bundle.json").relative_to(root))},
    ]
    tests: list[tuple[str, list[tuple[str, str, float]], JSON | None]] = [
        (
            FLOW,
            [("setup", "passed", 1.92), ("call", "passed", 6.41), ("teardown", "passed", 0.31)],
            {
                "resets_ms": [3.412],
                "leak": [],
                "steps": {"payment_ms": 1412.5, "accept_ms": 388.1, "chat_latency_ms": 74.2, "end_ms": 296.8},
            },
        ),
        (
            "scenarios/test_payments.py::test_a_declined_card_shows_the_error_and_creates_no_session[chromium]",
            [("setup", "passed", 0.84), ("call", "passed", 2.2), ("teardown", "passed", 0.12)],
            {"resets_ms": [2.9], "leak": [], "steps": {"payment_ms": 1202.0}},
        ),
        (
            BROWSER_FAILS,
            [("setup", "passed", 0.77), ("call", "failed", 1.63), ("teardown", "passed", 0.4)],
            {"resets_ms": [2.75], "leak": [], "steps": {}, "artifacts": artifacts},
        ),
        (
            "tests/test_leaky.py::test_forgets_to_end_its_session",
            [("setup", "passed", 0.05), ("call", "passed", 0.02), ("teardown", "passed", 0.03)],
            {
                "resets_ms": [2.2],
                "leak": [{"id": "7d1c", "status": "waiting", "user": "customer-main-ab12@pitstop.test"}],
                "steps": {},
            },
        ),
        (
            "tests/test_outcomes.py::test_skipped",
            [("setup", "skipped", 0.001), ("teardown", "passed", 0.0)],
            None,
        ),
        (
            "tests/test_garage.py::test_reset_garage",
            [("setup", "passed", 0.05), ("call", "passed", 0.4), ("teardown", "failed", 0.06)],
            {"resets_ms": [2.4], "leak": [], "steps": {}},
        ),
    ]
    for nodeid, phases, data in tests:
        for when, outcome, duration in phases:
            recorder.outcome(nodeid, when, outcome, duration)
        if data is not None:
            recorder.test_data(nodeid, data)
    stale = {
        "code": "stale_waiting",
        "count": 1,
        "message": "1 waiting/pending sessions older than 15 minutes",
    }
    target = {
        "app_url": "http://127.0.0.1:8765",
        "kind": "embedded",
        "stripe_api_base": "http://127.0.0.1:8420",
    }
    return build(target, _health(1, 0, 13, 5, [stale]), recorder)


def test_the_page_reads_well_in_chromium(tmp_path: Path, browser: Browser) -> None:
    report = realistic_report(tmp_path)
    json_path, html_path = tmp_path / "pitstop-health.json", tmp_path / "pitstop-health.html"
    write(report, json_path)
    html_path.write_text(html_page(report, page=html_path, json_report=json_path, root=tmp_path))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(html_path.as_uri())
        page.screenshot(path=tmp_path / "pitstop-health.png", full_page=True)
        rows = page.locator("table.tests tbody tr")
        assert rows.count() == 6
        outcomes = rows.locator(".outcome").all_inner_texts()
        assert outcomes == ["passed", "passed", "failed", "passed", "skipped", "error"]
        flow = page.locator("table.tests tbody tr", has_text="test_customer_pays")
        assert flow.locator("[data-step=payment_ms]").inner_text() == "payment 1412.5 ms"
        assert flow.locator("td.num").first.inner_text() == "8.64 s"  # setup + call + teardown
        leaky = page.locator("table.tests tbody tr", has_text="test_forgets_to_end_its_session")
        assert leaky.locator("td.leaks").inner_text() == "1"
        assert "waiting session 7d1c" in (leaky.locator(".leak").get_attribute("title") or "")
        # The failed test links to its trace and evidence, relative to the page, and they exist.
        failed = page.locator("table.tests tbody tr", has_text="test_dashboard_names_the_customer")
        for kind, name in (("trace", "trace.zip"), ("evidence", "pitstop-bundle.json")):
            link = failed.locator(f"a[data-kind={kind}]")
            assert (link.get_attribute("href") or "").endswith(name)
            target = link.evaluate("a => a.href")
            assert Path(unquote(urlparse(target).path)).is_file()
        # Health at the start and at the end, side by side; changes marked; whole numbers.
        header = page.locator("table.health thead th").all_inner_texts()
        assert "start of the run" in header[1] and "end of the run" in header[2]
        waiting = page.locator("table.health tr[data-row='sessions · waiting'] td").all_inner_texts()
        assert waiting == ["0", "1 (1 stale)"]
        assert page.locator("table.health tr[data-row='sessions · waiting'] td.changed").count() == 2
        cancelled = page.locator(".chart.sessions [data-status=cancelled] .bar em").all_inner_texts()
        assert cancelled == ["3", "5"]  # at the start, at the end
        cards = dict(
            zip(
                page.locator(".card span").all_inner_texts(),
                page.locator(".card b").all_inner_texts(),
                strict=True,
            )
        )
        assert cards["passed"] == "3" and cards["failed"] == "1" and cards["errors"] == "1"
        assert cards["health problems at the end"] == "1"
        counts = " ".join(
            page.locator("table.health td, .chart.sessions, .cards, table.tests td.leaks").all_inner_texts()
        )
        assert not re.search(r"\b\d+\.0\b", counts), counts  # counts are whole numbers
        # No raw JSON dump: the JSON report is linked.
        assert page.locator("pre").count() == 0
        json_link = page.locator("a", has_text="pitstop-health.json").first
        assert json_link.get_attribute("href") == "pitstop-health.json"
        assert json.loads(json_path.read_text())["run"]["tests_list"][0]["test"] == FLOW
    finally:
        context.close()


def test_pytest_html_gets_a_section_of_its_own(tmp_path: Path) -> None:
    report = realistic_report(tmp_path)
    section = summary_section(
        report, links=Links(tmp_path / "report.html", tmp_path), json_report=tmp_path / "pitstop-health.json"
    )
    assert section.startswith("<section class='pitstop' id='pitstop-health'>")
    assert "start of the run" in section and "stale_waiting" in section
    assert 'href="pitstop-health.json"' in section
    report["health_start"] = None
    assert "not recorded" in summary_section(report, links=Links())
