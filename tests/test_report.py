"""The run report: outcomes folded per test, percentiles, and its three renderings."""

from __future__ import annotations

from harness.report import Recorder, build, html_page, markdown, percentile, terminal_lines

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


def test_a_health_that_could_not_be_read_is_reported_as_such() -> None:
    report = build({"app_url": "x", "kind": "given"}, {"error": "the database did not answer"}, Recorder())
    assert "health    not checked: the database did not answer" in terminal_lines(report)
    assert "Health not checked" in markdown(report)
    assert "none" in html_page(report)
