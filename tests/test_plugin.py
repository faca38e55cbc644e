"""The pytest plugin, run by pytester against a real app: the example test files in tests/examples."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from psycopg.types.json import Jsonb

from harness.plugin.hooks import _artifacts
from harness.plugin.stash_keys import EVIDENCE
from harness.stack.embedded import STRIPE_SECRET_KEY, EmbeddedStack, StackInfo
from harness.store.postgres import PostgresStore
from tests.fleet import browser_server

WAIT_S = 60


EXAMPLES = Path(__file__).parent / "examples"


@pytest.fixture(scope="session")
def stack() -> Iterator[StackInfo]:
    """One app for the inner runs of this worker (the embedded stack itself is tested once, below).

    The inner runs see it as a given target, with its Stripe settings in the environment.
    """
    embedded = EmbeddedStack()
    with embedded as info, pytest.MonkeyPatch.context() as env:
        env.setenv("STRIPE_API_BASE", info.stripe_api_base)
        env.setenv("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY)
        env.setenv("STRIPE_WEBHOOK_SECRET", embedded.webhook_secret or "")
        yield info


def example(pytester: pytest.Pytester, name: str) -> None:
    shutil.copy(EXAMPLES / name, pytester.path / name)


def target(stack: StackInfo, report: Path) -> list[str]:
    return [
        "--base-url", stack.app_url,
        "--pitstop-database-url", stack.database_url,
        f"--pitstop-admin-token={stack.admin_token}",  # a token may start with "-"
        f"--pitstop-health={report}",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
    ]  # fmt: skip


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, timeout=WAIT_S * 3)


def read(report: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(report.read_text())
    return data


def test_the_reset_happens_before_each_test(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_seed_then_clean.py")
    result = run(pytester, *target(stack, pytester.path / "r.json"))
    result.assert_outcomes(passed=2)


def test_a_leak_is_named_in_warn_mode(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_leaky.py")
    report = pytester.path / "r.json"
    result = run(pytester, *target(stack, report))
    result.assert_outcomes(passed=2, warnings=1)
    # Filed under the test's own file and line, not under pitstop's code.
    result.stdout.fnmatch_lines(
        ["*test_leaky.py:*: LeakWarning: test_leaky.py::test_forgets_to_end_its_session left waiting*"]
    )
    assert "harness/plugin/fixtures.py" not in result.stdout.str()
    leaks = read(report)["run"]["leaks"]  # type: ignore[index]
    assert [leak["test"] for leak in leaks] == ["test_leaky.py::test_forgets_to_end_its_session"]
    assert leaks[0]["sessions"][0]["status"] == "waiting"
    assert leaks[0]["sessions"][0]["user"].startswith("customer-")


def test_a_leak_fails_the_test_in_fail_mode(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_leaky.py")
    result = run(pytester, *target(stack, pytester.path / "r.json"), "--pitstop-leaks=fail")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_forgets_to_end_its_session*", "*left waiting session*leaves_state=True*"]
    )


def test_leaves_state_is_honoured(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_seed_then_clean.py")
    result = run(pytester, *target(stack, pytester.path / "r.json"), "--pitstop-leaks=fail")
    result.assert_outcomes(passed=2)


def test_the_report_on_success_and_failure(
    pytester: pytest.Pytester, stack: StackInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    example(pytester, "test_outcomes.py")
    report, page = pytester.path / "r.json", pytester.path / "r.html"
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    # Without pytest-html (-p no:html): pitstop does not need it.
    result = run(pytester, *target(stack, report), f"--pitstop-health-html={page}", "-p", "no:html")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*pitstop health*", "tests     1 passed, 1 failed, 1 skipped, 0 errors*"])
    data = read(report)
    run_data = data["run"]
    assert run_data["tests"] == {"passed": 1, "failed": 1, "skipped": 1, "errors": 0}  # type: ignore[index]
    assert run_data["resets"]["count"] == 2 and run_data["resets"]["p50_ms"] > 0  # type: ignore[index]
    assert set(data["health"]) == {"checked_at", "sessions", "requests", "orphans", "problems"}  # type: ignore[arg-type]
    assert data["target"] == {
        "app_url": stack.app_url,
        "kind": "given",
        "stripe_api_base": stack.stripe_api_base,
        "leased": True,  # the run held a lease in the target while it ran
    }
    assert "<svg" in page.read_text() or "class='bar " in page.read_text()
    assert summary.read_text().startswith("## pitstop health")
    # Each test with its outcome and duration; the health at the start beside the end's.
    tests = {t["test"].split("::")[-1]: t for t in run_data["tests_list"]}  # type: ignore[index]
    assert {name: t["outcome"] for name, t in tests.items()} == {
        "test_passes": "passed",
        "test_fails": "failed",
        "test_skipped": "skipped",
    }
    assert tests["test_passes"]["duration_s"] > 0 and tests["test_passes"]["resets_ms"]
    assert set(data["health_start"]) == set(data["health"])  # type: ignore[arg-type]
    assert [a["kind"] for a in tests["test_fails"]["artifacts"]] == ["evidence"]
    assert (pytester.path / tests["test_fails"]["artifacts"][0]["path"]).is_file()
    assert page.read_text().count("<tr data-outcome=") == 3 and "<pre" not in page.read_text()
    assert not (pytester.path / "report.html").exists()
    # The failed test left its evidence beside pytest-playwright's artifacts.
    bundles = list((pytester.path / "test-results").rglob("pitstop-bundle.json"))
    assert len(bundles) == 1 and "fails" in str(bundles[0])
    bundle = json.loads(bundles[0].read_text())
    assert bundle["rows"]["sessions"][0]["status"] == "cancelled"
    assert set(bundle) == {"users", "rows", "health_before", "health_after"}


def test_a_failed_scenario_keeps_its_traces_and_its_evidence_bundle(
    pytester: pytest.Pytester, stack: StackInfo
) -> None:
    """The shipped full flow fails on purpose: its flows expect the paid session live at once
    (tests/examples/wrong_status_conftest.py). What is kept is what a failure in CI leaves to look at."""
    shutil.copy(EXAMPLES / "wrong_status_conftest.py", pytester.path / "conftest.py")
    example(pytester, "test_flows_override.py")
    report, page, output = pytester.path / "r.json", pytester.path / "r.html", pytester.path / "artifacts"
    result = run(
        pytester,
        *target(stack, report),
        f"--pitstop-health-html={page}",
        "--tracing=retain-on-failure",
        f"--output={output}",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: Locator expected to have text 'live'", "*waiting*"])
    (folder,) = output.iterdir()  # pytest-playwright's folder for the test
    # A trace per browser context (the customer's, the mechanic's), each a real Playwright trace;
    # the customer's holds the check that failed.
    traces = sorted(folder.glob("trace*.zip"))
    assert [t.name for t in traces] == ["trace-1.zip", "trace-2.zip"]
    failed_checks = []
    for trace in traces:
        with zipfile.ZipFile(trace) as archive:
            assert {"trace.trace", "trace.network"} <= set(archive.namelist())
            events = [json.loads(line) for line in archive.read("trace.trace").splitlines()]
        assert any(e.get("type") == "context-options" for e in events)
        calls = {e["callId"]: e for e in events if e.get("type") == "before"}
        failed_checks += [
            calls[e["callId"]]["params"]
            for e in events
            if e.get("type") == "after" and e.get("error") and e["callId"] in calls
        ]
    assert len(failed_checks) == 1 and "next-session-status" in failed_checks[0]["selector"]
    assert failed_checks[0]["expectedText"][0]["string"] == "live"
    # pitstop's evidence beside them: the test's users, their rows (the session it paid for,
    # waiting, and its request), the health before the test and after it.
    bundle = json.loads((folder / "pitstop-bundle.json").read_text())
    assert set(bundle) == {"users", "rows", "health_before", "health_after"}
    assert set(bundle["users"]) == {"customer", "mechanic"}
    assert {u["email"] for u in bundle["rows"]["users"]} == set(bundle["users"].values())
    (session,) = bundle["rows"]["sessions"]
    assert session["status"] == "waiting" and session["plan"] == "Quick Chat"
    assert [r["session_id"] for r in bundle["rows"]["session_requests"]] == [session["id"]]
    waiting = [bundle[h]["sessions"]["waiting"]["total"] for h in ("health_before", "health_after")]
    assert waiting[1] == waiting[0] + 1
    # The report's entry for the test links all three, relative to where pytest ran.
    (entry,) = read(report)["run"]["tests_list"]  # type: ignore[index]
    assert entry["outcome"] == "failed"
    assert entry["leak"][0]["id"] == session["id"]
    kept = [(a["kind"], pytester.path / a["path"]) for a in entry["artifacts"]]
    assert kept == [("trace", traces[0]), ("trace", traces[1]), ("evidence", folder / "pitstop-bundle.json")]
    assert all(path.is_file() for _, path in kept)
    links = re.findall(r"data-kind='(\w+)' href=\"([^\"]+)\"", page.read_text())
    assert [(kind, pytester.path / href) for kind, href in links] == kept


TIMED = """
def test_timed(pitstop, customer):
    with pitstop.step("payment"):
        pass
"""


def test_pytest_html_carries_pitstops_section_and_per_test_data(
    pytester: pytest.Pytester, stack: StackInfo
) -> None:
    example(pytester, "test_outcomes.py")
    example(pytester, "test_leaky.py")
    pytester.makepyfile(test_timed=TIMED)
    report = pytester.path / "r.json"
    result = run(pytester, *target(stack, report), "--html=report.html", "--self-contained-html")
    result.assert_outcomes(passed=4, failed=1, skipped=1, warnings=1)
    page = (pytester.path / "report.html").read_text()
    assert "id='pitstop-health'" in page and "start of the run" in page and "end of the run" in page
    assert 'href="r.json"' in page  # the JSON report, beside it
    assert '<th class="pitstop-steps">Steps</th>' in page and '<th class="pitstop-leaks">Leaks</th>' in page
    # pytest-html keeps its rows as JSON in the page.
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob is not None
    rows = {
        nodeid.split("::")[-1]: entries[0]
        for nodeid, entries in json.loads(html.unescape(blob.group(1)))["tests"].items()
    }
    assert set(rows) == {"test_passes", "test_fails", "test_skipped", "test_timed", "test_tidy",
                         "test_forgets_to_end_its_session"}  # fmt: skip

    def cell(test: str, column: str) -> str:
        found = [c for c in rows[test]["resultsTableRow"] if f'class="col-pitstop-{column}"' in c]
        assert len(found) == 1, rows[test]["resultsTableRow"]
        return re.sub(r"<[^>]+>", "", found[0])

    assert re.fullmatch(r"payment \d+\.\d ms", cell("test_timed", "steps"))
    assert cell("test_forgets_to_end_its_session", "leaks") == "1"
    assert cell("test_passes", "leaks") == "0" and cell("test_passes", "steps") == "-"
    # The failed test links its evidence bundle, relative to the report.
    links = {e["name"]: e["content"] for e in rows["test_fails"]["extras"]}
    assert (pytester.path / links["pitstop evidence"]).name == "pitstop-bundle.json"
    assert (pytester.path / links["pitstop evidence"]).is_file()
    assert read(report)["run"]["tests"]["failed"] == 1  # type: ignore[index]


def _teardown_report(*user_properties: tuple[str, object]) -> pytest.TestReport:
    return pytest.TestReport(
        "t.py::t", ("t.py", 0, "t"), {}, "failed", None, "teardown", user_properties=user_properties
    )


def test_a_tests_artifacts_are_named_by_pytest_playwright_or_found_in_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "test-results" / "t-py-t"
    folder.mkdir(parents=True)
    for name in ("trace.zip", "test-failed-1.png", "pitstop-bundle.json"):
        (folder / name).write_bytes(b"")
    item = SimpleNamespace(
        funcargs={"output_path": str(folder)},
        stash=pytest.Stash(),
        config=SimpleNamespace(invocation_params=SimpleNamespace(dir=tmp_path)),
    )
    item.stash[EVIDENCE] = folder / "pitstop-bundle.json"
    evidence = {"kind": "evidence", "path": "test-results/t-py-t/pitstop-bundle.json"}
    # pytest-playwright names what it kept: that, and nothing else, is taken.
    named = _teardown_report(("playwright_trace", "test-results/t-py-t/trace.zip"), ("other", "x"))
    assert _artifacts(item, named) == [  # type: ignore[arg-type]
        {"kind": "trace", "path": "test-results/t-py-t/trace.zip"},
        evidence,
    ]
    # An older pytest-playwright does not: what its folder for the test holds.
    assert _artifacts(item, _teardown_report()) == [  # type: ignore[arg-type]
        {"kind": "trace", "path": "test-results/t-py-t/trace.zip"},
        {"kind": "screenshot", "path": "test-results/t-py-t/test-failed-1.png"},
        evidence,
    ]


def test_the_report_when_interrupted(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_interrupted.py")
    report = pytester.path / "r.json"
    result = run(pytester, *target(stack, report))
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert read(report)["run"]["tests"]["passed"] == 1  # type: ignore[index]


def test_strict_health_fails_a_green_run_with_problems(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_seed_then_clean.py")
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        stranger = conn.execute(
            "insert into auth.users (id, email)"
            " values (gen_random_uuid(), 'strict-' || gen_random_uuid() || '@example.com') returning id"
        ).fetchone()
        assert stranger is not None
        conn.execute(
            "insert into public.sessions (customer_id, plan, status) values (%s, 'Quick Chat', 'live')",
            (stranger[0],),
        )
        try:
            result = run(pytester, *target(stack, pytester.path / "r.json"), "--pitstop-health-strict")
        finally:
            conn.execute("delete from public.sessions where customer_id = %s", (stranger[0],))
            conn.execute("delete from auth.users where id = %s", (stranger[0],))
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*live_without_mechanic (1)*"])


def test_workers_get_their_own_users(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_worker_users.py")
    result = run(pytester, *target(stack, pytester.path / "r.json"), "-n", "2")
    result.assert_outcomes(passed=4)
    seen: dict[str, set[str]] = {}
    for file in (pytester.path / "users").glob("gw*.json"):
        worker = file.name.split("-")[0]
        seen.setdefault(worker, set()).update(json.loads(file.read_text())[:2])
    assert set(seen) == {"gw0", "gw1"}
    assert not seen["gw0"] & seen["gw1"]
    for worker, emails in seen.items():
        assert len(emails) == 2 and all(f"-{worker}-" in e for e in emails)


def test_the_shipped_scenarios_under_two_workers(pytester: pytest.Pytester, stack: StackInfo) -> None:
    scenarios = Path(str(files("harness.scenarios")))
    report = pytester.path / "r.json"
    result = run(pytester, str(scenarios), *target(stack, report), "-n", "2")
    result.assert_outcomes(passed=8)
    data = read(report)["run"]
    assert data["leaks"] == [] and data["tests"]["passed"] == 8  # type: ignore[index]
    # The workers' tests, each with its duration; the controller took the health at the start.
    tests = data["tests_list"]  # type: ignore[index]
    assert len(tests) == 8 and all(t["outcome"] == "passed" and t["duration_s"] > 0 for t in tests)
    assert any(t["steps"].get("payment_ms") for t in tests)
    assert "problems" in read(report)["health_start"]  # type: ignore[operator]


def test_the_embedded_stack_when_no_target_is_given(pytester: pytest.Pytester) -> None:
    example(pytester, "test_outcomes.py")
    report = pytester.path / "r.json"
    result = run(pytester, f"--pitstop-health={report}", "-k", "passes")
    result.assert_outcomes(passed=1, deselected=2)
    assert read(report)["target"]["kind"] == "embedded"  # type: ignore[index]


def test_a_dead_runs_users_are_swept_and_a_live_runs_are_not(
    pytester: pytest.Pytester, stack: StackInfo
) -> None:
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert finished.returncode == 0
    dead_pid = _exited_pid()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        ids = {}
        for run_id, pid in (("deadrun", dead_pid), ("liverun", os.getpid())):
            row = conn.execute(
                "insert into auth.users (id, email, raw_user_meta_data, created_at)"
                " values (gen_random_uuid(), %s, %s, %s) returning id",
                (
                    f"customer-gw0-{run_id}@pitstop.test",
                    Jsonb({"pitstop": True, "run": run_id, "host": socket.gethostname(), "pid": pid}),
                    an_hour_ago,
                ),
            ).fetchone()
            assert row is not None
            ids[run_id] = row[0]
        example(pytester, "test_outcomes.py")
        result = run(pytester, *target(stack, pytester.path / "r.json"), "-k", "passes")
        result.assert_outcomes(passed=1, deselected=2)
        remaining = {
            r[0] for r in conn.execute("select id from auth.users where id = any(%s)", (list(ids.values()),))
        }
        conn.execute("delete from auth.users where id = %s", (ids["liverun"],))
    assert remaining == {ids["liverun"]}


def _exited_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_remote_browser_server(pytester: pytest.Pytester, stack: StackInfo) -> None:
    with browser_server() as server:
        example(pytester, "test_browser_page.py")
        result = run(
            pytester,
            *target(stack, pytester.path / "r.json"),
            f"--pitstop-browser-ws-endpoint={server.endpoint}",
        )
        result.assert_outcomes(passed=1)


def test_the_guard_stops_a_run_aimed_at_a_remote_host(pytester: pytest.Pytester) -> None:
    # 192.0.2.0/24 is reserved for documentation; the guard refuses before any connection.
    example(pytester, "test_outcomes.py")
    result = run(
        pytester,
        "--base-url", "http://192.0.2.10",
        "--pitstop-database-url", "postgresql://postgres@192.0.2.10/postgres",
        "-k", "passes",
    )  # fmt: skip
    result.assert_outcomes(errors=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "*pitstop: the database at 192.0.2.10 is not on this machine and not allow-listed",
            "*fix: if it is a test target, allow it with --allow-host 192.0.2.10*",
        ]
    )
    assert "During handling" not in result.stdout.str()


def test_the_guard_stops_a_run_that_only_drives_a_remote_app(pytester: pytest.Pytester) -> None:
    # No store and no reset: the browser alone would reach the app, and the guard still stands first.
    pytester.makepyfile(test_app="def test_app(base_url):\n    assert base_url\n")
    result = run(
        pytester, "--base-url", "http://192.0.2.10", "--pitstop-reset", "none", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*pitstop: the app at 192.0.2.10 is not on this machine and not allow-listed"]
    )


def test_the_report_when_a_worker_crashes(pytester: pytest.Pytester, stack: StackInfo) -> None:
    example(pytester, "test_crash.py")
    report = pytester.path / "r.json"
    result = run(pytester, *target(stack, report), "-n", "2")
    result.stdout.fnmatch_lines(["*worker*crashed*"])
    tests = read(report)["run"]["tests"]  # type: ignore[index]
    assert tests["passed"] == 2 and tests["failed"] + tests["errors"] == 1


@pytest.mark.parametrize(
    ("ini", "env", "cli", "expected"),
    [
        (None, None, None, "reset=full"),
        (None, "user", None, "reset=user"),
        ("none", "user", None, "reset=none"),
        ("none", "user", "--pitstop-reset=full", "reset=full"),
    ],
)
def test_option_precedence_is_cli_then_ini_then_environment(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    ini: str | None,
    env: str | None,
    cli: str | None,
    expected: str,
) -> None:
    example(pytester, "test_header.py")
    if ini:
        pytester.makeini(f"[pytest]\npitstop_reset = {ini}\n")
    if env:
        monkeypatch.setenv("PITSTOP_RESET", env)
    result = run(pytester, *([cli] if cli else []), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"pitstop: target the embedded stack*{expected} *"])


def test_a_bad_option_value_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    example(pytester, "test_header.py")
    monkeypatch.setenv("PITSTOP_LEAKS", "sometimes")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--pitstop-leaks or PITSTOP_LEAKS: 'sometimes' is not one of warn, fail, off*"]
    )


@pytest.mark.parametrize(
    ("args", "store"),
    [
        ([], "postgres"),
        (["--base-url", "http://127.0.0.1:9", "--pitstop-admin-token", "t"], "api"),
        (
            ["--base-url", "http://127.0.0.1:9", "--pitstop-supabase-url", "http://127.0.0.1:54321"],
            "supabase",
        ),
        (["--pitstop-store", "api"], "api"),
    ],
)
def test_the_header_names_the_store(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str], store: str
) -> None:
    for name in ("DATABASE_URL", "SUPABASE_URL", "PITSTOP_STORE", "PITSTOP_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    example(pytester, "test_header.py")
    result = run(pytester, *args, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"pitstop: target *; store {store}; reset=*"])


def test_the_app_contract_comes_from_tool_pitstop_and_ini_keys(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    example(pytester, "test_contract.py")
    pytester.makepyprojecttoml(
        '[tool.pitstop]\ncustomer_login_path = "/login"\ntest_id_attribute = "data-test"\n'
        '[tool.pytest.ini_options]\npitstop_mechanic_login_path = "/staff/login"\n'
    )
    monkeypatch.setenv("EXPECT_CUSTOMER_LOGIN", "/login")
    monkeypatch.setenv("EXPECT_MECHANIC_LOGIN", "/staff/login")
    monkeypatch.setenv("EXPECT_TEST_ID", "data-test")
    run(pytester, "-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.makepyprojecttoml('[tool.pitstop]\nlogin_path = "/login"\n')
    result = run(pytester, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown keys in [[]tool.pitstop[]]*login_path*"])


def test_a_schema_that_does_not_fit_is_a_message_not_a_traceback(
    pytester: pytest.Pytester, stack: StackInfo, postgres_db_url: str
) -> None:
    """pitstop is installed, then the app's auth.users loses what the rules read."""
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        store.connection.execute("alter table auth.users drop column raw_user_meta_data")
    example(pytester, "test_seed_then_clean.py")
    args = target(stack, pytester.path / "r.json")
    args[args.index("--pitstop-database-url") + 1] = postgres_db_url
    result = run(pytester, *args)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*pitstop: *raw_user_meta_data*", "*fix: *"])
    assert "Traceback" not in result.stdout.str() and "psycopg.errors" not in result.stdout.str()


def test_a_database_of_an_app_of_its_own_and_no_base_url_is_refused_untouched(
    pytester: pytest.Pytester, postgres_db_url: str
) -> None:
    """Without --base-url the plugin starts the embedded stack: never on the user's own database."""
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute("create table public.consultations (id uuid primary key, state text not null)")
    pytester.makepyfile(test_db="def test_uses_a_customer(customer):\n    assert customer.email\n")
    result = run(pytester, f"--pitstop-database-url={postgres_db_url}", "-p", "no:cacheprovider")
    assert result.ret != pytest.ExitCode.OK
    output = result.stdout.str() + result.stderr.str()
    assert "holds objects of its own (public.consultations)" in output and "--base-url" in output
    assert "Traceback" not in output
    with psycopg.connect(postgres_db_url) as conn:
        schemas = {name for (name,) in conn.execute("select nspname from pg_namespace")}
    assert not schemas & {"pitstop", "auth"}  # nothing installed


def test_an_empty_target_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """`--pitstop-database-url "$DATABASE_URL"` with the variable unset: not the embedded stack."""
    pytester.makepyfile(test_db="def test_nothing():\n    pass\n")
    result = run(pytester, "--pitstop-database-url=", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--pitstop-database-url*empty*"])
