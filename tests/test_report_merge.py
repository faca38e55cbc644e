"""``pitstop report merge``: a suite's shards' reports as one (issue 19, part 3).

The shards' reports are made as the plugin makes them (``Recorder`` fed test by test, ``build``,
``write``), each with its own tests, resets, flows, leaks and health at both ends.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from harness.report.html import nodeid_html
from harness.report.merge import check_report, markdown, merge, read_shards, write_atomically
from harness.report.recorder import Recorder, build, percentile, write
from harness.report.recorder import markdown as run_markdown
from harness.store import JSON
from tests.conftest import run_cli

T0 = datetime(2026, 12, 6, 9, 0, 0, tzinfo=UTC)
TARGET = {"app_url": "https://preview.example.test", "kind": "given", "stripe_api_base": None}

HEALTH: JSON = {
    "checked_at": "2026-12-06T09:00:00+00:00",
    "sessions": {
        "pending": {"total": 0, "stale": 0, "veryStale": 0},
        "waiting": {"total": 0, "stale": 0, "veryStale": 0},
        "live": {"total": 0},
        "completed": {"total": 0},
        "cancelled": {"total": 0},
    },
    "requests": {
        "pending": {"total": 0, "stale": 0},
        "accepted": {"total": 0},
        "expired": {"total": 0},
        "cancelled": {"total": 0},
    },
    "orphans": 0,
    "problems": [],
}


def health(completed: int, *, stale_waiting: int = 0, at: datetime = T0) -> JSON:
    """A health check: ``completed`` sessions, and ``stale_waiting`` ones that are a problem."""
    out = copy.deepcopy(HEALTH)
    out["checked_at"] = at.isoformat()
    out["sessions"]["completed"]["total"] = completed
    out["sessions"]["waiting"] = {"total": stale_waiting, "stale": stale_waiting, "veryStale": 0}
    if stale_waiting:
        out["problems"] = [
            {
                "code": "stale_waiting",
                "count": stale_waiting,
                "message": f"{stale_waiting} waiting/pending sessions older than 15 minutes",
            }
        ]
    return out


FLOW = "scenarios/test_full_flow.py::test_full_flow[chromium-{n}]"


@pytest.fixture(autouse=True)
def _no_job_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command appends to a GitHub Actions job's summary: not this run's, when it runs in one."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def shard_report(
    *,
    label: str | None,
    start: datetime,
    duration_s: float,
    tests: list[tuple[str, str, JSON]],
    health_start: JSON | None,
    health_end: JSON,
    users_left: list[JSON] | None = None,
) -> JSON:
    """A shard's report as the plugin writes it: ``tests`` are (nodeid, outcome of the call, data)."""
    recorder = Recorder(shard=label, started_at=start, started=time.monotonic() - duration_s)
    recorder.health_start = health_start
    for nodeid, outcome, data in tests:
        recorder.outcome(nodeid, "setup", "passed", 0.1)
        recorder.outcome(nodeid, "call", outcome, 1.0)
        recorder.outcome(nodeid, "teardown", "passed", 0.05)
        recorder.test_data(nodeid, data)
    return build(TARGET, health_end, recorder, users_left)


def flow(n: int, payment_ms: float, resets_ms: list[float]) -> tuple[str, str, JSON]:
    steps = {"payment_ms": payment_ms, "accept_ms": 300.0 + n, "chat_latency_ms": 50.0, "end_ms": 40.0}
    return FLOW.format(n=n), "passed", {"resets_ms": resets_ms, "leak": [], "steps": steps}


def plain(
    name: str, resets_ms: list[float], outcome: str = "passed", leak: list[JSON] | None = None
) -> tuple[str, str, JSON]:
    return (
        f"tests/test_{name}.py::test_{name}",
        outcome,
        {"resets_ms": resets_ms, "leak": leak or [], "steps": {}},
    )


TRACE = "test-results/tests-test-b-py-test-b/trace.zip"
LEAK = [{"id": "7d1c", "status": "waiting", "user": "customer-gw0-ab12@pitstop.test"}]
LEFT = [{"email": "mechanic-gw1-ab12@pitstop.test", "reason": "still owns a live session", "fix": "end it"}]


def four_shards(root: Path) -> list[Path]:
    """Four shards, as a CI matrix's artifacts lay them out (``shard-K/pitstop-health.json``).

    The resets are skewed: shard 1/4 resets fast and often, 2/4 once and slowly, so the pooled
    median differs from the mean (and the median) of the shards' medians. 3/4 started first,
    2/4 ended last; the fourth is a run that does not know it is a shard (no ``run.shard``).
    """
    reports = [
        shard_report(
            label="1/4",
            start=T0,
            duration_s=100.0,
            tests=[
                flow(1, 1000.0, [1.0, 1.0]),
                flow(2, 1100.0, [1.0, 1.0]),
                plain("a", [1.0, 1.0, 1.0]),
                (
                    "tests/test_b.py::test_b",
                    "failed",
                    {
                        "resets_ms": [1.0, 1.0],
                        "leak": [],
                        "steps": {},
                        "artifacts": [{"kind": "trace", "path": TRACE}],
                    },
                ),
            ],
            health_start=health(10, at=T0),
            health_end=health(14, at=T0 + timedelta(seconds=100)),
        ),
        shard_report(
            label="2/4",
            start=T0 + timedelta(seconds=5),
            duration_s=300.0,
            tests=[flow(3, 5000.0, [100.0]), plain("c", [], outcome="skipped")],
            health_start=health(11, at=T0 + timedelta(seconds=5)),
            health_end=health(20, stale_waiting=1, at=T0 + timedelta(seconds=305)),
            users_left=LEFT,
        ),
        shard_report(
            label="3/4",
            start=T0 - timedelta(seconds=10),
            duration_s=50.0,
            tests=[plain("d", [2.0, 2.0, 2.0]), plain("e", [2.0, 2.0], leak=LEAK)],
            health_start=health(9, at=T0 - timedelta(seconds=10)),
            health_end=health(12, stale_waiting=2, at=T0 + timedelta(seconds=40)),
        ),
        shard_report(
            label=None,
            start=T0 + timedelta(seconds=20),
            duration_s=200.0,
            tests=[flow(4, 1200.0, [3.0, 3.0]), plain("f", [3.0, 3.0, 3.0])],
            health_start=health(12, at=T0 + timedelta(seconds=20)),
            health_end=health(18, at=T0 + timedelta(seconds=220)),
        ),
    ]
    # 1/4's failed test kept its trace, beside the report as the job's artifact holds them.
    trace = root / "shard-1" / TRACE
    trace.parent.mkdir(parents=True)
    trace.write_bytes(b"PK\x05\x06" + bytes(18))
    paths = []
    for k, report in enumerate(reports, 1):
        path = root / f"shard-{k}" / "pitstop-health.json"
        write(report, path)  # as the plugin writes it
        paths.append(path)
    return paths


def loaded(paths: list[Path]) -> list[JSON]:
    return [json.loads(p.read_text()) for p in paths]


def test_every_test_of_every_shard_is_kept_with_its_shard(tmp_path: Path) -> None:
    paths = four_shards(tmp_path)
    merged = merge(read_shards(str(p) for p in paths))
    fourth = str(paths[3])  # no run.shard, and every file is named pitstop-health.json: its path
    expected = {
        (t["test"], label)
        for label, report in zip(["1/4", "2/4", "3/4", fourth], loaded(paths), strict=True)
        for t in report["run"]["tests_list"]
    }
    assert {(t["test"], t["shard"]) for t in merged["run"]["tests_list"]} == expected
    assert len(merged["run"]["tests_list"]) == 10
    # Each entry is its shard's, unchanged but for the shard.
    first = loaded(paths)[0]["run"]["tests_list"][0]
    assert merged["run"]["tests_list"][0] == {**first, "shard": "1/4"}
    assert merged["run"]["tests"] == {"passed": 8, "failed": 1, "skipped": 1, "errors": 0}
    assert [s["label"] for s in merged["shards"]] == ["1/4", "2/4", "3/4", fourth]
    assert [s["tests"]["passed"] for s in merged["shards"]] == [3, 1, 2, 2]
    assert all(s["error"] is None for s in merged["shards"]) and merged["notes"] == []


def test_a_shard_without_a_label_is_named_by_its_file(tmp_path: Path) -> None:
    report = shard_report(
        label=None, start=T0, duration_s=1.0, tests=[plain("a", [1.0])], health_start=None, health_end=HEALTH
    )
    write(report, tmp_path / "linux-py311.json")
    merged = merge(read_shards([str(tmp_path / "linux-py311.json")]))
    assert merged["run"]["tests_list"][0]["shard"] == "linux-py311.json"
    assert merged["shards"][0]["label"] == "linux-py311.json"


def test_percentiles_are_computed_over_the_pooled_samples_never_averaged(tmp_path: Path) -> None:
    paths = four_shards(tmp_path)
    reports = loaded(paths)
    merged = merge(read_shards(str(p) for p in paths))
    samples = [ms for r in reports for t in r["run"]["tests_list"] for ms in t["resets_ms"]]
    assert len(samples) == 20
    assert merged["run"]["resets"] == {
        "count": sum(r["run"]["resets"]["count"] for r in reports),
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
    }
    assert merged["run"]["resets"]["count"] == 20
    shard_p50s = [r["run"]["resets"]["p50_ms"] for r in reports]
    assert shard_p50s == [1.0, 100.0, 2.0, 3.0]
    assert merged["run"]["resets"]["p50_ms"] == 2.0
    assert merged["run"]["resets"]["p50_ms"] not in (
        statistics.mean(shard_p50s),
        statistics.median(shard_p50s),
    )
    # The flows' steps, pooled the same way.
    flows = [f for r in reports for f in r["run"]["flows"]]
    payments = [f["steps"]["payment_ms"] for f in flows]
    assert merged["run"]["flow_steps"]["payment_ms"] == {
        "count": 4,
        "p50_ms": percentile(payments, 50),
        "p95_ms": percentile(payments, 95),
    }
    per_shard = [percentile([f["steps"]["payment_ms"] for f in r["run"]["flows"]], 50) for r in reports]
    assert merged["run"]["flow_steps"]["payment_ms"]["p50_ms"] == 1150.0
    assert statistics.mean(p for p in per_shard if p is not None) != 1150.0
    assert [f["shard"] for f in merged["run"]["flows"]] == ["1/4", "1/4", "2/4", str(paths[3])]


def test_health_at_the_start_is_the_earliest_shards_and_at_the_end_the_latest_ending(tmp_path: Path) -> None:
    paths = four_shards(tmp_path)
    reports = loaded(paths)
    merged = merge(read_shards(str(p) for p in paths))
    assert merged["health_start"] == reports[2]["health_start"]  # 3/4 started first
    assert merged["health"] == reports[1]["health"]  # 2/4 ended last (not the last to start: the 4th)
    assert merged["health_shards"] == {"start": "3/4", "end": "2/4"}
    assert merged["run"]["started_at"] == (T0 - timedelta(seconds=10)).isoformat()
    ends = [
        datetime.fromisoformat(r["run"]["started_at"]) + timedelta(seconds=r["run"]["duration_s"])
        for r in reports
    ]
    assert merged["run"]["duration_s"] == round((max(ends) - (T0 - timedelta(seconds=10))).total_seconds(), 3)
    assert 314.9 < merged["run"]["duration_s"] < 315.1
    # Each shard's own problems at its end, leaks and users left: all of them, with their shard.
    assert [s["health_problems"] for s in merged["shards"]] == [r["health"]["problems"] for r in reports]
    assert [len(s["health_problems"]) for s in merged["shards"]] == [0, 1, 1, 0]
    assert merged["run"]["leaks"] == [{"test": "tests/test_e.py::test_e", "sessions": LEAK, "shard": "3/4"}]
    assert merged["run"]["users_left"] == [{**LEFT[0], "shard": "2/4"}]
    assert merged["target"] == TARGET


def test_targets_that_differ_are_noted(tmp_path: Path) -> None:
    paths = four_shards(tmp_path)
    report = json.loads(paths[1].read_text())
    report["target"] = {
        "app_url": "http://127.0.0.1:50409",
        "kind": "embedded",
        "app_error": "the app said 500",
    }
    write(report, paths[1])
    merged = merge(read_shards(str(p) for p in paths))
    assert merged["target"] == TARGET
    assert merged["notes"] == [
        "shard 2/4 ran against http://127.0.0.1:50409 (embedded), not https://preview.example.test (given) "
        "(the target above is shard 1/4's)",
        "shard 2/4: the app said 500",
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "missing: no such file"),
        ("<html>pytest-html, not JSON", "not JSON: Expecting value at line 1, column 1"),
        ('{"report": {"tests": []}}', "not a pitstop report: target is not an object"),
        ("[1, 2]", "not a pitstop report: not a JSON object"),
        ("{}", "not a pitstop report: target is not an object"),
    ],
)
def test_a_shard_that_cannot_be_read_is_named_with_its_error(
    tmp_path: Path, content: str | None, error: str
) -> None:
    bad = tmp_path / "shard-9.json"
    if content is not None:
        bad.write_text(content)
    paths = four_shards(tmp_path)
    merged = merge(read_shards([*map(str, paths[:2]), str(bad)]))
    assert merged["shards"][2] == {
        "label": "shard-9.json",
        "file": str(bad),
        "started_at": None,
        "duration_s": None,
        "tests": None,
        "health_problems": None,
        "health_error": None,
        "error": error,
    }
    assert merged["notes"] == [f"shard shard-9.json ({bad}) is not in this report: {error}"]
    assert {t["shard"] for t in merged["run"]["tests_list"]} == {"1/4", "2/4"}


def test_a_report_cut_short_or_of_the_wrong_shape_is_named_by_what_is_wrong(tmp_path: Path) -> None:
    (path,) = four_shards(tmp_path)[:1]
    report = json.loads(path.read_text())
    check_report(report)
    cases = {
        "run.started_at is not a timestamp": ("run", "started_at", "yesterday"),
        "run.duration_s is not a number": ("run", "duration_s", "1 s"),
        "run.tests_list is not a list": ("run", "tests_list", {}),
        "health.problems is not a list": ("health", "problems", None),
    }
    for message, (part, key, value) in cases.items():
        broken = copy.deepcopy(report)
        broken[part][key] = value
        with pytest.raises(ValueError, match=message):
            check_report(broken)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # a shard killed while writing (without the plugin's rename)
    (shard,) = read_shards([str(path)])
    assert shard.error is not None and shard.error.startswith("not JSON: ")


# -- the command ----------------------------------------------------------------------------------


def test_the_command_merges_the_shards_into_json_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = four_shards(tmp_path)
    out, page = tmp_path / "merged.json", tmp_path / "merged.html"
    code, stdout, stderr = run_cli(capsys, "report", "merge", str(out), *map(str, paths), "--html", str(page))
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[0] == f"pitstop report merge: 4 of 4 shards into {out} and {page}"
    assert "tests     8 passed, 1 failed, 1 skipped, 0 errors in 315.0 s (wall)" in stdout
    assert "resets    20 (p50 2.0 ms, p95 7.8 ms)" in stdout
    assert "health    at the end of shard 2/4, the last to end:" in stdout
    assert "  - stale_waiting (1): 1 waiting/pending sessions older than 15 minutes" in stdout
    merged = json.loads(out.read_text())
    assert merged == merge(read_shards(map(str, paths)))
    assert not list(tmp_path.glob(".*partial"))
    text = page.read_text()
    assert "<th>Shard</th>" in text and "merged from 4 of 4 shards" in text
    for test in merged["run"]["tests_list"]:
        assert nodeid_html(test["test"]) in text
    assert text.count("<td class='shard'>") == 10
    assert text.count("<td class='shard'>3/4</td>") == 2
    assert "<table class='grid shards'>" in text
    assert "At the start: shard 3/4 (the earliest that recorded it); at the end: shard 2/4" in text
    # The trace of 1/4's failed test, where its job's artifact put it: linked from the page.
    (failed,) = [t for t in merged["run"]["tests_list"] if t["outcome"] == "failed"]
    assert failed["artifacts"] == [{"kind": "trace", "path": str(paths[0].parent / TRACE)}]
    assert Path(failed["artifacts"][0]["path"]).is_file()
    assert f'href="shard-1/{TRACE}"' in text
    # Standalone, as the plugin's page: no script, no external asset; the JSON linked beside it.
    assert "<script" not in text and "src=" not in text and "<link" not in text
    assert 'href="merged.json"' in text


def test_a_missing_and_a_garbage_shard_are_named_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = four_shards(tmp_path)
    missing, garbage = tmp_path / "shard-5" / "pitstop-health.json", tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff not a report")
    out, page = tmp_path / "merged.json", tmp_path / "merged.html"
    argv = [str(out), str(paths[0]), str(missing), str(paths[2]), str(garbage), "--html", str(page)]
    code, stdout, stderr = run_cli(capsys, "report", "merge", *argv)
    assert code == 1
    assert f"pitstop: shard {missing} not merged: missing: no such file" in stderr
    assert f"pitstop: shard garbage.json ({garbage}) not merged: not JSON: not UTF-8 text" in stderr
    assert f"pitstop report merge: 2 of 4 shards into {out}" in stdout
    merged = json.loads(out.read_text())  # written: what could be read, and what could not
    errors = {s["file"]: s["error"] for s in merged["shards"] if s["error"]}
    assert set(errors) == {str(missing), str(garbage)}
    assert len(merged["notes"]) == 2 and all("is not in this report" in note for note in merged["notes"])
    assert {t["shard"] for t in merged["run"]["tests_list"]} == {"1/4", "3/4"}
    text = page.read_text()
    assert text.count("<p class='alert'>shard ") == 2 and "data-error='yes'" in text


def test_no_readable_shard_writes_nothing_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "merged.json"
    code, _, stderr = run_cli(capsys, "report", "merge", str(out), str(tmp_path / "a.json"))
    assert code == 1
    assert f"no shard's report could be read; {out} not written" in stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_usage_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = list(map(str, four_shards(tmp_path)))
    before = {p: Path(p).read_bytes() for p in paths}
    nowhere = tmp_path / "no-such-folder" / "merged.json"
    code, _, stderr = run_cli(capsys, "report", "merge", str(nowhere), *paths)
    assert code == 2
    assert f"OUT {nowhere}: its folder {nowhere.parent} does not exist" in stderr and "fix: " in stderr
    assert not nowhere.parent.exists()
    code, _, stderr = run_cli(capsys, "report", "merge", paths[1], *paths)
    assert code == 2 and f"OUT {paths[1]} is one of the shards' reports: merging would overwrite it" in stderr
    out = str(tmp_path / "merged.json")
    code, _, stderr = run_cli(capsys, "report", "merge", out, *paths, "--html", paths[0])
    assert code == 2 and f"--html {paths[0]} is one of the shards' reports" in stderr
    alias = f"{Path(paths[0]).parent}/./pitstop-health.json"  # another name of the same file
    code, _, stderr = run_cli(capsys, "report", "merge", out, paths[0], alias)
    assert code == 2 and f"{alias} is given twice (as {paths[0]} and {alias})" in stderr
    code, _, stderr = run_cli(capsys, "report", "merge", out)
    assert code == 2 and "the following arguments are required: IN.json" in stderr
    code, _, stderr = run_cli(capsys, "report", "merge", str(tmp_path), *paths)
    assert code == 2 and "is a folder" in stderr
    assert {p: Path(p).read_bytes() for p in paths} == before
    assert not Path(out).exists()


def test_the_command_needs_no_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@db.example.com/prod")  # never read
    paths = four_shards(tmp_path)
    code, _, _ = run_cli(capsys, "report", "merge", str(tmp_path / "m.json"), *map(str, paths))
    assert code == 0
    code, _, stderr = run_cli(capsys, "report", "merge", "--database-url", "x", "m.json", str(paths[0]))
    assert code == 2 and "unrecognized arguments: --database-url" in stderr


def test_a_failed_write_leaves_the_old_report_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = list(map(str, four_shards(tmp_path)))
    out, page = tmp_path / "merged.json", tmp_path / "merged.html"
    out.write_text('{"old": true}\n')
    # The page cannot be written (its temporary file's name is taken by a folder): nothing is replaced.
    (tmp_path / f".merged.html.{os.getpid()}.partial").mkdir()
    code, _, stderr = run_cli(capsys, "report", "merge", str(out), *paths, "--html", str(page))
    assert code == 2 and "cannot write the merged report" in stderr and "nothing was written" in stderr
    assert out.read_text() == '{"old": true}\n' and not page.exists()
    assert [p.name for p in tmp_path.glob(".*partial")] == [f".merged.html.{os.getpid()}.partial"]
    # And directly: a file in a folder that does not exist.
    with pytest.raises(OSError):
        write_atomically({out: "new", tmp_path / "gone" / "x.html": "page"})
    assert out.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.glob(".merged.json.*")] == []


def test_the_merged_report_goes_to_the_job_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = list(map(str, four_shards(tmp_path)))
    missing = str(tmp_path / "shard-5" / "pitstop-health.json")
    summary = tmp_path / "summary.md"
    summary.write_text("## an earlier step's\n\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = tmp_path / "merged.json"
    assert run_cli(capsys, "report", "merge", str(out), *paths, missing)[0] == 1
    merged = json.loads(out.read_text())
    text = summary.read_text()
    # Appended after what was there, as the run's own summary: the merged figures, then each shard.
    assert text == "## an earlier step's\n\n" + markdown(merged)
    assert markdown(merged).startswith(run_markdown(merged))
    assert "**Tests:** 8 passed, 1 failed, 1 skipped, 0 errors · **resets:** 20 (p50 2.0 ms)" in text
    assert "| 1/4 | 3 passed, 1 failed, 0 skipped, 0 errors | 100.0 s | no problems |" in text
    assert "| 2/4 | 1 passed, 0 failed, 1 skipped, 0 errors | 300.0 s | stale_waiting (1) |" in text
    assert f"| {missing} | not merged: missing: no such file | | |" in text
    assert "Health at the end: shard 2/4's, the last to end." in text
    assert f"- shard {missing} is not in this report: missing: no such file" in text
    # Nothing merged, nothing written; a summary that cannot be written is said, and the report is.
    summary.write_text("")
    assert run_cli(capsys, "report", "merge", str(out), missing)[0] == 1
    assert summary.read_text() == ""
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no-such-folder" / "summary.md"))
    code, _, stderr = run_cli(capsys, "report", "merge", str(tmp_path / "again.json"), *paths)
    assert code == 0 and "the merged report is not in the job summary: cannot append to" in stderr
    assert (tmp_path / "again.json").is_file()


def test_the_merged_page_reads_well_in_chromium(
    tmp_path: Path, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = list(map(str, four_shards(tmp_path)))
    (tmp_path / "broken.json").write_text("{")
    out, page_path = str(tmp_path / "merged.json"), tmp_path / "merged.html"
    argv = [out, *paths, str(tmp_path / "broken.json"), "--html", str(page_path)]
    assert run_cli(capsys, "report", "merge", *argv)[0] == 1
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(page_path.as_uri())
        header = page.locator("table.tests thead th").all_inner_texts()
        assert header[:3] == ["Test", "Shard", "Outcome"]
        rows = page.locator("table.tests tbody tr")
        assert rows.count() == 10
        assert rows.locator("td.shard").all_inner_texts()[:4] == ["1/4"] * 4
        shards = page.locator("table.shards tbody tr")
        assert shards.count() == 5
        assert "not merged: not JSON" in shards.nth(4).inner_text()
        assert page.locator("p.alert").count() == 1
        cards = dict(
            zip(
                page.locator(".card span").all_inner_texts(),
                page.locator(".card b").all_inner_texts(),
                strict=True,
            )
        )
        assert cards["passed"] == "8" and cards["health problems at the end"] == "1"
    finally:
        context.close()
