"""The embedded stack's watchdog: when the process that started a stack dies, the stack goes too.

``EmbeddedStack`` (``harness.stack.embedded``) starts one before anything else, as
``python -m harness.stack.watchdog FD``: a process in a session of its own that
holds the read end (FD) of a pipe whose write end only the stack's owner
holds. The write end is close-on-exec and closed in a forked child
(``os.register_at_fork``); ``pass_fds`` hands the read end to the watchdog
alone. The owner writes one JSON line per thing the stack makes, as it makes
it (``Watchdog.watch_group``, ``watch_postgres``, ``watch_dir``)::

    {"group": PID, "started": TICKS}   a part: the process group PID leads (start time TICKS)
    {"postgres": DATA_DIR}            a PostgreSQL server: the postmaster in DATA_DIR/postmaster.pid
    {"dir": PATH}                     a temporary directory
    {"done": true}                    the owner stopped the stack itself: nothing left to do

The watchdog blocks reading them. When the owner dies, however it dies
(SIGKILL included), the kernel closes its end and the read returns EOF
without ``done``: the watchdog then stops every part's process group
(SIGTERM, or SIGQUIT, PostgreSQL's immediate shutdown, for the postmaster
and its children; SIGKILL after ``GRACE_S``) and removes the directories.
Processes are found as ``harness.stack.processes`` finds them and signalled by
pid only while their start time is the one found, so a recycled pid is never
hit. A stack stopped normally tells its watchdog ``done`` and waits for it to
exit (``Watchdog.stop``).

Linux only (/proc).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness.errors import PitstopError
from harness.stack import processes

# A part's time to end after SIGTERM (or the postmaster's after SIGQUIT) before it is killed.
GRACE_S = 5.0
# The watchdog's own time to exit once told ``done``.
EXIT_TIMEOUT_S = 5.0

# The write ends this process holds: closed in every child forked from it (one that execs
# closes them anyway: they are close-on-exec), so only the owner keeps a watchdog waiting.
_OWNED: set[int] = set()


def _close_owned_in_child() -> None:
    for fd in list(_OWNED):
        with contextlib.suppress(OSError):
            os.close(fd)
    _OWNED.clear()


os.register_at_fork(after_in_child=_close_owned_in_child)


class Watchdog:
    """The owner's side: starts the watchdog process and tells it what to stop if the owner dies."""

    def __init__(self) -> None:
        """Start it; it says what it did on this process's stderr."""
        read, write = os.pipe()  # both non-inheritable: no child gets either by accident
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "harness.stack.watchdog", str(read)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(read,),  # the read end, and of this pipe nothing else
                start_new_session=True,  # not stopped by the owner's terminal signals, nor with its group
            )
        except BaseException:
            os.close(write)
            raise
        finally:
            os.close(read)  # the watchdog's now: while the owner held it, EOF could never come
        self._write: int | None = write
        _OWNED.add(write)

    @property
    def pid(self) -> int | None:
        """The watchdog process's id while it runs (None once stopped)."""
        return self._process.pid if self._process is not None else None

    def watch_group(self, pid: int) -> None:
        """Stop the process group ``pid`` leads (a part started with ``start_new_session``)."""
        found = processes.entry(pid)
        if found is not None:  # gone already: nothing of it to stop by its pid
            self._send({"group": pid, "started": found.started})

    def watch_postgres(self, data_dir: Path) -> None:
        """Stop the PostgreSQL server of ``data_dir`` (sent before it starts: its pid is read then)."""
        self._send({"postgres": str(data_dir)})

    def watch_dir(self, path: Path) -> None:
        """Remove ``path`` (after the processes have been stopped)."""
        self._send({"dir": str(path)})

    def stop(self) -> None:
        """The owner stopped the stack itself: dismiss the watchdog and wait for it. Safe to repeat."""
        if self._write is not None:
            with contextlib.suppress(OSError):
                self._send({"done": True})
            _OWNED.discard(self._write)
            os.close(self._write)
            self._write = None
        if self._process is not None:
            try:
                self._process.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                processes.stop(self._process, EXIT_TIMEOUT_S)
            self._process = None

    def _send(self, message: dict[str, object]) -> None:
        if self._write is None:
            raise PitstopError("the stack's watchdog was stopped already")
        line = (json.dumps(message) + "\n").encode()
        try:
            os.write(self._write, line)  # shorter than PIPE_BUF: written whole or not at all
        except BrokenPipeError:
            code = self._process.poll() if self._process is not None else None
            raise PitstopError(
                f"the stack's watchdog exited (code {code}): nothing would stop the stack if this "
                "process died",
                fix="start the stack again",
            ) from None


# -- the watchdog process ------------------------------------------------------------


@dataclass
class Orders:
    """What the owner said to stop and remove."""

    groups: list[tuple[int, int]] = field(default_factory=list)  # (pid, start time)
    postgres: list[Path] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)
    done: bool = False

    def read(self, lines: IO[bytes]) -> None:
        """Until the owner says ``done`` or its end closes (EOF): a blocking read, no polling."""
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("done"):
                self.done = True
                return
            if "group" in message:
                self.groups.append((int(message["group"]), int(message["started"])))
            elif "postgres" in message:
                self.postgres.append(Path(message["postgres"]))
            elif "dir" in message:
                self.dirs.append(Path(message["dir"]))


def group(pid: int, started: int, table: dict[int, processes.ProcessEntry]) -> list[processes.ProcessEntry]:
    """The processes of the group ``pid`` led when it started at ``started``: the leader and its
    descendants while it is that process, and the group's members, also once the leader has gone
    (the kernel reuses no pid while a group of that id has members; a member started no earlier
    than its leader). A pid that names another process now was free: the group has gone."""
    leader = table.get(pid)
    if leader is not None and leader.started != started:
        return []
    found = [leader, *processes.descendants(pid, table)] if leader is not None else []
    found += [p for p in table.values() if p.pgid == pid and p.started >= started and p not in found]
    return found


def postmaster(data_dir: Path, table: dict[int, processes.ProcessEntry]) -> list[processes.ProcessEntry]:
    """The PostgreSQL server of ``data_dir`` and its children (none when it is not running)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    main = table.get(pid)
    if main is None or str(data_dir) not in processes.command_line(pid):  # another process's pid now
        return []
    return [main, *processes.descendants(pid, table)]


def stop_all(orders: Orders) -> int:
    """Stop what ``orders`` name and remove their directories; how many processes were signalled."""
    table = processes.table()
    parts = [p for pid, started in orders.groups for p in group(pid, started, table)]
    servers = [p for data_dir in orders.postgres for p in postmaster(data_dir, table)]
    parts = [p for p in parts if p not in servers]
    processes.signal_all(servers, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
    processes.signal_all(parts, signal.SIGTERM)
    left = processes.wait_gone([*servers, *parts], GRACE_S)
    if left:
        processes.signal_all(left, signal.SIGKILL)
        processes.wait_gone(left, processes.KILL_TIMEOUT_S)
    for path in orders.dirs:
        shutil.rmtree(path, ignore_errors=True)
    return len(servers) + len(parts)


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1 or not args[0].isdigit():
        usage = "usage: python -m harness.stack.watchdog FD (started by harness.stack.embedded)"
        print(usage, file=sys.stderr)
        return 2
    orders = Orders()
    with os.fdopen(int(args[0]), "rb") as pipe:
        orders.read(pipe)
    if orders.done:
        return 0
    signalled = stop_all(orders)
    print(
        f"pitstop: the embedded stack's owner died: stopped its {signalled} process(es) "
        f"and removed {', '.join(str(d) for d in orders.dirs) or 'no directory'}",
        file=sys.stderr,
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
