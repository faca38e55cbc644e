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
- who deleted what: triggers in the target's database (``tests.fleet.AUDIT``,
  which the fleet benchmark uses too) log every test user made or deleted and
  every session deleted, with the ``application_name`` of the connection (one
  per run); each run's users and sessions were deleted by that run and no
  other, the killed run's by the sweeping run alone.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.config.settings import RunConfig, Settings
from harness.engine.run import Run
from harness.stack import processes
from tests.conftest import run_cli
from tests.fleet import (
    RUN_S,
    PitstopRun,
    Target,
    environment,
    events,
    runs_by_app,
    serve,
    start_run,
    wait_for,
    wrong_changes,
)

LEASE_S = 8  # the shortest lease: a killed run's expires soon
RUNS = 4
# Two fast scenarios, one for each of a run's two workers (xdist sends two tests round robin).
SCENARIOS = "dashboard_lists or declined_card"
TESTS = 2
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


def _start(target: Target, folder: Path, app: str, *pytest_args: str, hold: bool = False) -> PitstopRun:
    """``pitstop run`` with 8-second leases, its temporary files beside the runs' folders."""
    env = environment(folder.parent / "tmp", PITSTOP_LEASE_SECONDS=str(LEASE_S))
    return start_run(target, folder, app, *pytest_args, conftest=HOLDING_CONFTEST if hold else None, env=env)


def _holding(run: PitstopRun) -> int:
    """How many of its tests have ended and keep their users."""
    return len(list(run.folder.glob("holding-*")))


def _holding_or_ended(run: PitstopRun) -> bool:
    return _holding(run) == TESTS or run.process.poll() is not None


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


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    """``pitstop serve`` (``tests.fleet.serve``), with the audit triggers in its database."""
    with serve(tmp_path) as served:
        yield served.target


@pytest.mark.usefixtures("no_target_environment")
def test_four_runs_at_once_and_one_killed_touch_nothing_of_each_other(
    target: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = [
        _start(target, tmp_path / f"run-{k}", f"fleet-{k}", "-n", "2", "-k", SCENARIOS, hold=True)
        for k in range(1, RUNS + 1)
    ]
    started = [*fleet]
    conn = psycopg.connect(target.database_url, autocommit=True)
    try:
        # 1. Every run holds its users (its tests ran, they keep them), and its lease has outlived
        # its length: its heartbeat renewed it.
        for run in fleet:
            wait_for(f"{run.app}'s tests to run", partial(_holding_or_ended, run), RUN_S)
            assert run.process.poll() is None, run.output()
        runs = runs_by_app(events(conn))
        assert sorted(runs) == [run.app for run in fleet], runs
        wait_for(
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
        wait_for(
            "the killed run's lease to expire", lambda: not _leases(conn)[victim_run]["alive"], LEASE_S + 5
        )
        sweeper = _start(target, tmp_path / "sweeper", SWEEPER, "-k", "dashboard_lists")
        started.append(sweeper)
        assert sweeper.process.wait(timeout=RUN_S) == 0, sweeper.output()
        report = sweeper.report()["run"]
        assert (report["tests"]["passed"], report["users_left"]) == (1, []), sweeper.output()
        assert _users_of(conn, victim_run) == set()
        code, out, _ = run_cli(capsys, "runs", "--json", "--database-url", target.database_url)
        assert (code, json.loads(out)["runs"]) == (0, [])

        # 6. Who deleted what: each run its own users and sessions, the killed run's the sweeper alone.
        runs = runs_by_app(events(conn))
        assert sorted(runs) == sorted([*(run.app for run in fleet), SWEEPER]), runs
        owner = {run: app for app, run in runs.items()}
        owner[victim_run] = SWEEPER
        audit = events(conn)
        wrong = wrong_changes(audit, owner)
        assert wrong == [], f"deleted by another run than its own (killed run {victim_run}; runs {runs})"
        made = {(e.run, e.id) for e in audit if (e.op, e.table) == ("insert", "users")}
        deleted = {(e.run, e.id) for e in audit if (e.op, e.table) == ("delete", "users")}
        assert made == deleted, "every run's users are gone, each deleted once"
    finally:
        (tmp_path / "release").touch()
        for run in started:
            if run.process.poll() is None:
                processes.stop(run.process, timeout=30)
        conn.close()
