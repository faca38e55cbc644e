"""Runs' leases under concurrency (issue 19, part 2): four ``pitstop run``s at once on one target.

One target (``pitstop serve``), four runs of two shipped scenarios against it at
once, each under ``-n 2``, with 8-second leases. Each run's tests keep their
test users until the test lets them go (a conftest.py in the run's folder holds
each test's end), so that every sweep below goes over the users of runs that are
running. Once every run holds its users and its lease has outlived its length
(renewed by its heartbeat), one run is killed outright (SIGKILL, its whole tree:
no clean end). Then:

- a run that starts right after the kill, while the killed run's lease is still
  held, sweeps nothing: neither the killed run's users nor the three running ones';
- the other three pass, with nothing left and no leak;
- the killed run's users and lease are still there when the others have ended;
- once its lease has expired, the next run's start-of-run sweep deletes its users
  and ends the lease: ``pitstop runs`` lists none;
- who deleted what: triggers in the target's database log every test user made
  or deleted and every session deleted, with the ``application_name`` of the
  connection (one per run); each run's users and sessions were deleted by that
  run and no other, the killed run's by the sweeping run alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from harness.config.settings import RunConfig, Settings
from harness.engine.run import Run
from harness.stack import processes
from tests.conftest import TARGET_VARIABLES, run_cli

LEASE_S = 8  # the shortest lease: a killed run's expires soon
RUNS = 4
# Two fast scenarios, one for each of a run's two workers (xdist sends two tests round robin).
SCENARIOS = "dashboard_lists or declined_card"
TESTS = 2
READY_S = 90  # for the stack to answer
RUN_S = 150  # for a run to end (the four at once: about 20 s on two cores)
HOLD_S = 120  # at most, for a test to keep its users until it is let go
SWEEPER = "fleet-sweeper"

# Each test ends (keeping its worker's users) once the test below lets it go.
HOLDING_CONFTEST = f"""
import os
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def hold_until_released():
    yield
    (HERE / ("holding-" + os.environ.get("PYTEST_XDIST_WORKER", "main"))).touch()
    deadline = time.monotonic() + {HOLD_S}
    while not (HERE.parent / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
"""

# Who deletes what: every test user made or deleted and every session deleted, with the run the
# user (the session's customer) belongs to and the application_name of the connection that did it.
AUDIT = """
create schema fleet_audit;
create table fleet_audit.events (
    at timestamptz not null default clock_timestamp(),
    op text not null,
    tbl text not null,
    id uuid not null,
    run text,
    app text not null
);
create function fleet_audit.users() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    if tg_op = 'INSERT' then
        insert into fleet_audit.events (op, tbl, id, run, app)
        values ('insert', 'users', new.id, new.raw_user_meta_data ->> 'run',
                current_setting('application_name'));
        return new;
    end if;
    insert into fleet_audit.events (op, tbl, id, run, app)
    values ('delete', 'users', old.id, old.raw_user_meta_data ->> 'run',
            current_setting('application_name'));
    return old;
end;
$$;
create trigger fleet_audit after insert or delete on auth.users
    for each row execute function fleet_audit.users();
create function fleet_audit.sessions() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    insert into fleet_audit.events (op, tbl, id, run, app)
    values ('delete', 'sessions', old.id,
            (select u.raw_user_meta_data ->> 'run' from auth.users u where u.id = old.customer_id),
            current_setting('application_name'));
    return old;
end;
$$;
create trigger fleet_audit after delete on public.sessions
    for each row execute function fleet_audit.sessions();
"""

T = TypeVar("T")


@dataclass
class Target:
    app_url: str
    database_url: str
    admin_token: str

    def url_as(self, app: str) -> str:
        """The database URL for connections named ``app`` (``application_name``, logged by AUDIT)."""
        return f"{self.database_url}{'&' if '?' in self.database_url else '?'}application_name={app}"


@dataclass
class PitstopRun:
    """One ``pitstop run`` in a folder of its own (its report, its output), in a group of its own."""

    app: str
    folder: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return (self.folder / "output.txt").read_text(errors="replace")[-4000:]

    def report(self) -> Any:
        return json.loads((self.folder / "report.json").read_text())

    def holding(self) -> int:
        """How many of its tests have ended and keep their users."""
        return len(list(self.folder.glob("holding-*")))


def _holding_or_ended(run: PitstopRun) -> bool:
    return run.holding() == TESTS or run.process.poll() is not None


def _environment(temporary: Path | None = None) -> dict[str, str]:
    """This environment without a target, the outer xdist's or CI's variables; 8-second leases;
    temporary files in ``temporary`` (what a killed run's browsers leave goes with the test's)."""
    dropped = {*TARGET_VARIABLES, "PYTEST_ADDOPTS", "GITHUB_STEP_SUMMARY"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST_XDIST")}
    env["PITSTOP_LEASE_SECONDS"] = str(LEASE_S)
    if temporary is not None:
        temporary.mkdir(exist_ok=True)
        env["TMPDIR"] = str(temporary)
    return env


def _start_run(target: Target, folder: Path, app: str, *pytest_args: str, hold: bool = False) -> PitstopRun:
    """``pitstop run`` in ``folder``, its database connections named ``app``."""
    folder.mkdir()
    if hold:
        (folder / "conftest.py").write_text(HOLDING_CONFTEST)
    command = [
        *(sys.executable, "-m", "harness", "run"),
        *("--base-url", target.app_url, "--database-url", target.url_as(app)),
        *("--admin-token", target.admin_token, "--timeout", str(RUN_S)),
        *("-p", "no:randomly", "-q", f"--pitstop-health={folder / 'report.json'}", *pytest_args),
    ]
    with (folder / "output.txt").open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=_environment(folder.parent / "tmp"),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return PitstopRun(app, folder, process)


def _kill_tree(run: PitstopRun) -> None:
    """SIGKILL ``pitstop run`` and everything under it: its pytest (a session of its own), the xdist
    workers, Playwright's drivers and browsers. Frozen first (SIGSTOP, until no new process turns
    up), so that nothing is re-parented out of reach or ends cleanly before the kill."""
    frozen: dict[int, processes.ProcessEntry] = {}
    while found := [p for p in processes.tree(run.process.pid) if p.pid not in frozen]:
        processes.signal_all(found, signal.SIGSTOP)
        frozen.update((p.pid, p) for p in found)
    processes.signal_all(frozen.values(), signal.SIGKILL)
    run.process.wait(timeout=30)
    assert processes.wait_gone(frozen.values(), 30) == []


def _leases(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The leases by run, as ``pitstop.runs()`` lists them, each with its age by the database's clock."""
    row = conn.execute(
        "select jsonb_agg(r || jsonb_build_object('age_s',"
        " extract(epoch from now() - (r ->> 'started_at')::timestamptz)))"
        " from jsonb_array_elements(pitstop.runs()) r"
    ).fetchone()
    assert row is not None
    return {lease["run"]: lease for lease in row[0] or []}


def _users_of(conn: psycopg.Connection[Any], run: str) -> set[str]:
    rows = conn.execute(
        "select id::text from auth.users where raw_user_meta_data ->> 'run' = %s", (run,)
    ).fetchall()
    return {r[0] for r in rows}


def _runs_by_app(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """The run whose users each app (a run's connections) made, by app."""
    rows = conn.execute(
        "select distinct app, run from fleet_audit.events where (op, tbl) = ('insert', 'users')"
    ).fetchall()
    found: dict[str, str] = {}
    for app, run in rows:
        assert found.setdefault(app, run) == run, f"{app} made users of two runs: {rows}"
    return found


def _wait_for(what: str, check: Callable[[], T], timeout: float, every: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(every)
    return found


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    """``pitstop serve``: the embedded stack in the foreground, in a group of its own, stopped at the
    end (SIGTERM, then what is left of its group SIGKILLed); its database, with the audit triggers,
    goes with it."""
    ready = tmp_path / "ready.json"
    with (tmp_path / "serve.txt").open("wb") as output:
        serve = subprocess.Popen(
            [sys.executable, "-m", "harness", "serve", "--ready-file", str(ready)],
            env=_environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for("the stack", lambda: ready.is_file() or serve.poll() is not None, READY_S, every=0.2)
        assert serve.poll() is None, (tmp_path / "serve.txt").read_text()
        info = json.loads(ready.read_text())
        found = Target(info["app_url"], info["database_url"], info["admin_token"])
        with psycopg.connect(found.database_url, autocommit=True) as conn:
            conn.execute(AUDIT)
        yield found
    finally:
        serve.send_signal(signal.SIGTERM)  # it stops the stack as on Ctrl-C
        with contextlib.suppress(subprocess.TimeoutExpired):
            serve.wait(timeout=60)
        processes.stop(serve, timeout=10)  # whatever is left of its group: SIGTERM, then SIGKILL


@pytest.mark.usefixtures("no_target_environment")
def test_four_runs_at_once_and_one_killed_touch_nothing_of_each_other(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = [
        _start_run(target, tmp_path / f"run-{k}", f"fleet-{k}", "-n", "2", "-k", SCENARIOS, hold=True)
        for k in range(1, RUNS + 1)
    ]
    started = [*fleet]
    conn = psycopg.connect(target.database_url, autocommit=True)
    try:
        # 1. Every run holds its users (its tests ran, they keep them), and its lease has outlived
        # its length: its heartbeat renewed it.
        for run in fleet:
            _wait_for(f"{run.app}'s tests to run", partial(_holding_or_ended, run), RUN_S)
            assert run.process.poll() is None, run.output()
        runs = _runs_by_app(conn)
        assert sorted(runs) == [run.app for run in fleet], runs
        _wait_for(
            "every run's lease to outlive its length, renewed",
            lambda: all(
                lease["alive"] and lease["age_s"] > LEASE_S + 1
                for lease in (_leases(conn).get(runs[run.app], {"alive": False}) for run in fleet)
            ),
            3 * LEASE_S,
        )
        users = {run.app: _users_of(conn, runs[run.app]) for run in fleet}
        assert all(len(made) >= TESTS for made in users.values()), users

        # 2. One is killed outright. A run that starts now, while the killed run's lease is held,
        # sweeps nothing: a run as pytest's controller makes one, leased, with its own connections.
        victim, survivors = fleet[0], fleet[1:]
        victim_run = runs[victim.app]
        _kill_tree(victim)
        probe_settings = Settings.load(
            database_url=target.url_as("fleet-probe"),
            app_url=target.app_url,
            admin_token=target.admin_token,
            env={},
        )
        probe = Run(RunConfig(settings=probe_settings, reset="user", lease_seconds=LEASE_S))
        try:
            assert probe.target().leased
            assert probe.start_of_run_reset()["users_swept"] == 0
            after_probe = _leases(conn)
        finally:
            probe.close(delete_users=True)
        assert after_probe[victim_run]["alive"], "the probe came after the killed run's lease expired"
        assert {app: _users_of(conn, run) for app, run in runs.items()} == users

        # 3. The other three pass, with nothing left and no leak.
        (tmp_path / "release").touch()
        for run in survivors:
            assert run.process.wait(timeout=RUN_S) == 0, run.output()
            report = run.report()["run"]
            assert report["tests"] == {"passed": TESTS, "failed": 0, "skipped": 0, "errors": 0}, run.output()
            assert (report["users_left"], report["leaks"]) == ([], []), run.output()

        # 4. The killed run's users and lease are still there.
        assert _users_of(conn, victim_run) == users[victim.app]
        assert victim_run in _leases(conn)

        # 5. Once its lease has expired, the next run's start-of-run sweep deletes its users and
        # ends its lease.
        _wait_for(
            "the killed run's lease to expire", lambda: not _leases(conn)[victim_run]["alive"], LEASE_S + 5
        )
        sweeper = _start_run(target, tmp_path / "sweeper", SWEEPER, "-k", "dashboard_lists")
        started.append(sweeper)
        assert sweeper.process.wait(timeout=RUN_S) == 0, sweeper.output()
        report = sweeper.report()["run"]
        assert (report["tests"]["passed"], report["users_left"]) == (1, []), sweeper.output()
        assert _users_of(conn, victim_run) == set()
        code, out, _ = run_cli(capsys, "runs", "--json", "--database-url", target.database_url)
        assert (code, json.loads(out)["runs"]) == (0, [])

        # 6. Who deleted what: each run its own users and sessions, the killed run's the sweeper alone.
        runs = _runs_by_app(conn)
        assert sorted(runs) == sorted([*(run.app for run in fleet), SWEEPER]), runs
        owner = {run: app for app, run in runs.items()}
        owner[victim_run] = SWEEPER
        events = conn.execute("select op, tbl, id::text, run, app from fleet_audit.events").fetchall()
        wrong = [event for event in events if event[0] == "delete" and event[4] != owner.get(event[3])]
        assert wrong == [], f"deleted by another run than its own (killed run {victim_run}; runs {runs})"
        made = {(run, id_) for op, table, id_, run, _ in events if (op, table) == ("insert", "users")}
        deleted = {(run, id_) for op, table, id_, run, _ in events if (op, table) == ("delete", "users")}
        assert made == deleted, "every run's users are gone, each deleted once"
    finally:
        (tmp_path / "release").touch()
        for run in started:
            if run.process.poll() is None:
                processes.stop(run.process, timeout=30)
        conn.close()
