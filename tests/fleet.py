"""Fleets of ``pitstop run``s against one target, as processes: what tests/test_fleet.py and the fleet
benchmark (benchmarks/fleet.py) share.

- ``serve``: ``pitstop serve`` (the embedded stack) in a group of its own, until it is ready, with
  ``AUDIT`` installed in its database: triggers that log every test user made or deleted and every
  session deleted or updated, with the run the row belongs to and the ``application_name`` of the
  connection that did it (``Target.url_as``: one name per run);
- ``start_run``: a ``pitstop run`` in a folder of its own (its output, its report), its database
  connections named;
- ``browser_server``: ``playwright run-server``, one browser server that runs connect to with
  ``--pitstop-browser-ws-endpoint``;
- ``events``, ``runs_by_app``, ``wrong_changes``: who did what, read from the audit.

Nothing here imports pytest's fixtures or Hypothesis: the benchmark imports it outside pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from harness.config import options
from harness.stack import processes
from harness.stack.postgres import free_port

# Every variable that names a target or changes the guard: command-line tests start without them.
# The options' own (harness.config.options), libpq's host, and the Stripe key the stack reads.
TARGET_VARIABLES = (
    *(option.env for option in options.CLI if option.env),
    *(options.BY_NAME[name].env for name in options.AUTH),  # how the page fixtures sign in
    "PGHOST",
    "PGHOSTADDR",
    "STRIPE_SECRET_KEY",
)
READY_S = 90  # for the stack, or the browser server, to answer
RUN_S = 150  # a run's own time limit (pitstop run --timeout), unless given

# Who changes what: every test user made or deleted and every session deleted or updated, with the
# run the user (the session's customer) belongs to and the application_name of the connection.
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
    values (lower(tg_op), 'sessions', old.id,
            (select u.raw_user_meta_data ->> 'run' from auth.users u where u.id = old.customer_id),
            current_setting('application_name'));
    return old;
end;
$$;
create trigger fleet_audit after delete or update on public.sessions
    for each row execute function fleet_audit.sessions();
"""

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    app_url: str
    database_url: str
    admin_token: str

    def url_as(self, app: str) -> str:
        """The database URL for connections named ``app`` (``application_name``, logged by AUDIT)."""
        return f"{self.database_url}{'&' if '?' in self.database_url else '?'}application_name={app}"


@dataclass(frozen=True)
class Served:
    """A running ``pitstop serve``: where its parts listen, and its process (the root of the app's)."""

    target: Target
    process: subprocess.Popen[bytes]


@dataclass
class PitstopRun:
    """One ``pitstop run`` in a folder of its own (its report, its output), in a group of its own."""

    app: str
    folder: Path
    process: subprocess.Popen[bytes]
    started: float  # time.monotonic() at its start
    ended: float | None = None  # time.monotonic() when it was first seen ended (``wait``)

    def output(self) -> str:
        return (self.folder / "output.txt").read_text(errors="replace")[-4000:]

    def report(self) -> Any:
        return json.loads((self.folder / "report.json").read_text())

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        if self.ended is None:
            self.ended = time.monotonic()
        return code


@dataclass(frozen=True)
class Event:
    """One row of the audit: ``op`` (insert, update, delete) on ``table`` (users, sessions)."""

    op: str
    table: str
    id: str
    run: str | None  # the run of the user (of the session's customer); None once that user is gone
    app: str  # the application_name of the connection that did it


def environment(temporary: Path | None = None, **extra: str) -> dict[str, str]:
    """This environment without a target, the outer xdist's or CI's variables, with ``extra``;
    temporary files in ``temporary`` (what a killed run's browsers leave goes with its caller's)."""
    dropped = {*TARGET_VARIABLES, "PYTEST_ADDOPTS", "GITHUB_STEP_SUMMARY"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST_XDIST")}
    env |= extra
    if temporary is not None:
        temporary.mkdir(exist_ok=True)
        env["TMPDIR"] = str(temporary)
    return env


def wait_for(what: str, check: Callable[[], T], timeout: float, every: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(every)
    return found


@contextlib.contextmanager
def serve(folder: Path, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``pitstop serve``: the embedded stack in the foreground, in a group of its own, with AUDIT in
    its database; stopped at the end (SIGTERM, then what is left of its group SIGKILLed), its
    database with it. Its output goes to ``folder/serve.txt``."""
    ready = folder / "ready.json"
    with (folder / "serve.txt").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness", "serve", "--ready-file", str(ready)],
            env=env or environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for("the stack", lambda: ready.is_file() or process.poll() is not None, READY_S, every=0.2)
        if process.poll() is not None:
            raise AssertionError((folder / "serve.txt").read_text(errors="replace"))
        info = json.loads(ready.read_text())
        target = Target(info["app_url"], info["database_url"], info["admin_token"])
        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute(AUDIT)
        yield Served(target, process)
    finally:
        process.send_signal(signal.SIGTERM)  # it stops the stack as on Ctrl-C
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)
        processes.stop(process, timeout=10)  # whatever is left of its group: SIGTERM, then SIGKILL


def start_run(
    target: Target,
    folder: Path,
    app: str,
    *pytest_args: str,
    conftest: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = RUN_S,
) -> PitstopRun:
    """``pitstop run`` in ``folder`` (made here, with ``conftest`` as its conftest.py: ``pitstop run``
    applies it to the scenarios), its database connections named ``app``."""
    folder.mkdir()
    if conftest is not None:
        (folder / "conftest.py").write_text(conftest)
    command = [
        *(sys.executable, "-m", "harness", "run"),
        *("--base-url", target.app_url, "--database-url", target.url_as(app)),
        *("--admin-token", target.admin_token, "--timeout", f"{timeout:g}"),
        *("-p", "no:randomly", "-q", f"--pitstop-health={folder / 'report.json'}", *pytest_args),
    ]
    with (folder / "output.txt").open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env or environment(folder.parent / "tmp"),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return PitstopRun(app, folder, process, time.monotonic())


@dataclass(frozen=True)
class BrowserServer:
    endpoint: str  # for --pitstop-browser-ws-endpoint
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def browser_server() -> Iterator[BrowserServer]:
    """``playwright run-server`` on a free port of 127.0.0.1, until it answers; stopped with what it
    started (its Node driver, the browsers it launched) at the end."""
    port = free_port()
    # --unsafe lets the client name the browser executable: a system Chromium, where
    # Playwright's own build is not installed.
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "playwright", "run-server"),
            *("--port", str(port), "--host", "127.0.0.1", "--unsafe"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # with the Node driver it starts: stopping Python alone orphans it
    )
    try:

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"playwright run-server ended (exit {process.returncode})")
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0

        wait_for("playwright run-server to answer", answers, READY_S, every=0.1)
        yield BrowserServer(f"ws://127.0.0.1:{port}/", process)
    finally:
        processes.stop(process, READY_S)


# -- the audit -----------------------------------------------------------------------------------


def events(conn: psycopg.Connection[Any]) -> list[Event]:
    rows = conn.execute("select op, tbl, id::text, run, app from fleet_audit.events order by at").fetchall()
    return [Event(*row) for row in rows]


def runs_by_app(found: Iterable[Event]) -> dict[str, str]:
    """The run whose users each app (a run's connections) made, by app; an app of two runs fails."""
    runs: dict[str, str] = {}
    for event in found:
        run = event.run if (event.op, event.table) == ("insert", "users") else None
        if run is not None and runs.setdefault(event.app, run) != run:
            raise AssertionError(f"{event.app} made users of two runs: {runs[event.app]}, {run}")
    return runs


def wrong_changes(found: Iterable[Event], owner: dict[str, str], *, updates: bool = False) -> list[Event]:
    """What was changed by another than its owner (``owner``: the app that may change a run's rows).

    Every deletion of a test user or a session by any other connection; with ``updates``, also every
    update of a session by another run's connections (an app in ``owner``'s values: the app's own
    connections, unnamed, update sessions as the flow goes).
    """
    apps = set(owner.values())
    wrong = []
    for event in found:
        mine = owner.get(event.run) if event.run is not None else None
        deleted = event.op == "delete"
        updated = updates and event.op == "update" and event.app in apps
        if (deleted or updated) and event.app != mine:
            wrong.append(event)
    return wrong
