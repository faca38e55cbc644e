"""The embedded stack's watchdog (harness/stack/watchdog.py): a stack goes with the process that started it.

A stack whose owner is SIGKILLed leaves no process and no directory behind; a
stack stopped normally leaves no watchdog; the pipe the watchdog waits on is
held by the owner and the watchdog only, not by the stack's parts nor by a
child forked from the owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack.embedded import EmbeddedStack, processes

START_S = 90  # a stack starts in seconds; bounded generously for a loaded machine
GONE_S = 15  # the owner killed: everything of the stack gone within this

OWNER = """
import json, sys, time
from harness.stack.embedded import EmbeddedStack

stack = EmbeddedStack()
stack.start()
print(json.dumps({
    "pids": {**stack.pids, "watchdog": stack.watchdog_pid},
    "directories": [str(d) for d in stack.directories],
}), flush=True)
time.sleep(600)
"""


@pytest.fixture(autouse=True)
def _clean_environment(no_target_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PITSTOP_APP_UI", raising=False)


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            return process.stdout.readline()
        assert process.poll() is None, f"the stack's owner exited ({process.returncode})"
    raise AssertionError(f"the stack did not start within {timeout} s")


def _pipe_of(watchdog: int) -> str:
    """The pipe the watchdog reads from, as /proc names it ("pipe:[INODE]")."""
    links = [os.readlink(fd) for fd in Path(f"/proc/{watchdog}/fd").iterdir()]
    pipes = [link for link in links if link.startswith("pipe:")]
    assert len(pipes) == 1, links  # stdin and stdout are /dev/null; stderr is this run's
    return pipes[0]


def _holders(pipe: str) -> set[int]:
    """Every process with a descriptor on ``pipe``."""
    found = set()
    for pid in processes.table():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == pipe:
                    found.add(pid)
                    break
            except OSError:
                continue
    return found


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A process that starts a stack, prints its pids and directories, then sleeps."""
    errors = tmp_path / "owner.err"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", OWNER], stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        yield process, errors
    finally:
        if process.poll() is None:
            processes.stop(process)
        if process.stdout is not None:
            process.stdout.close()


def test_a_stack_whose_owner_is_killed_is_stopped_and_removed(
    owner: tuple[subprocess.Popen[str], Path],
) -> None:
    process, errors = owner
    data = json.loads(_read_line(process, START_S))
    pids: dict[str, int] = data["pids"]
    directories = [Path(d) for d in data["directories"]]
    assert set(pids) == {"app", "stripe", "localstripe", "postgres", "watchdog"}
    assert len(directories) == 2 and all(d.is_dir() for d in directories)
    # Every process of the stack, with its start time (a recycled pid is not one of them).
    stack = {p.pid: p for pid in pids.values() for p in processes.tree(pid)}
    assert set(pids.values()) <= set(stack)
    assert len(stack) > len(pids)  # PostgreSQL's children, at least

    killed = time.monotonic()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    try:
        deadline = killed + GONE_S
        while time.monotonic() < deadline:
            left = [p for p in stack.values() if processes.alive(p)]
            if not left and not any(d.exists() for d in directories):
                break
            time.sleep(0.1)
        left = [p for p in stack.values() if processes.alive(p)]
        assert not left, [f"{p.pid}: {processes.command_line(p.pid)}" for p in left]
        assert not any(d.exists() for d in directories), directories
        assert "the embedded stack's owner died" in errors.read_text()
    finally:  # a failure above leaves nothing running either
        processes.signal_all(stack.values(), signal.SIGKILL)


def test_only_the_owner_and_the_watchdog_hold_the_pipe_and_a_normal_stop_ends_the_watchdog() -> None:
    stack = EmbeddedStack()
    with stack:
        watchdog = stack.watchdog_pid
        assert watchdog is not None
        found = processes.entry(watchdog)
        assert found is not None and processes.alive(found)
        assert "harness.stack.watchdog" in processes.command_line(watchdog)
        assert found.pgid == watchdog  # a group and session of its own: no terminal signal reaches it
        pipe = _pipe_of(watchdog)
        parts = {p.pid for pid in stack.pids.values() for p in processes.tree(pid)}
        assert parts
        assert _holders(pipe) == {os.getpid(), watchdog}  # none of the parts, nor theirs
        child = os.fork()
        if child == 0:  # a child forked without exec: the write end is closed in it
            code = 2
            try:  # its own descriptors only (/proc/self/fd), then out: nothing of pytest runs here
                links = []
                for fd in os.listdir("/proc/self/fd"):
                    with contextlib.suppress(OSError):  # the listing's own, closed by now
                        links.append(os.readlink(f"/proc/self/fd/{fd}"))
                code = 1 if pipe in links else 0
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "a forked child holds the watchdog's pipe"
    assert stack.watchdog_pid is None
    after = processes.entry(watchdog)
    assert after is None or after.started != found.started  # ended and reaped, not a zombie of ours
