"""Soak: the full flow 100 times in a row, then 100 times under two workers (``make soak``).

Opt-in (marker ``soak``; ``make test`` deselects it). Each half is one inner
pytest run of the shipped full-flow scenario against one stack, with
``--tracing=retain-on-failure``. Failures are counted per 100 runs (target 0)
and what the first failure left is kept: its Playwright traces (one per
browser context) and pitstop's evidence bundle, as the inner run's report
links them. Results: ``soak-results.json`` (or ``$PITSTOP_SOAK_RESULTS``), the
first failure's files in a ``soak-results/<half>-first-failure/`` folder beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.stack.embedded import STRIPE_SECRET_KEY, EmbeddedStack, StackInfo

ROUNDS = int(os.environ.get("PITSTOP_SOAK_ROUNDS", "100"))
ROUND_TIMEOUT_S = 30  # the bound on one round, for the inner run's time limit

FLOW_MODULE = """
import pytest

from harness.scenarios.test_full_flow import (
    test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it as full_flow,
)


@pytest.mark.parametrize("round_", range({rounds}))
def test_full_flow(round_, pitstop, pitstop_flows, customer, mechanic, customer_page, mechanic_page):
    full_flow(pitstop, pitstop_flows, customer, mechanic)
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[StackInfo]:
    """One embedded stack for both halves, given to the inner runs as their target."""
    embedded = EmbeddedStack()
    with embedded as info, pytest.MonkeyPatch.context() as env:
        env.setenv("STRIPE_API_BASE", info.stripe_api_base)
        env.setenv("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY)
        env.setenv("STRIPE_WEBHOOK_SECRET", embedded.webhook_secret or "")
        yield info


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Any]]:
    """The soak's numbers, written when both halves are done (also when one failed)."""
    path = Path(os.environ.get("PITSTOP_SOAK_RESULTS", "soak-results.json")).resolve()
    data: dict[str, Any] = {"rounds": ROUNDS, "results": str(path)}
    yield data
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@pytest.mark.soak
@pytest.mark.parametrize("workers", [0, 2], ids=["in-a-row", "two-workers"])
def test_the_full_flow_soaks_without_failures(
    pytester: pytest.Pytester, stack: StackInfo, results: dict[str, Any], workers: int
) -> None:
    mode = "in_a_row" if workers == 0 else f"workers_{workers}"
    pytester.makepyfile(test_soak_flow=FLOW_MODULE.format(rounds=ROUNDS))
    junit, report, traces = pytester.path / "junit.xml", pytester.path / "r.json", pytester.path / "traces"
    args = [
        "--base-url", stack.app_url,
        "--pitstop-database-url", stack.database_url,
        f"--pitstop-admin-token={stack.admin_token}",  # a token may start with "-"
        f"--pitstop-health={report}",
        f"--junitxml={junit}",
        "--tracing=retain-on-failure", "--output", str(traces),
        "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
    ]  # fmt: skip
    if workers:
        args += ["-n", str(workers)]
    run = pytester.runpytest_subprocess(*args, timeout=ROUNDS * ROUND_TIMEOUT_S)

    failures = _failures(junit)
    summary: dict[str, Any] = {
        "runs": ROUNDS,
        "failures": len(failures),
        "failures_per_100": round(len(failures) * 100 / ROUNDS, 2),
        "exit_code": int(run.ret),
        "duration_s": json.loads(report.read_text())["run"]["duration_s"] if report.exists() else None,
        "first_failure": None,
    }
    if failures:
        keep = Path(results["results"]).with_suffix("") / f"{mode}-first-failure"
        summary["first_failure"] = {
            "test": failures[0][0],
            "message": failures[0][1][:4000],
            "artifacts": _keep_artifacts(failures[0][0], report, pytester.path, keep),
        }
    results[mode] = summary
    assert run.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), run.stdout.str()[-3000:]
    assert summary["failures"] == 0, json.dumps(summary, indent=2)
    assert _passed(junit) == ROUNDS


def _keep_artifacts(test: str, report: Path, root: Path, keep: Path) -> list[dict[str, str]]:
    """Copy what the inner run kept for the failed round ``test`` into ``keep``: its traces and
    evidence bundle, as the report's entry for it links them (relative to ``root``, where the run
    started). What was copied, in the report's terms; none without a report or an entry.

    ``test`` is JUnit's ``classname::name``; the report names it by node id (``file.py::name``).
    """
    if not report.exists():
        return []
    name = test.rsplit("::", 1)[-1]
    entries = [
        t for t in json.loads(report.read_text())["run"]["tests_list"] if t["test"].endswith(f"::{name}")
    ]
    kept = []
    for artifact in entries[0]["artifacts"] if entries else []:
        source = root / artifact["path"]
        if source.is_file():
            keep.mkdir(parents=True, exist_ok=True)
            kept.append({"kind": artifact["kind"], "path": str(shutil.copy(source, keep / source.name))})
    return kept


def test_the_first_failures_traces_and_bundle_are_kept(tmp_path: Path) -> None:
    """``_keep_artifacts`` on what a failed round leaves, as an inner run's report links it (see
    tests/test_plugin.py, test_a_failed_scenario_keeps_its_traces_and_its_evidence_bundle)."""
    run, keep = tmp_path / "run", tmp_path / "soak-results" / "in_a_row-first-failure"
    relative = "traces/test-soak-flow-py-test-full-flow-chromium-3/"
    names = ["trace-1.zip", "trace-2.zip", "pitstop-bundle.json"]
    (run / relative).mkdir(parents=True)
    for name in names:
        (run / relative / name).write_text(name)
    artifacts = [
        {"kind": k, "path": relative + n} for k, n in zip(("trace", "trace", "evidence"), names, strict=True)
    ]
    report = run / "r.json"
    tests = [
        {"test": "test_soak_flow.py::test_full_flow[chromium-13]", "artifacts": []},
        {"test": "test_soak_flow.py::test_full_flow[chromium-3]", "artifacts": artifacts},
    ]
    report.write_text(json.dumps({"run": {"tests_list": tests}}))

    def kept(round_: int, report: Path = report) -> list[tuple[str, str]]:
        copies = _keep_artifacts(f"test_soak_flow::test_full_flow[chromium-{round_}]", report, run, keep)
        assert all(Path(c["path"]).parent == keep for c in copies)
        assert all(Path(c["path"]).read_text() == Path(c["path"]).name for c in copies)
        return [(c["kind"], Path(c["path"]).name) for c in copies]

    assert kept(3) == [
        ("trace", "trace-1.zip"),
        ("trace", "trace-2.zip"),
        ("evidence", "pitstop-bundle.json"),
    ]
    assert kept(13) == []  # an entry with nothing kept
    assert kept(3, report=tmp_path / "no-report.json") == []


def _cases(junit: Path) -> list[ET.Element]:
    return list(ET.parse(junit).getroot().iter("testcase"))


def _failures(junit: Path) -> list[tuple[str, str]]:
    """(test, message) of every failed or erroring round, in the order the report lists them."""
    out = []
    for case in _cases(junit):
        for problem in (*case.findall("failure"), *case.findall("error")):
            name = f"{case.get('classname')}::{case.get('name')}"
            out.append((name, f"{problem.get('message', '')}\n{problem.text or ''}".strip()))
            break
    return out


def _passed(junit: Path) -> int:
    outcomes = ("failure", "error", "skipped")
    return sum(1 for case in _cases(junit) if not any(case.find(o) is not None for o in outcomes))
