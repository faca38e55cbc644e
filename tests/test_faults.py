"""Fault injection with the real parts: PostgreSQL restarted, the app killed, Stripe not answering.

Each fault hits a stack of its own (never the one other tests share), and
every process signalled here was started here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness import cli
from harness.cli import scenarios as cli_scenarios
from harness.config.settings import RunConfig, Settings
from harness.engine.data import load
from harness.engine.handle import Pitstop
from harness.engine.run import Run, Target
from harness.errors import Unreachable
from harness.stack.embedded import EmbeddedStack, StackInfo, processes
from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore

EXAMPLES = Path(__file__).parent / "examples"
WAIT_S = 60
WAITING_ON_A_LOCK = (
    "select 1 from pg_stat_activity where application_name = 'pitstop' and wait_event_type = 'Lock'"
)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[LocalPostgres]:
    with LocalPostgres() as pg:
        yield pg


@pytest.fixture(scope="module")
def own_stack(own_postgres: LocalPostgres) -> Iterator[EmbeddedStack]:
    """A stack on a PostgreSQL these tests own, so that they may restart it."""
    stack = EmbeddedStack(database_url=own_postgres.url())
    with stack:
        yield stack


def _info(stack: EmbeddedStack) -> StackInfo:
    assert stack.info is not None
    return stack.info


def _inner_run(
    pytester: pytest.Pytester, example: str, info: StackInfo, report: Path, *options: str
) -> pytest.RunResult:
    shutil.copy(EXAMPLES / example, pytester.path / example)
    return pytester.runpytest_subprocess(
        "--base-url", info.app_url,
        "--pitstop-database-url", info.database_url,
        f"--pitstop-admin-token={info.admin_token}",  # a token may start with "-"
        f"--pitstop-health={report}",
        "-p", "no:cacheprovider", "-p", "no:randomly",
        *options,
        timeout=WAIT_S * 3,
    )  # fmt: skip


@contextlib.contextmanager
def frozen(pg: LocalPostgres) -> Iterator[None]:
    """PostgreSQL stopped (SIGSTOP) with its connections open, as a frozen host would be.

    The postmaster first, so that it starts no more backends, then every process it
    started: each backend is a process group of its own. All resume on the way out.
    """
    assert pg.pid is not None
    postmaster = processes.entry(pg.pid)
    assert postmaster is not None
    stopped: list[processes.ProcessEntry] = []
    try:
        os.kill(postmaster.pid, signal.SIGSTOP)
        stopped.append(postmaster)
        children = processes.descendants(postmaster.pid)
        processes.signal_all(children, signal.SIGSTOP)
        stopped += children
        yield
    finally:
        processes.signal_all(reversed(stopped), signal.SIGCONT)


class Operator:
    """Restarts PostgreSQL when the inner run asks (a ``restart-<how>.request`` file), in a thread.

    ``during-reset``: first lock ``session_requests``, then restart once a pitstop
    statement waits on that lock.
    """

    def __init__(self, pg: LocalPostgres, folder: Path) -> None:
        self.pg, self.folder = pg, folder
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Operator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the operator thread did not stop"

    def _serve(self) -> None:
        pending = ["idle", "during-reset"]
        try:
            while pending and not self._stop.wait(0.05):
                how = pending[0]
                if (self.folder / f"restart-{how}.request").exists():
                    self._restart(how)
                    pending.pop(0)
        except BaseException as exc:
            self.errors.append(exc)

    def _restart(self, how: str) -> None:
        blocker = psycopg.connect(self.pg.url(), autocommit=True)
        try:
            if how == "during-reset":
                blocker.execute("begin")
                blocker.execute("lock table public.session_requests in access exclusive mode")
                (self.folder / f"restart-{how}.locked").touch()
                self._until_a_pitstop_statement_waits()
            self.pg.pg_ctl("restart")
        finally:
            blocker.close()
        (self.folder / f"restart-{how}.done").touch()

    def _until_a_pitstop_statement_waits(self) -> None:
        # Its own autocommit connection: pg_stat_activity is read once per transaction.
        deadline = time.monotonic() + WAIT_S
        with psycopg.connect(self.pg.url(), autocommit=True) as conn:
            while not conn.execute(WAITING_ON_A_LOCK).fetchone():
                assert time.monotonic() < deadline, "no pitstop statement waited on the lock"
                time.sleep(0.05)


def test_a_database_restart_fails_the_test_in_flight_and_later_tests_recover(
    pytester: pytest.Pytester, own_stack: EmbeddedStack, own_postgres: LocalPostgres
) -> None:
    report = pytester.path / "r.json"
    with Operator(own_postgres, pytester.path) as operator:
        result = _inner_run(pytester, "test_database_restart.py", _info(own_stack), report)
    assert not operator.errors, operator.errors
    if (pytester.path / "outcome").exists():
        # The purge got the lock and committed before the restart reached it (see the example).
        result.assert_outcomes(passed=5)
    else:
        result.assert_outcomes(passed=4, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*Unreachable: lost the database connection: terminating connection due to administrator "
                "command; the server ended the statement, so it was rolled back: nothing of it was written",
                "*fix: check that the database server is running; pitstop reconnects on its next call",
                "FAILED test_database_restart.py::test_a_restart_during_a_reset - *",
            ]
        )
    assert "psycopg.errors" not in result.stdout.str()
    assert json.loads(report.read_text())["run"]["tests"]["passed"] >= 4


def test_a_statement_against_a_stopped_database_fails_within_its_bound(
    own_stack: EmbeddedStack, own_postgres: LocalPostgres
) -> None:
    """The server's statement timeout never fires in a stopped server: the client's bound does."""
    with PostgresStore(database_url=own_postgres.url(), statement_timeout=2, connect_timeout=2) as store:
        assert store.client_bound == 4  # the statement timeout and 2 s more
        store.health()
        with frozen(own_postgres):
            started = time.monotonic()
            with pytest.raises(Unreachable) as failed:
                store.health()
            took = time.monotonic() - started
            # Still stopped: the next call connects anew, and gives up at the connect timeout.
            started = time.monotonic()
            with pytest.raises(Unreachable, match="could not connect to the database"):
                store.health()
            connecting_took = time.monotonic() - started
        assert 4 <= took < 6, took
        assert 2 <= connecting_took < 5, connecting_took
        message = str(failed.value)
        assert message.startswith(
            f"the database 127.0.0.1:{own_postgres.port}/postgres did not answer within 4 s"
        ), message
        assert "fix: check that the database server runs" in message
        # Resumed, it answers the next call on a new connection.
        assert set(store.health()) >= {"sessions", "requests", "problems"}


class Freezer:
    """Stops and resumes PostgreSQL when the inner run asks (``freeze.request``, ``thaw.request``)."""

    def __init__(self, pg: LocalPostgres, folder: Path) -> None:
        self.pg, self.folder = pg, folder
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Freezer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the freezer thread did not stop"

    def _serve(self) -> None:
        try:
            while not self._stop.wait(0.05):
                if (self.folder / "freeze.request").exists():
                    break
            else:
                return
            with frozen(self.pg):  # resumed on the way out, whatever happens
                (self.folder / "frozen").touch()
                while not (self.folder / "thaw.request").exists() and not self._stop.wait(0.05):
                    pass
            (self.folder / "thawed").touch()
        except BaseException as exc:
            self.errors.append(exc)


def test_a_stopped_database_fails_the_test_in_flight_within_its_bound_and_the_run_goes_on(
    pytester: pytest.Pytester, own_stack: EmbeddedStack, own_postgres: LocalPostgres
) -> None:
    report = pytester.path / "r.json"
    with Freezer(own_postgres, pytester.path) as freezer:
        result = _inner_run(
            pytester, "test_database_frozen.py", _info(own_stack), report, "--pitstop-statement-timeout=2"
        )
    assert not freezer.errors, freezer.errors
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*Unreachable: the database 127.0.0.1:{own_postgres.port}/postgres did not answer "
            "within 4 s (its statement timeout and 2 s more)*",
            "*fix: check that the database server runs*; pitstop reconnects on its next call",
            "FAILED test_database_frozen.py::test_a_reset_against_a_stopped_database - *",
        ]
    )
    assert "psycopg.errors" not in result.stdout.str()
    assert 4 <= float((pytester.path / "took").read_text()) < 6
    data = json.loads(report.read_text())
    assert data["run"]["tests"] == {"passed": 2, "failed": 1, "skipped": 0, "errors": 0}
    assert set(data["health"]) >= {"sessions", "requests", "problems"}


def test_a_killed_app_is_named_in_the_failure_and_the_report_is_still_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = EmbeddedStack()  # its own: this test kills the app
    with stack as info:
        monkeypatch.setenv("PITSTOP_TEST_APP_PID", str(stack.pids["app"]))
        report = pytester.path / "r.json"
        result = _inner_run(pytester, "test_app_killed.py", info, report)
        with pytest.raises(Unreachable, match="the app process exited unexpectedly"):
            stack.check()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- pitstop -*",
            f"the app at {info.app_url} does not answer (*Connection refused*): "
            "was it stopped, or did it crash?",
        ]
    )
    data = json.loads(report.read_text())
    assert data["target"]["app_error"].startswith(f"the app at {info.app_url} does not answer")
    assert data["run"]["tests"] == {"passed": 2, "failed": 1, "skipped": 0, "errors": 0}
    assert set(data["health"]) >= {"sessions", "requests", "problems"}  # from the database, still up
    result.stdout.fnmatch_lines(["*pitstop health*", "app       the app at * does not answer*"])


def test_a_stripe_api_that_does_not_answer_fails_the_payment_within_its_timeout(
    own_stack: EmbeddedStack,
) -> None:
    info = _info(own_stack)
    settings = Settings(database_url=info.database_url, app_url=info.app_url, admin_token=info.admin_token)
    target = Target(settings, "embedded", info.stripe_api_base)
    run = Run(RunConfig(settings=settings), target=target)
    try:
        pitstop, customer = Pitstop(run), run.user("customer")
        stripe_pid = own_stack.pids["stripe"]
        order = {"plan": load("plans")[0], "vehicle": load("vehicles")[0], "card": load("cards")["visa"]}
        os.kill(stripe_pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(Unreachable) as refused:
                pitstop.pay_by_webhook(customer, **order, timeout_s=2)
            took = time.monotonic() - started
        finally:
            os.kill(stripe_pid, signal.SIGCONT)
        assert 2 <= took < 6, took
        assert f"the Stripe API at {info.stripe_api_base} did not answer within 2 s" in str(refused.value)
        # Once it answers again, so does the payment.
        session = pitstop.pay_by_webhook(customer, **order)
        assert session["status"] == "waiting"
        pitstop.cleanup.reset_user(customer.id)
    finally:
        run.close(delete_users=True)


def _kill_left(pids_file: Path) -> dict[str, int]:
    """The run's processes (``pids.json``) still running, each killed by its pid: they were started here."""
    pids: dict[str, int] = json.loads(pids_file.read_text()) if pids_file.exists() else {}
    found = {name: processes.entry(pid) for name, pid in pids.items()}
    left = {name: p for name, p in found.items() if p is not None and processes.alive(p)}
    processes.signal_all(left.values(), signal.SIGKILL)
    return {name: p.pid for name, p in left.items()}


def test_pitstop_run_stops_hanging_scenarios_and_their_stack_at_its_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The scenarios hang once the embedded stack is up (tests/examples/hang_conftest.py)."""
    shutil.copy(EXAMPLES / "hang_conftest.py", tmp_path / "conftest.py")
    monkeypatch.chdir(tmp_path)
    limit = 20  # the stack is up in well under that
    started = time.monotonic()
    # As a script's background job (`make test &`, nohup) starts it: SIGINT ignored, which the
    # scenarios' process must not inherit, or it is never interrupted, only killed.
    ignoring = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = cli.main(["run", "--timeout", str(limit), "-k", "declined"])
        took = time.monotonic() - started
    finally:
        signal.signal(signal.SIGINT, ignoring)
        left = _kill_left(tmp_path / "pids.json")
    out, err = capfd.readouterr()
    assert code == 4, out[-3000:] + err[-3000:]
    assert limit <= took < limit + cli_scenarios.STOP_GRACE_S, (took, out[-3000:], err[-3000:])
    assert (
        f"pitstop: error: the time limit passed: the scenarios did not finish within {limit} s "
        f"(--timeout {limit}); pitstop interrupted them as Ctrl-C would"
    ) in err
    assert "fix: give them more time (--timeout SECONDS; 0: no limit), or run fewer (-k EXPRESSION)" in err
    assert "KeyboardInterrupt" in out  # where they were
    pids = json.loads((tmp_path / "pids.json").read_text())
    assert set(pids) == {"pytest", "app", "stripe", "localstripe", "postgres"}
    assert left == {}  # the run stopped its stack on its way out
    data = json.loads((tmp_path / "pitstop-health.json").read_text())
    assert data["target"]["kind"] == "embedded"


HANGER = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_scenarios_that_ignore_the_interruption_are_killed_with_their_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli_scenarios, "STOP_GRACE_S", 1)
    process = subprocess.Popen(
        [sys.executable, "-c", HANGER], start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    children: list[processes.ProcessEntry] = []
    try:
        assert process.stdout is not None
        found = processes.entry(int(process.stdout.readline()))
        children = [found] if found is not None else []
        started = time.monotonic()
        assert cli_scenarios._stop(process) is False  # it ignored SIGINT for its grace period
        assert 1 <= time.monotonic() - started < 5
        assert process.returncode == -signal.SIGKILL
        # Killed with its group; reaped by whoever adopted it.
        assert processes.wait_gone(children, WAIT_S) == [], "the child outlived its group's kill"
        children = []
    finally:
        if process.poll() is None:  # not reaped: the pid is still its own
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=WAIT_S)
        else:
            processes.signal_all(children, signal.SIGKILL)
        if process.stdout is not None:
            process.stdout.close()
