"""Fault injection with the real parts: PostgreSQL restarted, the app killed, Stripe not answering.

Each fault hits a stack of its own (never the one other tests share), and
every process signalled here was started here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness.config import RunConfig, Settings
from harness.data import load
from harness.errors import Unreachable
from harness.handle import Pitstop
from harness.postgres_server import LocalPostgres
from harness.run import Run, Target
from harness.stack import EmbeddedStack, StackInfo

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


def _inner_run(pytester: pytest.Pytester, example: str, info: StackInfo, report: Path) -> pytest.RunResult:
    shutil.copy(EXAMPLES / example, pytester.path / example)
    return pytester.runpytest_subprocess(
        "--base-url", info.app_url,
        "--pitstop-database-url", info.database_url,
        f"--pitstop-admin-token={info.admin_token}",  # a token may start with "-"
        f"--pitstop-health={report}",
        "-p", "no:cacheprovider", "-p", "no:randomly",
        timeout=WAIT_S * 3,
    )  # fmt: skip


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
    target = Target(info.app_url, info.database_url, info.admin_token, info.stripe_api_base, "embedded")
    run = Run(RunConfig(settings=Settings(database_url=info.database_url)), target=target)
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
