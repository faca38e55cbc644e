"""pitstop beside Playwright Test (Node) on the same flows: the peer a team would pick instead.

Both sides run against the benchmark's one embedded stack, in interleaved rounds:

- **flow**: the shipped full UI flow, eight times as eight tests of one file, at 1 and 2 workers
  (pitstop: ``pytest`` and ``pytest -n 2``; Playwright Test: ``--workers=1`` and ``2`` with
  ``fullyParallel``); pitstop with and without bytecode caches (a CI image that sets
  ``PYTHONDONTWRITEBYTECODE`` parses every module anew in every process);
- **suite**: the eight shipped scenarios, pitstop's as shipped (a scenario not about payment
  starts from a seeded state or pays by webhook) and Playwright Test's as a team without pitstop
  writes them (through the UI), at 2 workers.

Playwright Test is npm's ``@playwright/test`` of the version of the Python package's driver, on
the same Chromium (the system's headless shell where there is one) with the same arguments; the
peer's sources are benchmarks/peer/ (its README says what each side does and does not do). A run's
figures: its wall time from spawn to exit, per flow; its CPU-seconds, of every process it starts
and of the stack's, counted by cgroup (the cpuacct hierarchy; else the whole machine's busy time);
its start-up (spawn to the first test's start) and its end (the last test's end to exit).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.figures import Figure, Part, Target
from benchmarks.machine import CpuGroup, children_map, machine_busy, tree
from benchmarks.target import INNER_TIMEOUT_S, Bench
from harness.engine.browsers import find_chromium
from harness.stack import processes

HERE = Path(__file__).parent
PEER = HERE / "peer"
HOME = Path(sys.prefix) / "pitstop-peer"  # the peer's node_modules: in the virtual environment
# pitstop's side runs where a team's suite would: a virtual environment with pitstop installed from
# its wheel (not this editable checkout), pytest-xdist and stripe (the scenarios' webhook payments), and
# nothing of this repository's tests.
TEAM_VENV = Path(sys.prefix) / "pitstop-peer-venv"
ROOT = HERE.parent
FLOWS = 8
TARGET = Target("<=", 0.9, "x")

log = logging.getLogger("benchmarks")


@dataclass(frozen=True)
class Measure:
    """One run of one side."""

    wall_s: float
    cpu_s: float
    startup_s: float
    end_s: float
    test_s: float  # the median test, as the runner reports it (setup to teardown; pytest's first
    # test's setup holds the session's fixtures, Playwright Test's worker fixtures are its own)
    fixed_s: float  # the rest: the wall time less the median test times the tests per worker


def run(bench: Bench) -> Part:
    rounds = bench.n(3, 1)
    part = Part("peer")
    project = install_peer()
    team_venv(bench.workdir)
    with _groups(bench) as groups:
        # Once each, unmeasured: the caches a team's machine has after its first run (Python's bytecode,
        # pytest's rewritten test files, Playwright Test's transpiled TypeScript).
        _side(bench, groups, project, "pitstop", 1, "flow")
        _side(bench, groups, project, "playwright", 1, "flow")
        flow: dict[int, dict[str, list[Measure]]] = {
            w: {"pitstop": [], "pitstop_no_bytecode": [], "pitstop_supabase": [], "playwright": []}
            for w in (1, 2)
        }
        suite: dict[str, list[Measure]] = {"pitstop": [], "playwright": []}
        loads = []
        for r in range(rounds):
            for workers in (1, 2):
                sides = ["pitstop", "pitstop_no_bytecode", "pitstop_supabase", "playwright"]
                for side in sides[r % 4 :] + sides[: r % 4]:  # each side goes first in turn
                    flow[workers][side].append(_side(bench, groups, project, side, workers, "flow"))
                    loads.append(os.getloadavg()[0])
            for side in ("pitstop", "playwright")[:: 1 if r % 2 == 0 else -1]:
                suite[side].append(_side(bench, groups, project, side, 2, "suite"))
    for workers in (1, 2):
        part.extra[f"workers_{workers}"] = summary(flow[workers]["pitstop"], flow[workers]["playwright"])
        part.extra[f"workers_{workers}"]["no_bytecode"] = summary(
            flow[workers]["pitstop_no_bytecode"], flow[workers]["playwright"]
        )
        # pitstop as a Supabase app would configure it: personas signed in without the login page
        # ([tool.pitstop.auth] mode = "supabase"), where the peer signs in through the UI.
        part.extra[f"workers_{workers}"]["supabase_sign_in"] = summary(
            flow[workers]["pitstop_supabase"], flow[workers]["playwright"]
        )
        for variant, key in (("", ""), (" (no bytecode)", ".no_bytecode")):
            figures = part.extra[f"workers_{workers}"]
            figures = figures["no_bytecode"] if key else figures
            part.figures += [
                Figure(f"peer.workers_{workers}{key.replace('.', '_')}_ratio",
                       f"pitstop / Playwright Test, wall per flow, {workers} worker(s){variant}",
                       figures["ratio"], "x", TARGET),
                Figure(f"peer.workers_{workers}{key.replace('.', '_')}_cpu_ratio",
                       f"pitstop / Playwright Test, CPU per flow, {workers} worker(s){variant}",
                       figures["cpu_ratio"], "x", TARGET),
            ]  # fmt: skip
    part.extra["suite"] = summary(suite["pitstop"], suite["playwright"], per_flow=False)
    part.figures += [
        Figure("peer.suite_ratio", "the eight scenarios, pitstop / Playwright Test, wall (2 workers)",
               part.extra["suite"]["ratio"], "x"),
        Figure("peer.suite_cpu_ratio", "the eight scenarios, pitstop / Playwright Test, CPU (2 workers)",
               part.extra["suite"]["cpu_ratio"], "x"),
    ]  # fmt: skip
    part.notes.append("Each comparison, median (range over the rounds): " + "; ".join(
        _described(name, part.extra[key][variant] if variant else part.extra[key])
        for key, variant, name in (
            ("workers_1", "", "1 worker"), ("workers_1", "no_bytecode", "1 worker, no bytecode"),
            ("workers_1", "supabase_sign_in", "1 worker, pitstop signing in the Supabase way"),
            ("workers_2", "", "2 workers"), ("workers_2", "no_bytecode", "2 workers, no bytecode"),
            ("workers_2", "supabase_sign_in", "2 workers, pitstop signing in the Supabase way"),
            ("suite", "", "the eight scenarios, 2 workers"),
        )
    ) + ". Start-up is from the spawn to the first test's start as each runner reports it: pytest's "
        "before the test's setup, Playwright Test's with its worker fixtures (users, sign-in) inside the "
        "first test; end is from the last test's end to the exit. A test is the median of each runner's own "
        "test durations (pytest: setup, call and teardown; Playwright Test: the result's duration); the rest "
        "of the run is its wall time less that median times the tests per worker: start-up, the first "
        "test's browser launch and sign-ins, the end.")  # fmt: skip
    part.extra["load_average_during"] = {
        "min": min(loads),
        "median": statistics.median(loads),
        "max": max(loads),
    }
    part.extra["cpu_counted_by"] = "cgroup" if groups else "machine"
    part.notes.append(
        f"{rounds} interleaved rounds after one unmeasured run of each side (the caches a machine has after "
        "its first run); in each round, at 1 and then 2 workers, pitstop (bytecode written and read), "
        "pitstop without bytecode (PYTHONDONTWRITEBYTECODE: only what pip compiled at install is read), "
        "pitstop signing its personas in the Supabase way (mode = supabase; the peer signs in through the "
        "UI, as its documentation shows) and Playwright Test run the full UI flow as 8 tests of one file, "
        "each side first in turn; then the eight scenarios both ways at 2 workers. Ratios are medians of "
        "the rounds' paired ratios, with their range; CPU is every process of the run and the stack's (by "
        f"{part.extra['cpu_counted_by']}). Load average (1 min) during the runs: "
        f"{part.extra['load_average_during']}. What each side does: benchmarks/peer/README.md."
    )
    return part


def summary(ours: list[Measure], theirs: list[Measure], *, per_flow: bool = True) -> dict[str, Any]:
    """Medians per flow (or per run) of each side, and of the paired ratios with their range."""
    div = FLOWS if per_flow else 1
    ratios = [a.wall_s / b.wall_s for a, b in zip(ours, theirs, strict=False)]
    cpu_ratios = [a.cpu_s / b.cpu_s for a, b in zip(ours, theirs, strict=False)]
    unit = "per_flow" if per_flow else "per_run"
    return {
        f"pitstop_s_{unit}": round(statistics.median(m.wall_s for m in ours) / div, 3),
        f"playwright_s_{unit}": round(statistics.median(m.wall_s for m in theirs) / div, 3),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
        "cpu_ratio": round(statistics.median(cpu_ratios), 3),
        "cpu_ratio_range": [round(min(cpu_ratios), 3), round(max(cpu_ratios), 3)],
        f"pitstop_cpu_s_{unit}": round(statistics.median(m.cpu_s for m in ours) / div, 3),
        f"playwright_cpu_s_{unit}": round(statistics.median(m.cpu_s for m in theirs) / div, 3),
        "pitstop_startup_s": round(statistics.median(m.startup_s for m in ours), 3),
        "playwright_startup_s": round(statistics.median(m.startup_s for m in theirs), 3),
        "pitstop_end_s": round(statistics.median(m.end_s for m in ours), 3),
        "playwright_end_s": round(statistics.median(m.end_s for m in theirs), 3),
        # The wall time split: a test's own time, and what a run costs beside its tests.
        "test_ratio": round(
            statistics.median(a.test_s / b.test_s for a, b in zip(ours, theirs, strict=False)), 3
        ),
        "pitstop_test_s": round(statistics.median(m.test_s for m in ours), 3),
        "playwright_test_s": round(statistics.median(m.test_s for m in theirs), 3),
        "pitstop_fixed_s": round(statistics.median(m.fixed_s for m in ours), 3),
        "playwright_fixed_s": round(statistics.median(m.fixed_s for m in theirs), 3),
    }


def _described(name: str, figures: dict[str, Any]) -> str:
    unit = "flow" if "pitstop_s_per_flow" in figures else "run"
    return (
        f"{name}: pitstop {figures[f'pitstop_s_per_{unit}']} s and {figures[f'pitstop_cpu_s_per_{unit}']} "
        f"CPU-s per {unit}, Playwright Test {figures[f'playwright_s_per_{unit}']} s and "
        f"{figures[f'playwright_cpu_s_per_{unit}']} CPU-s; wall {figures['ratio']}x "
        f"({figures['ratio_range'][0]}-{figures['ratio_range'][1]}), CPU {figures['cpu_ratio']}x "
        f"({figures['cpu_ratio_range'][0]}-{figures['cpu_ratio_range'][1]}); start-up "
        f"{figures['pitstop_startup_s']} vs {figures['playwright_startup_s']} s, "
        f"end {figures['pitstop_end_s']} vs {figures['playwright_end_s']} s; a test (median) "
        f"{figures['pitstop_test_s']} vs {figures['playwright_test_s']} s ({figures['test_ratio']}x), the "
        f"rest of the run {figures['pitstop_fixed_s']} vs {figures['playwright_fixed_s']} s"
    )


# -- the two sides -------------------------------------------------------------------------


def _side(bench: Bench, groups: Any, project: Path, side: str, workers: int, what: str) -> Measure:
    if side == "playwright":
        return _playwright(bench, groups, project, workers, what)
    return _pitstop(
        bench,
        groups,
        workers,
        what,
        bytecode=side != "pitstop_no_bytecode",
        headless=side == "pitstop_supabase",
    )


def _pitstop(
    bench: Bench, groups: Any, workers: int, what: str, *, bytecode: bool, headless: bool = False
) -> Measure:
    info = bench.stack
    folder = bench.workdir / f"pitstop-{what}"
    if not folder.exists():
        folder.mkdir()
        shutil.copy(HERE / "peer_pitstop.py", folder / "test_flow.py")
        shutil.copy(HERE / "peer_timing.py", folder / "peer_timing.py")
    times = folder / "times.json"
    tests = (
        ["test_flow.py"]
        if what == "flow"
        else ["--pyargs", "harness.scenarios", "--pitstop-payment", "webhook"]
    )
    command = [
        str(TEAM_VENV / "bin/python"), "-m", "pytest", *tests, "-q", "-p", "peer_timing",
        "--base-url", info.app_url, "--pitstop-database-url", info.database_url,
        "--pitstop-admin-token", info.admin_token, "--basetemp", str(folder / "tmp"),
        *(["-n", str(workers)] if workers > 1 else []),
    ]  # fmt: skip
    # With bytecode: Python writes its caches (the test files', pytest's rewritten ones) and reads them
    # back. Without: it writes none, as on a machine that sets PYTHONDONTWRITEBYTECODE; it still reads
    # what pip compiled at install (the standard library's, the installed packages'), and pytest
    # rewrites every module it rewrites anew in every process.
    env = {**bench.env(), "PYTHONPATH": str(folder), "PITSTOP_PEER_TIMES": str(times)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if headless:
        env |= {"PITSTOP_AUTH_MODE": "supabase", "SUPABASE_URL": info.supabase_url,
                "SUPABASE_JWT_SECRET": info.jwt_secret}  # fmt: skip
    started, measure = _spawn(command, folder, env, groups)
    found = json.loads(times.read_text())
    return measure(found["first_start"] - started, found["last_stop"], found["durations"], workers)


def _playwright(bench: Bench, groups: Any, project: Path, workers: int, what: str) -> Measure:
    info = bench.stack
    out = bench.workdir / f"playwright-{what}-{time.time_ns()}.json"
    command = [
        "node", str(project / "node_modules/@playwright/test/cli.js"), "test", f"{what}.spec.ts",
        f"--workers={workers}", "--reporter=json",
    ]  # fmt: skip
    env = {
        **os.environ,
        "PEER_APP_URL": info.app_url, "PEER_DATABASE_URL": info.database_url, "PEER_CHROMIUM": _chromium(),
        "PEER_RUN": f"p{time.time_ns() % 10**8:x}", "PEER_TEST_DOMAIN": "pitstop.test",
        "PEER_STRIPE_WEBHOOK_SECRET": bench.embedded.webhook_secret or "",
        "PLAYWRIGHT_JSON_OUTPUT_NAME": str(out),
    }  # fmt: skip
    started, measure = _spawn(command, project, env, groups)
    results = [r for t in _tests(json.loads(out.read_text())) for r in t["results"]]
    starts = [datetime.fromisoformat(r["startTime"].replace("Z", "+00:00")).timestamp() for r in results]
    ends = [s + r["duration"] / 1000 for s, r in zip(starts, results, strict=True)]
    failed = [r for r in results if r["status"] != "passed"]
    if failed:
        raise RuntimeError(f"Playwright Test: {len(failed)} tests did not pass: {failed[0].get('error')}")
    durations = [r["duration"] / 1000 for r in results]
    return measure(min(starts) - started, max(ends), durations, workers)


def _tests(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = list(report.get("suites", []))
    while stack:
        suite = stack.pop()
        stack += suite.get("suites", [])
        for spec in suite.get("specs", []):
            yield from spec["tests"]


def _spawn(
    command: list[str], cwd: Path, env: dict[str, str], groups: Any
) -> tuple[float, Callable[[float, float], Measure]]:
    """Run ``command`` to its end in its own cgroup; the spawn time and a ``Measure`` maker."""
    before = _cpu(groups)
    started = time.time()
    # In the runner's cgroup from before it runs: everything it starts is counted there.
    enter = (lambda: groups[0].add(os.getpid())) if groups else None
    with (cwd / "run.log").open("wb") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=enter)  # fmt: skip
        try:
            code = process.wait(INNER_TIMEOUT_S)
        finally:
            processes.stop(process)
    ended = time.time()
    after = _cpu(groups)
    if code != 0:
        raise RuntimeError(f"{command[:4]} failed (exit {code}):\n{(cwd / 'run.log').read_text()[-3000:]}")

    def measure(startup_s: float, last_stop: float, durations: list[float], workers: int) -> Measure:
        wall, test = ended - started, statistics.median(durations)
        fixed = wall - test * len(durations) / workers
        return Measure(wall, after - before, startup_s, ended - last_stop, test, fixed)

    return started, measure


def _cpu(groups: tuple[CpuGroup, CpuGroup] | None) -> float:
    """CPU-seconds so far: the runs' and the stack's cgroups, else the whole machine's busy time."""
    return sum(group.seconds() for group in groups) if groups else machine_busy()[0]


@contextlib.contextmanager
def _groups(bench: Bench) -> Iterator[tuple[CpuGroup, CpuGroup] | None]:
    """A cgroup for the runs and one for the stack (its processes moved in), or None without cgroups."""
    if not CpuGroup.available():
        yield None
        return
    runner, stack = CpuGroup("runner"), CpuGroup("stack")
    try:
        embedded = bench.embedded
        for pid in tree(embedded.pids.values(), children_map()):
            stack.add(pid)
        yield runner, stack
    finally:
        runner.close()
        stack.close()


def _chromium() -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        own = playwright.chromium.executable_path
    found = find_chromium(own)
    return found or own


def team_venv(workdir: Path) -> Path:
    """``TEAM_VENV``'s python, made on first use, with this checkout's pitstop installed afresh from a
    wheel built from a copy of its sources (so the checkout keeps no build output)."""
    python = TEAM_VENV / "bin/python"
    if not python.exists():
        log.info("making the team's virtual environment (%s)", TEAM_VENV)
        subprocess.run([sys.executable, "-m", "venv", str(TEAM_VENV)], check=True, timeout=300)
        extras = ["pytest-xdist>=3.6", "stripe>=10"]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *extras], check=True, timeout=600)
    sources = workdir / "pitstop-sources"
    shutil.rmtree(sources, ignore_errors=True)
    sources.mkdir()
    for path in ROOT.iterdir():
        if path.is_file():
            shutil.copy2(path, sources / path.name)
    for folder in ("harness", "scenarios", "fixtures"):
        shutil.copytree(ROOT / folder, sources / folder, ignore=shutil.ignore_patterns("__pycache__"))
    log.info("installing pitstop from a wheel into the team's virtual environment")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
                    str(sources)], check=True, timeout=600, capture_output=True)  # fmt: skip
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(sources)], check=True, timeout=600,
                   capture_output=True)  # fmt: skip
    return python


def install_peer() -> Path:
    """The peer's sources in ``HOME`` with ``@playwright/test`` of the Python driver's version (npm)."""
    import playwright

    driver = json.loads((Path(playwright.__file__).parent / "driver/package/package.json").read_text())[
        "version"
    ]
    package = json.loads((PEER / "package.json").read_text())
    pinned = {**package.get("devDependencies", {}), **package.get("dependencies", {})}["@playwright/test"]
    if pinned != driver:
        raise RuntimeError(
            f"benchmarks/peer/package.json pins @playwright/test {pinned}, the driver is {driver}"
        )
    HOME.mkdir(exist_ok=True)
    for path in PEER.iterdir():
        if path.is_file():
            shutil.copy(path, HOME / path.name)
    stamp = HOME / ".installed"
    if not stamp.exists() or stamp.read_text() != json.dumps(package, sort_keys=True):
        log.info("npm install (the peer's packages)")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"--cache={HOME / '.cache'}"],
            cwd=HOME, check=True, timeout=600, capture_output=True,
        )  # fmt: skip
        stamp.write_text(json.dumps(package, sort_keys=True))
    return HOME
