"""The end of every test run: no process that the run started is still alive.

A pytest plugin, registered by the repository's conftest.py. Each pytest
process checks its own: a run without workers, and under xdist each worker
and the controller. At configure time the process puts a mark of its own in
the environment its children inherit (``PITSTOP_RUN_MARK``). After everything
has been torn down (the last of the ``pytest_sessionfinish`` hooks: fixtures
of every scope, the embedded stack the pitstop plugin may have started,
xdist's workers), it looks in /proc for live processes that descend from it
or that carry its mark (a process whose parent has exited is re-parented to
init, so it no longer descends from us, but its environment still says who
started it), gives them a bounded grace period to end (a process that is
still exiting is not a leftover), then fails the run naming each pid and
command line, and stops them. A worker hands its findings to the controller,
which reports them with its own.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from collections.abc import Generator
from typing import Any

import pytest

from harness.stack import processes

MARK = "PITSTOP_RUN_MARK"
# How long processes still there at the end may take to exit before they count as left behind.
GRACE_S = float(os.environ.get("PITSTOP_LEFTOVERS_GRACE_S", "10"))
_WORKER_KEY = "pitstop_processes_left"
_OWN_MARK = pytest.StashKey[str]()
_FROM_WORKERS = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    mark = f"{os.getpid()}-{secrets.token_hex(8)}"
    os.environ[MARK] = mark  # every process started from here on inherits it
    config.stash[_OWN_MARK] = mark
    config.stash[_FROM_WORKERS] = []


def started_here(mark: str) -> list[processes.ProcessEntry]:
    """The live processes this process started: its descendants, those carrying its mark, and
    theirs (PostgreSQL's children overwrite the environment /proc shows; their postmaster does not)."""
    me = os.getpid()
    table = processes.table()
    roots = [me] + [
        p.pid for p in table.values() if p.pid != me and processes.environment_has(p.pid, MARK, mark)
    ]
    found = {p.pid: p for p in table.values() if p.pid in roots[1:]}
    for root in roots:
        found.update((p.pid, p) for p in processes.descendants(root, table))
    found.pop(me, None)
    return [p for p in found.values() if processes.alive(p)]


def left_behind(mark: str, grace_s: float) -> list[processes.ProcessEntry]:
    """``started_here``, after waiting up to ``grace_s`` for them to end."""
    deadline = time.monotonic() + grace_s
    left = started_here(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = started_here(mark)
    return left


def describe(process: processes.ProcessEntry) -> str:
    return f"pid {process.pid} (parent {process.ppid}): {processes.command_line(process.pid) or '?'}"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: a worker's leftovers, as it reported them."""
    left = getattr(node, "workeroutput", {}).get(_WORKER_KEY) or []
    worker = getattr(getattr(node, "gateway", None), "id", "a worker")
    node.config.stash[_FROM_WORKERS].extend(f"{line} [started by {worker}]" for line in left)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None]:
    # trylast: innermost of the wrappers, so this runs after every plain sessionfinish hook
    # (fixture teardown, the pitstop plugin's stack, xdist's shutdown of its workers) and
    # before the terminal summary and before a worker sends its results.
    result = yield
    config = session.config
    found = left_behind(config.stash[_OWN_MARK], GRACE_S)
    lines = [describe(p) for p in found]
    processes.signal_all(found, signal.SIGKILL)  # reported below; not left to run on
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput[_WORKER_KEY] = lines
        return result
    lines = config.stash[_FROM_WORKERS] + lines
    if lines:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        title = f"{len(lines)} process(es) started by this run still running at its end (now killed)"
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            reporter.write_sep("=", title, red=True)
            for line in lines:
                reporter.write_line(line)
        else:
            print(title, *lines, sep="\n", file=sys.stderr)
    return result
