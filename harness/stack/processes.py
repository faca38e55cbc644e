"""Child processes that end together with their own children.

A process pitstop starts runs in a process group (and session) of its own
(``start_new_session=True``), so that whatever it starts in turn can be found
and stopped with it: ``stop`` looks in /proc for the process's descendants and
the members of its group *before* signalling any of them (once a parent is
gone its children are re-parented to init and no longer look like ours), sends
them SIGTERM, waits a bounded time, then SIGKILLs what is left. Only the
processes found that way are signalled, each by its pid, and only while it is
the same process (its start time in /proc/PID/stat has not changed), so a
recycled pid is never hit. ``PR_SET_PDEATHSIG`` covers a parent that dies
without stopping its children, but only for its direct children; this covers
the grandchildren (a Node driver under ``python -m playwright``, say).

Linux only (/proc); elsewhere ``stop`` ends the process alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
STOP_TIMEOUT_S = 10.0
KILL_TIMEOUT_S = 5.0
_POLL_S = 0.05


@dataclass(frozen=True)
class ProcessEntry:
    """One process as /proc shows it (fields of /proc/PID/stat)."""

    pid: int
    ppid: int
    pgid: int
    state: str  # R, S, D, Z (zombie: exited, not yet reaped), ...
    started: int  # clock ticks after boot: with the pid, names the process uniquely

    @property
    def ended(self) -> bool:
        """Exited (a zombie waiting for its parent, or dead)."""
        return self.state in ("Z", "X", "x")


def entry(pid: int) -> ProcessEntry | None:
    """The process ``pid`` now, or None once it has gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    try:
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        fields = text.rsplit(")", 1)[1].split()
        return ProcessEntry(pid, int(fields[1]), int(fields[2]), fields[0], int(fields[19]))
    except (IndexError, ValueError):
        return None


def table() -> dict[int, ProcessEntry]:
    """Every process on the machine (one scan of /proc)."""
    found: dict[int, ProcessEntry] = {}
    with contextlib.suppress(OSError):
        for path in PROC.iterdir():
            if path.name.isdigit():
                found_entry = entry(int(path.name))
                if found_entry is not None:
                    found[found_entry.pid] = found_entry
    return found


def descendants(pid: int, processes: Mapping[int, ProcessEntry] | None = None) -> list[ProcessEntry]:
    """The children of ``pid``, theirs, and so on (from /proc, or from ``processes``)."""
    processes = table() if processes is None else processes
    children: dict[int, list[ProcessEntry]] = {}
    for process in processes.values():
        children.setdefault(process.ppid, []).append(process)
    found: list[ProcessEntry] = []
    todo = list(children.get(pid, ()))
    while todo:
        process = todo.pop()
        if process.pid != pid and process not in found:
            found.append(process)
            todo.extend(children.get(process.pid, ()))
    return found


def command_line(pid: int) -> str:
    """The process's command line, as ``ps`` shows it ('' once it has gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    if raw:
        return raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    with contextlib.suppress(OSError):  # a kernel thread, or a zombie: its name
        return "[" + (PROC / str(pid) / "comm").read_text().strip() + "]"
    return ""


def environment_has(pid: int, name: str, value: str) -> bool:
    """Whether the process started with ``name=value`` in its environment (False when unreadable)."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return f"{name}={value}".encode() in raw.split(b"\0")


def alive(process: ProcessEntry) -> bool:
    """Still running, and still the same process (not a recycled pid)."""
    now = entry(process.pid)
    return now is not None and now.started == process.started and not now.ended


def tree(pid: int) -> list[ProcessEntry]:
    """``pid``, its descendants, and the other members of its process group when it leads one."""
    processes = table()
    found = descendants(pid, processes)
    own = processes.get(pid)
    if own is not None:
        found.insert(0, own)
        if own.pgid == pid:
            found += [p for p in processes.values() if p.pgid == pid and p not in found]
    return found


def signal_all(processes: Iterable[ProcessEntry], signum: int) -> None:
    """Send ``signum`` to each process that is still the one found (by pid)."""
    for process in processes:
        if alive(process):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, signum)


def wait_gone(processes: Iterable[ProcessEntry], timeout: float) -> list[ProcessEntry]:
    """Wait (at most ``timeout`` seconds) for the processes to end; those still running."""
    deadline = time.monotonic() + timeout
    left = [p for p in processes if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(_POLL_S)
        left = [p for p in left if alive(p)]
    return left


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = STOP_TIMEOUT_S) -> None:
    """End ``process`` and everything it started: SIGTERM, ``timeout`` s, then SIGKILL; reaped.

    Safe to repeat, and on a process that has exited already (its group may live on).
    """
    if process.returncode is None:
        found = tree(process.pid)  # before reaping it: then its pid is ours
    else:  # reaped: the pid is no longer ours, but group members keep the group id reserved
        found = [p for p in table().values() if p.pgid == process.pid and p.pid != process.pid]
    own = [p for p in found if p.pid == process.pid]
    signal_all(found, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    if own:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.0, deadline - time.monotonic()))
    left = wait_gone(found, max(0.0, deadline - time.monotonic()))
    if left or process.poll() is None:
        signal_all(left, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # killed: reaped at our exit at the latest
            process.wait(KILL_TIMEOUT_S)
        wait_gone(left, KILL_TIMEOUT_S)


def stop_pid(pid: int, signum: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> None:
    """End a process that is not our child (a daemon we started: PostgreSQL's postmaster) and its
    descendants: ``signum``, ``timeout`` s, then SIGKILL."""
    found = tree(pid)
    signal_all(found, signum)
    left = wait_gone(found, timeout)
    if left:
        signal_all(left, signal.SIGKILL)
        wait_gone(left, KILL_TIMEOUT_S)


def run(
    command: list[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run(command, capture_output=True)``, in a group of its own: on timeout the
    command is stopped with everything it started (``subprocess.run`` kills the command alone)."""
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            stop(process, KILL_TIMEOUT_S)  # on timeout or interrupt; after an exit, what it left in its group
    return subprocess.CompletedProcess(command, process.returncode, out, err)
