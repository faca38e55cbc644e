"""Fleet: R ``pitstop run``s of the full flow at once against one target, sharing one browser server.

One ``pitstop serve`` (the embedded stack) and one ``playwright run-server`` for the whole part;
for each R (1, 2, 4; ``--quick``: 1, 2) R runs start together, each a ``pitstop run`` of the
shipped full-flow scenario repeated K times (a conftest.py in the run's folder parametrizes it K
times, as pytest-repeat's ``--count`` would: pytest-repeat is not a dependency, and one process per
run keeps what a CI shard pays once, start-up and the browser's launch, paid once here too), each
connected to the browser server with ``--pitstop-browser-ws-endpoint``. What is measured, per R:

- flows per minute: the flows that passed over the wall time, from the first run's start to
  the last one's end (start-ups, browser launches and start-of-run resets included);
- the per-test reset's p95 under contention: every run's ``resets_ms`` samples, pooled;
- lock waits: PostgreSQL logs every lock wait longer than ``deadlock_timeout`` (set to 1 ms
  here, with ``log_lock_waits``) and, once it got the lock, how long it waited;
- deadlocks: ``pg_stat_database.deadlocks``, before and after (and the log's "deadlock detected");
- rows changed by another run than their own: the audit triggers of tests/fleet.py (as
  tests/test_fleet.py uses them) log who deletes each test user and session and who updates each
  session; a deletion by any connection but the owning run's, or an update by another run's, counts;
- CPU time by part, each process's own sampled from /proc (``CpuSampler``): the database
  (PostgreSQL), the app (the reference app), Stripe (its front and localstripe), the browser
  (Chromium) and the browser server (its Node), the runs (``pitstop run`` and pytest; their
  Playwright drivers), and the whole machine's, with what other processes took ("others": the
  machine is shared); from it, the flows per minute the cores allow at that CPU per flow.

Last, one run alone again with ``--tracing=off``: ``pitstop run`` keeps Playwright's traces of a
failed test, so it records one for every test, and that costs CPU.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.figures import Figure, Part, Target
from benchmarks.machine import PROC, TICKS, command_name, machine_busy
from benchmarks.target import Bench
from harness.report.recorder import percentile
from harness.stack import processes
from tests import fleet

FLOW = "test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it"
DEADLOCK_TIMEOUT_MS = 1  # the shortest: every lock wait longer than this is logged
RUN_S_PER_FLOW = 30  # a run's time limit: this per flow, per run at once, plus start-up
SAMPLE_S = 0.25  # how often the CPU sampler reads /proc

# The flow K times in a run: the conftest.py that ``pitstop run`` applies to the shipped scenarios.
REPEAT_CONFTEST = """
def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == {flow!r}:
        metafunc.fixturenames.append("fleet_repetition")
        metafunc.parametrize("fleet_repetition", range({times}))
"""

log = logging.getLogger("benchmarks")


def run(bench: Bench) -> Part:
    levels = (1, 2) if bench.quick else (1, 2, 4)
    flows = bench.n(6, 2)  # per run
    folder = bench.workdir / "fleet"
    folder.mkdir()
    log.info("starting pitstop serve and playwright run-server")
    with fleet.serve(folder) as served, fleet.browser_server() as browsers:
        database = Database(served.target.database_url)
        found = [_level(folder, served, browsers, database, runs, flows) for runs in levels]
        # The same one run without Playwright's tracing, which `pitstop run` turns on (retained on
        # failure, so recorded for every test): what it costs a flow.
        untraced = _level(folder, served, browsers, database, 1, flows, tracing=False)
    return _part(found, untraced, flows)


# -- one level: R runs at once -----------------------------------------------------------------


@dataclass
class Level:
    runs: int
    tracing: bool  # as `pitstop run` sets it (retained on failure), or off
    flows: int  # per run
    wall_s: float
    passed: int
    failed: int
    resets_ms: list[float]
    flow_s: list[float]  # each passed flow test's duration
    lock_waits: LockWaits
    deadlocks_stat: int
    audited: Counter[str]  # audit events by op
    wrong: list[fleet.Event]
    users_left: int
    cpu_s: dict[str, float]  # by part, "machine" the whole machine's
    others: dict[str, float]  # the busiest processes that are not the fleet's, by command name
    busy: float  # the share of the machine's cores busy over the wall time

    @property
    def flows_per_min(self) -> float:
        return self.passed / self.wall_s * 60

    @property
    def deadlocks(self) -> int:
        return max(self.deadlocks_stat, self.lock_waits.deadlocks)


def _level(
    folder: Path,
    served: fleet.Served,
    browsers: fleet.BrowserServer,
    database: Database,
    runs: int,
    flows: int,
    *,
    tracing: bool = True,
) -> Level:
    name = f"r{runs}" if tracing else f"r{runs}-no-tracing"
    here = folder / name
    here.mkdir()
    log.info("%d run(s) at once, %d flows each%s", runs, flows, "" if tracing else ", no tracing")
    database.clear_audit()
    log_from = database.log_size()
    deadlocks_before = database.deadlocks()
    roots = {
        database.postmaster: "database",
        served.process.pid: "serve",
        browsers.process.pid: "browser server",
    }
    timeout = 60 + RUN_S_PER_FLOW * flows * runs
    conftest = REPEAT_CONFTEST.format(flow=FLOW, times=flows)
    endpoint = f"--pitstop-browser-ws-endpoint={browsers.endpoint}"
    with CpuSampler(roots) as cpu:
        started = time.monotonic()
        fleet_runs = [
            fleet.start_run(
                served.target,
                here / f"run-{k}",
                f"fleet-{name}-{k}",
                *("-k", FLOW, endpoint),
                *(() if tracing else ("--tracing=off",)),
                conftest=conftest,
                timeout=timeout,
            )
            for k in range(1, runs + 1)
        ]
        try:
            codes = [r.wait(timeout + 90) for r in fleet_runs]
        finally:
            for r in fleet_runs:
                if r.process.poll() is None:
                    processes.stop(r.process, timeout=30)
        wall_s = max(r.ended or time.monotonic() for r in fleet_runs) - started

    reports = []
    for r, code in zip(fleet_runs, codes, strict=True):
        if not (r.folder / "report.json").is_file():
            raise RuntimeError(f"{r.app} wrote no report (exit {code}):\n{r.output()}")
        if code != 0:
            log.warning("%s ended with exit %d:\n%s", r.app, code, r.output()[-2000:])
        reports.append(r.report()["run"])
    tests = [t for report in reports for t in report.get("tests_list", [])]
    flow_tests = [t for t in tests if FLOW in t["test"]]
    time.sleep(1.5)  # a backend sends its statistics at most once a second
    audit = database.events()
    owner = {run: app for app, run in fleet.runs_by_app(audit).items()}
    made = {e.id for e in audit if (e.op, e.table) == ("insert", "users")}
    deleted = {e.id for e in audit if (e.op, e.table) == ("delete", "users")}
    level = Level(
        runs=runs,
        tracing=tracing,
        flows=flows,
        wall_s=wall_s,
        passed=sum(t["outcome"] == "passed" for t in flow_tests),
        failed=sum(t["outcome"] != "passed" for t in flow_tests),
        resets_ms=[float(ms) for t in tests for ms in t.get("resets_ms", [])],
        flow_s=[float(t["duration_s"]) for t in flow_tests if t["outcome"] == "passed"],
        lock_waits=LockWaits.parse(database.log_since(log_from)),
        deadlocks_stat=database.deadlocks() - deadlocks_before,
        audited=Counter(f"{e.op} {e.table}" for e in audit),
        wrong=fleet.wrong_changes(audit, owner, updates=True),
        users_left=len(made - deleted),
        cpu_s=cpu.parts(),
        others=cpu.others(),
        busy=cpu.busy,
    )
    log.info(
        "%s: %d/%d flows passed in %.1f s (%.1f per minute); reset p95 %s ms; %d lock waits; "
        "%d deadlocks; %d rows changed by another run; machine %.0f%% busy",
        _name(level), level.passed, runs * flows, wall_s, level.flows_per_min,
        percentile(level.resets_ms, 95), level.lock_waits.count, level.deadlocks, len(level.wrong),
        level.busy * 100,
    )  # fmt: skip
    return level


# -- the database: its audit, its statistics, its log ------------------------------------------


class Database:
    """The target's PostgreSQL, as its superuser: lock waits logged, the audit and the statistics read."""

    def __init__(self, url: str) -> None:
        self.url = url
        with self.connect() as conn:
            conn.execute("alter system set log_lock_waits = on")
            conn.execute(f"alter system set deadlock_timeout = '{DEADLOCK_TIMEOUT_MS}ms'")
            conn.execute("select pg_reload_conf()")
            row = conn.execute("show data_directory").fetchone()
        assert row is not None
        data = Path(row[0])
        # harness.stack.postgres starts it with pg_ctl -l <data>/server.log
        self.log = data / "server.log"
        self.postmaster = int((data / "postmaster.pid").read_text().split()[0])

    @contextlib.contextmanager
    def connect(self) -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(self.url, autocommit=True, application_name="fleet-bench") as conn:
            yield conn

    def clear_audit(self) -> None:
        with self.connect() as conn:
            conn.execute("truncate fleet_audit.events")

    def events(self) -> list[fleet.Event]:
        with self.connect() as conn:
            return fleet.events(conn)

    def deadlocks(self) -> int:
        with self.connect() as conn:
            row = conn.execute(
                "select deadlocks from pg_stat_database where datname = current_database()"
            ).fetchone()
        assert row is not None
        return int(row[0])

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.is_file() else 0

    def log_since(self, offset: int) -> str:
        if not self.log.is_file():
            return ""
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


# "2026-12-06 06:10:30.123 UTC [1234] LOG:  process 1234 still waiting for ShareLock on transaction 7
# after 1.052 ms", then the same backend's DETAIL, CONTEXT (which row of which table) and STATEMENT.
_LINE = re.compile(r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] (?P<level>[A-Z]+):  (?P<text>.*)$")
_WAITING = re.compile(r"process \d+ still waiting for (?P<lock>.+?) after [\d.]+ ms")
_ACQUIRED = re.compile(r"process \d+ acquired (?P<lock>.+?) after (?P<ms>[\d.]+) ms")
_RELATION = re.compile(r'relation "(?P<relation>[^"]+)"')


@dataclass
class LockWaits:
    """The lock waits PostgreSQL logged (each longer than ``deadlock_timeout``), and the deadlocks."""

    count: int = 0
    waited_ms: list[float] = field(default_factory=list)  # each wait that ended with the lock
    kinds: Counter[str] = field(default_factory=Counter)  # "ShareLock on transaction in sessions"
    statements: Counter[str] = field(default_factory=Counter)  # what waited (its first 60 characters)
    deadlocks: int = 0

    @classmethod
    def parse(cls, text: str) -> LockWaits:
        found = cls()
        waiting: dict[str, str] = {}  # backend pid -> the kind of its current wait, until its context
        for line in text.splitlines():
            match = _LINE.match(line)
            if match is None:
                continue
            pid, level, message = match["pid"], match["level"], match["text"]
            if level == "ERROR" and message.startswith("deadlock detected"):
                found.deadlocks += 1
            elif (wait := _WAITING.match(message)) is not None:
                found.count += 1
                if pid in waiting:  # its previous wait came with no statement
                    found.kinds[waiting.pop(pid)] += 1
                waiting[pid] = _lock_kind(wait["lock"])
            elif (acquired := _ACQUIRED.match(message)) is not None:
                found.waited_ms.append(float(acquired["ms"]))
            elif level == "CONTEXT" and pid in waiting and (on := _RELATION.search(message)):
                waiting[pid] += f" in {on['relation']}"
            elif level == "STATEMENT" and pid in waiting:
                found.kinds[waiting.pop(pid)] += 1
                found.statements[" ".join(message.split())[:60]] += 1
        for kind in waiting.values():
            found.kinds[kind] += 1
        return found


def _lock_kind(lock: str) -> str:
    """ "ShareLock on transaction 123" -> "ShareLock on transaction" (ids and numbers dropped)."""
    return re.sub(r" (of|on) (relation|tuple|transaction|advisory lock) \[?[\d,\s]+\]?.*", r" \1 \2", lock)


# -- CPU time by part --------------------------------------------------------------------------


@dataclass
class _Seen:
    part: str
    name: str  # its command name (/proc/PID/comm)
    first_s: float  # its own CPU time when first seen (0 for one born while sampling)
    last_s: float


class CpuSampler:
    """Every process's own CPU time (user + system), sampled from /proc every ``SAMPLE_S``, by part.

    A process's part is that of its nearest ancestor among the roots (the database's postmaster,
    ``pitstop serve``, the browser server) when first seen, refined by its command line; this
    benchmark's process is "bench", what it starts meanwhile "runs", any other process "others".
    Reaped children's time is not used, so that a process re-parented (to init) or reaped by
    another part counts once, where it was seen. Each process's last interval before its exit
    is missed: the parts' sums are a little low; "machine" (/proc/stat) is exact and holds
    everything, the kernel's own work (loopback networking, interrupts) too.
    """

    def __init__(self, roots: dict[int, str]) -> None:
        self._roots = dict(roots)
        self._seen: dict[tuple[int, int], _Seen] = {}
        self._first = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fleet-cpu", daemon=True)
        self._machine = (0.0, 0.0)
        self.machine_s = self.busy = 0.0

    def sample(self) -> None:
        table: dict[int, tuple[int, int, float]] = {}  # pid -> (ppid, start, own CPU s)
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                # After the ')': ppid is [1], utime and stime [11:13], starttime [19].
                own = (int(fields[11]) + int(fields[12])) / TICKS
                table[int(entry.name)] = (int(fields[1]), int(fields[19]), own)
        with self._lock:
            for pid, (_, start, own) in table.items():
                seen = self._seen.get((pid, start))
                if seen is None:
                    part, name = self._part(pid, table), command_name(pid)
                    seen = self._seen[(pid, start)] = _Seen(part, name, own if self._first else 0.0, own)
                seen.last_s = max(seen.last_s, own)
            self._first = False

    def _part(self, pid: int, table: dict[int, tuple[int, int, float]]) -> str:
        here = pid
        while here in table and here not in self._roots and here > 1:
            here = table[here][0]
        root = self._roots.get(here)
        if root is None:
            return "others"
        if root == "bench" and pid != here:
            root = "runs"  # what this process starts while sampling: the runs
        return _part_of(root, _cmdline(pid))

    def parts(self) -> dict[str, float]:
        """CPU seconds by part since the first sample; "machine": the whole machine's."""
        used: dict[str, float] = defaultdict(float)
        with self._lock:
            for seen in self._seen.values():
                used[seen.part] += seen.last_s - seen.first_s
        return dict(used) | {"machine": self.machine_s}

    def others(self, top: int = 5) -> dict[str, float]:
        """The processes of "others" that took the most CPU time, by command name."""
        used: dict[str, float] = defaultdict(float)
        with self._lock:
            for seen in self._seen.values():
                if seen.part == "others":
                    used[seen.name] += seen.last_s - seen.first_s
        return {name: round(s, 2) for name, s in sorted(used.items(), key=lambda item: -item[1])[:top]}

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def __enter__(self) -> CpuSampler:
        self._roots[os.getpid()] = "bench"
        self._machine = machine_busy()
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        busy_s, total_s = (a - b for a, b in zip(machine_busy(), self._machine, strict=True))
        self.machine_s, self.busy = busy_s, busy_s / total_s if total_s else 0.0


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def _part_of(root: str, cmdline: str) -> str:
    """The part of a process under a root's part, by its command line."""
    program = Path(cmdline.split(" ", 1)[0]).name
    if root == "browser server":  # Python's wrapper, Node, and the browsers it launched
        return "browser" if "chrom" in program or "headless" in program else "browser server"
    if root == "runs":  # pitstop run, pytest, and Playwright's driver (Node)
        return "runs: driver" if program == "node" else "runs: pytest"
    if root == "serve":
        if "reference_app" in cmdline:
            return "app"
        return "stripe" if "stripe" in cmdline else "serve"  # serve itself, the stack's watchdog
    return root


# -- figures -----------------------------------------------------------------------------------


def _part(levels: list[Level], untraced: Level, flows: int) -> Part:
    part = Part("fleet")
    for level in levels:
        r, waits = level.runs, level.lock_waits
        at_once = f"{r} run{'s' if r > 1 else ''} at once"
        part.figures += [
            Figure(
                f"fleet.r{r}_flows_per_min",
                f"{at_once}, full flows per minute ({level.passed}/{r * flows} passed)",
                level.flows_per_min, "/min",
            ),
            Figure(
                f"fleet.r{r}_reset_p95_ms", f"{at_once}, reset p95 (n={len(level.resets_ms)})",
                percentile(level.resets_ms, 95), "ms",
            ),
            Figure(f"fleet.r{r}_lock_waits", f"{at_once}, lock waits over {DEADLOCK_TIMEOUT_MS} ms",
                   waits.count, ""),
            Figure(f"fleet.r{r}_deadlocks", f"{at_once}, deadlocks", level.deadlocks, "",
                   Target("<=", 0, "")),
            Figure(f"fleet.r{r}_rows_wrong", f"{at_once}, rows changed by another run", len(level.wrong), "",
                   Target("<=", 0, "")),
        ]  # fmt: skip
        part.extra[f"r{r}"] = _extra(level)
    part.extra["r1_no_tracing"] = _extra(untraced)
    base, top = levels[0], levels[-1]
    cores = os.cpu_count() or 1
    per_flow = {level.runs: _per_flow(level).get("machine", 0.0) for level in levels}
    untraced_per_flow = _per_flow(untraced).get("machine", 0.0)
    browser_share = _per_flow(base).get("browser", 0.0) / per_flow[1] if per_flow[1] else 0.0
    part.figures += [
        Figure(
            f"fleet.r{top.runs}_speedup", f"{top.runs} runs at once vs 1, flows per minute",
            top.flows_per_min / base.flows_per_min if base.flows_per_min else None, "x",
        ),
        Figure(
            "fleet.cpu_s_per_flow", f"CPU per flow, whole machine, 1 run (Chromium {browser_share:.0%})",
            per_flow[1] or None, "CPU-s",
        ),
        Figure(
            "fleet.cpu_s_per_flow_no_tracing", "the same, `--tracing=off` (pitstop run keeps it on)",
            untraced_per_flow or None, "CPU-s",
        ),
        Figure(
            "fleet.ceiling_flows_per_min",
            f"what {cores} cores allow at {top.runs} runs' CPU per flow ({per_flow[top.runs]:.2f} CPU-s)",
            cores * 60 / per_flow[top.runs] if per_flow[top.runs] else None, "/min",
        ),
    ]  # fmt: skip
    part.extra |= {
        "deadlocks_total": sum(level.deadlocks for level in [*levels, untraced]),
        "rows_wrong_total": sum(len(level.wrong) for level in [*levels, untraced]),
        "flows_per_run": flows,
    }
    part.notes.append(
        f"fleet: one `pitstop serve` and one `playwright run-server` (headless shell) for all; for each R, "
        f"R `pitstop run`s started together, each the shipped {FLOW} {flows} times (parametrized by a "
        "conftest.py in the run's folder, one pytest process per run), Playwright tracing as `pitstop run` "
        "sets it (retained on failure). Flows per minute: passed flows over the wall time from the first "
        "run's start to the last one's end (start-ups, browser launches and start-of-run resets included). "
        "Reset p95: every test's reset samples (`resets_ms`) of the R reports, pooled. Lock waits: waits "
        f"longer than deadlock_timeout = {DEADLOCK_TIMEOUT_MS} ms that PostgreSQL logged (log_lock_waits), "
        "by anyone (the runs' rules, the app). Deadlocks: pg_stat_database.deadlocks after minus before, "
        "or the log's `deadlock detected` if more. Rows changed by another run: audit triggers "
        "(tests/fleet.py, as tests/test_fleet.py) log who deletes each test user and session and who "
        "updates each session (the connection's application_name, one per run): a deletion by any "
        "connection but the owning run's, or an update by another run's, counts. Last, one run alone "
        "again with `--tracing=off`, for what tracing costs. "
        + "; ".join(_level_note(level) for level in [*levels, untraced])
        + "."
    )
    part.notes.append(
        f"fleet CPU: CPU-s per passed flow by part, each process's own time sampled from /proc every "
        f"{SAMPLE_S:g} s (a process's last interval is missed) and filed by its ancestry and command line "
        "(database = PostgreSQL; app = the reference app; stripe = the Stripe front and localstripe; "
        "serve = pitstop serve and the stack's watchdog; browser = Chromium; browser server = its Node; "
        "runs: pytest = pitstop run and pytest; runs: driver = their Playwright drivers; bench = this "
        "process; others = every other process on the machine; machine = /proc/stat's busy time over "
        f"the whole machine, {os.cpu_count()} cores, everything included): "
        + "; ".join(
            f"{_name(level)} ({level.busy:.0%} of the cores busy): {json.dumps(_per_flow(level))}, "
            f"others by command (CPU-s in all): {json.dumps(level.others)}"
            for level in [*levels, untraced]
        )
        + "."
    )
    return part


def _extra(level: Level) -> dict[str, Any]:
    waits = level.lock_waits
    return {
        "flows": level.runs * level.flows,
        "passed": level.passed,
        "failed": level.failed,
        "wall_s": level.wall_s,
        "flows_per_min": level.flows_per_min,
        "flow_p50_s": percentile(level.flow_s, 50),
        "reset_p50_ms": percentile(level.resets_ms, 50),
        "reset_p95_ms": percentile(level.resets_ms, 95),
        "lock_waits": waits.count,
        "lock_waited_ms_total": sum(waits.waited_ms),
        "lock_waited_ms_max": max(waits.waited_ms, default=0.0),
        "lock_kinds": dict(waits.kinds.most_common()),
        "lock_statements": dict(waits.statements.most_common(5)),
        "deadlocks_pg_stat": level.deadlocks_stat,
        "deadlocks_logged": waits.deadlocks,
        "audited": dict(level.audited),
        "wrong": [e.__dict__ for e in level.wrong[:20]],
        "users_left": level.users_left,
        "cpu_s": level.cpu_s,
        "cpu_s_per_flow": _per_flow(level),
        "others_cpu_s": level.others,
        "machine_busy": level.busy,
    }


def _per_flow(level: Level) -> dict[str, float]:
    if not level.passed:
        return {}
    return {part: round(seconds / level.passed, 3) for part, seconds in sorted(level.cpu_s.items())}


def _name(level: Level) -> str:
    return f"R={level.runs}" + ("" if level.tracing else " --tracing=off")


def _level_note(level: Level) -> str:
    waits = level.lock_waits
    return (
        f"{_name(level)}: {level.passed}/{level.runs * level.flows} passed, wall {level.wall_s:.1f} s, "
        f"flow p50 {percentile(level.flow_s, 50)} s, reset p50 {percentile(level.resets_ms, 50)} ms, "
        f"{sum(waits.waited_ms):.0f} ms waited on locks in all "
        f"(longest {max(waits.waited_ms, default=0.0):.0f} ms; {dict(waits.kinds.most_common(3))}; "
        f"waiting: {dict(waits.statements.most_common(2))}), "
        f"deadlocks {level.deadlocks}, audited {dict(level.audited)}, changed by another run "
        f"{len(level.wrong)}, users left {level.users_left}"
    )
