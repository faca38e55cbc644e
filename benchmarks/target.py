"""What the parts share: one embedded stack, its test users, and pytest runs pointed at it."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from uuid import UUID

import httpx

from benchmarks.machine import machine_busy
from harness.engine.identity import Role, new_run_id
from harness.engine.personas import Personas, TestUser
from harness.stack.embedded import STRIPE_SECRET_KEY, EmbeddedStack, StackInfo, processes
from harness.store.postgres import PostgresStore

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_RUNS = Path(__file__).with_name("scenario_runs.py")
INNER_TIMEOUT_S = 600
HTTP_TIMEOUT_S = 20

log = logging.getLogger("benchmarks")


@dataclass(frozen=True)
class InnerRun:
    """One pytest run against the shared stack: its wall time, pitstop report and per-test timings."""

    started_at: float  # epoch seconds, when the pytest process was spawned
    wall_s: float
    # CPU time the whole machine spent during the run (every process, not only ours). The
    # run's own process trees summed through rusage came out a third lower (6.3 vs 9.9 CPU-s
    # sampled from /proc over 4 flows): a process whose parent exits without waiting for it
    # takes its own and its children's time out of that accounting.
    cpu_s: float
    busy: float  # the share of the machine's cores that cpu_s is
    report: dict[str, Any]
    timings: dict[str, Any]  # nodeid -> {"outcome", "start", "stop", "setup", "call", "teardown"}
    out: Path

    @property
    def startup_s(self) -> float:
        """From spawning pytest to the first test's setup (start-up, collection, xdist workers)."""
        return min(float(t["start"]) for t in self.timings.values()) - self.started_at

    @property
    def tail_s(self) -> float:
        """From the last test's end to the process's exit (session finish, reports, shutdown)."""
        return self.started_at + self.wall_s - max(float(t["stop"]) for t in self.timings.values())

    def calls_s(self, name: str) -> list[float]:
        """Call-phase durations of the passed tests whose node id contains ``name``."""
        return [t["call"] for n, t in self.timings.items() if name in n and t["outcome"] == "passed"]


class Bench:
    """The benchmark's context: options, a work directory, and the shared stack (started on first use)."""

    def __init__(self, *, quick: bool, workdir: Path) -> None:
        self.quick = quick
        self.workdir = workdir
        self._stack: EmbeddedStack | None = None
        self._users: list[UUID] = []
        self._runs = 0

    def n(self, full: int, quick: int) -> int:
        """A repetition count: ``full``, or ``quick`` with --quick."""
        return quick if self.quick else full

    @property
    def embedded(self) -> EmbeddedStack:
        if self._stack is None:
            log.info("starting the shared embedded stack")
            self._stack = EmbeddedStack()
            self._stack.start()
        return self._stack

    @property
    def stack(self) -> StackInfo:
        info = self.embedded.info
        assert info is not None
        return info

    def env(self, stack: EmbeddedStack | None = None) -> dict[str, str]:
        """The environment of an inner run: the stack as a given target (as tests/test_plugin.py does)."""
        stack = stack or self.embedded
        assert stack.info is not None
        return {
            **os.environ,
            "STRIPE_API_BASE": stack.info.stripe_api_base,
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": stack.webhook_secret or "",
        }

    @contextlib.contextmanager
    def other_stack(self, **options: Any) -> Iterator[EmbeddedStack]:
        """A stack of its own (e.g. ``payment_kind="checkout_session"``), stopped after."""
        stack = EmbeddedStack(**options)
        log.info("starting a stack with %s", options)
        with stack:
            yield stack

    # -- pytest runs ---------------------------------------------------------------------

    def pytest(
        self, *args: str, env: dict[str, str] | None = None, stack: EmbeddedStack | None = None
    ) -> InnerRun:
        """Run ``benchmarks/scenario_runs.py`` with pytest in a subprocess against the stack.

        One subprocess per call (pytest's start-up, ~2 s, counts in ``wall_s``); repetition
        happens inside it, through ``PITSTOP_BENCH_REPEAT``.
        """
        self._runs += 1
        out = self.workdir / f"run-{self._runs}"
        out.mkdir(parents=True)
        stack = stack or self.embedded
        info = stack.info
        assert info is not None
        command = [
            sys.executable, "-m", "pytest", str(SCENARIO_RUNS.relative_to(ROOT)),
            "-p", "benchmarks.inner_plugin",
            "--base-url", info.app_url,
            "--pitstop-database-url", info.database_url,
            "--pitstop-admin-token", info.admin_token,
            f"--pitstop-health={out / 'report.json'}",
            "--output", str(out / "artifacts"),
            "--basetemp", str(out / "tmp"),  # not the shared /tmp/pytest-of-$USER, which xdist makes
            "-q", "-p", "no:randomly",
            # pitstop alone: not this repository's test-suite plugins (the leftover-process
            # check; Hypothesis's, which imports Hypothesis at every session's end).
            "-p", "no:tests.leftovers", "-p", "no:hypothesispytest",
            *args,
        ]  # fmt: skip
        run_env = {
            **self.env(stack), **(env or {}),
            "PITSTOP_BENCH_OUT": str(out), "PITSTOP_BENCH_STACK_PIDS": json.dumps(stack.pids),
        }  # fmt: skip
        log.info("pytest %s", " ".join(args))
        machine_cpu = machine_busy()
        started, started_at = time.perf_counter(), time.time()
        with (out / "pytest.log").open("wb") as output:
            # In a group of its own: on a timeout its workers and browsers are stopped with it.
            inner = subprocess.Popen(
                command, cwd=ROOT, env=run_env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                returncode = inner.wait(INNER_TIMEOUT_S)
            finally:
                processes.stop(inner)
        wall_s = time.perf_counter() - started
        busy_s, total_s = (after - before for after, before in zip(machine_busy(), machine_cpu, strict=True))
        text = (out / "pytest.log").read_text(errors="replace")
        if returncode != 0:
            raise RuntimeError(f"the inner pytest run failed (exit {returncode}):\n{text[-3000:]}")
        return InnerRun(
            started_at=started_at,
            wall_s=wall_s,
            cpu_s=busy_s,
            busy=busy_s / total_s if total_s else 0.0,
            report=json.loads((out / "report.json").read_text()),
            timings=json.loads((out / "timings.json").read_text()),
            out=out,
        )

    # -- test users on the stack ---------------------------------------------------------

    @contextlib.contextmanager
    def store(self) -> Iterator[PostgresStore]:
        with PostgresStore(database_url=self.stack.database_url) as store:
            yield store

    def users(self, store: PostgresStore, *roles: Role) -> list[TestUser]:
        """New test users on the stack's database (deleted when the benchmark ends)."""
        personas = Personas(run_id=new_run_id(), worker_id="bench", seed=time.time_ns())
        made = [personas.create(store, f"{role}-{i}", role) for i, role in enumerate(roles)]
        self._users += [u.id for u in made]
        return made

    def sign_in(self, user: TestUser) -> httpx.Client:
        """An HTTP client signed in through the login form, with its session cookie."""
        client = httpx.Client(base_url=self.stack.app_url, timeout=HTTP_TIMEOUT_S)
        response = client.post(f"/{user.role}/login", data={"email": user.email, "password": user.password})
        if response.status_code != 303:
            client.close()
            raise RuntimeError(
                f"sign-in of {user.email} failed: {response.status_code} {response.text[:200]}"
            )
        return client

    # -- the end -----------------------------------------------------------------------

    def close(self) -> None:
        if self._stack is None:
            return
        try:
            if self._users:
                with self.store() as store:
                    for user_id in self._users:
                        with contextlib.suppress(Exception):
                            store.delete_test_user(user_id)
        finally:
            self._stack.stop()
            self._stack = None

    def __enter__(self) -> Bench:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
