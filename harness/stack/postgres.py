"""A throwaway PostgreSQL on 127.0.0.1, from the build that the ``pgserver`` package ships.

pgserver's own server object listens on a unix socket only and keeps
per-user state across processes; the embedded stack needs a TCP port that
any client can use and a server that goes away with the stack. So this runs
pgserver's ``initdb`` and ``pg_ctl`` itself, in a temporary directory that it
removes on stop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from harness.errors import PitstopError, Unreachable
from harness.stack import processes

START_TIMEOUT_S = 30
# A throwaway database: durability buys nothing and costs every commit a
# disk flush (PostgreSQL docs, "Non-Durable Settings").
NON_DURABLE = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
# Resets churn the same rows many times a second: vacuum them promptly.
AUTOVACUUM = ("autovacuum_naptime=1s",)
# PostgreSQL refuses to run as root; pgserver runs it as this user then.
SERVICE_USER = "pgserver"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _bindir() -> Path:
    try:
        with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR, which we don't use
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:
        raise PitstopError(
            "the embedded PostgreSQL needs the pgserver package",
            fix="pip install 'pytest-pitstop[stack]', or give a database with --database-url",
        ) from None
    # pgserver makes one function per bundled binary at import time.
    return Path(pgserver.pg_config(["--bindir"]).strip())  # type: ignore[attr-defined]


class LocalPostgres:
    """Start with ``with LocalPostgres() as pg:``; ``pg.url()`` is the connection string."""

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        on_directory: Callable[[Path, Path], None] | None = None,
    ) -> None:
        """``on_directory(directory, data_dir)``: called on start, before the server runs, with the
        temporary directory it makes and the data directory in it (the embedded stack's watchdog
        is told of both: ``harness.stack.watchdog``)."""
        self.host = host
        self.port = port or free_port(host)
        self._on_directory = on_directory
        self._dir: Path | None = None
        self._user: str | None = None

    @property
    def data_dir(self) -> Path:
        assert self._dir is not None, "not started"
        return self._dir / "data"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, while the server runs."""
        if self._dir is None:
            return None
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        return None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"

    def start(self) -> LocalPostgres:
        bindir = _bindir()
        self._dir = Path(tempfile.mkdtemp(prefix="pitstop-pg-"))
        try:
            if self._on_directory is not None:
                self._on_directory(self._dir, self.data_dir)
            if os.geteuid() == 0:
                self._user = _service_user(self._dir, bindir)
            self._run(
                bindir / "initdb",
                "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-sync",
            )  # fmt: skip
            self.pg_ctl("start")
        except BaseException:
            self.stop()
            raise
        return self

    def pg_ctl(self, action: str) -> None:
        """Run ``pg_ctl start|stop|restart`` on this server and wait for it."""
        settings = [f"-c {o}" for o in (*NON_DURABLE, *AUTOVACUUM)]
        options = " ".join([f"-h {self.host}", f"-p {self.port}", f"-k {self._dir}", *settings])
        args = ["-D", str(self.data_dir), "-w", "-t", str(START_TIMEOUT_S)]
        if action in ("start", "restart"):
            args += ["-l", str(self.data_dir / "server.log"), "-o", options]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        self._run(_bindir() / "pg_ctl", *args, action)

    def stop(self) -> None:
        """Stop the server (if it runs) and remove its directory."""
        if self._dir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            pid = self.pid
            try:
                self.pg_ctl("stop")
            except PitstopError:  # already gone, or stuck: then ended by its pid, with its children
                if pid is not None and str(self.data_dir) in processes.command_line(pid):
                    processes.stop_pid(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, *command: str | Path) -> None:
        result = subprocess.run(
            [str(c) for c in command],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + 10,
            check=False,
        )
        if result.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unreachable(
                f"PostgreSQL failed: {Path(command[0]).name} {command[-1]} exited "
                f"{result.returncode}: {(result.stderr or result.stdout).strip()}\n{tail}".rstrip(),
                fix="see the message above; is the port free and /tmp writable?",
            )


def _service_user(directory: Path, bindir: Path) -> str:
    """Make ``directory`` and the binaries usable by the unprivileged user PostgreSQL runs as."""
    import pwd

    from pgserver.utils import ensure_prefix_permissions

    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", SERVICE_USER], check=True, timeout=START_TIMEOUT_S
        )
    ensure_prefix_permissions(bindir)  # as pgserver does: let that user reach its build
    directory.chmod(0o755)
    shutil.chown(directory, SERVICE_USER, SERVICE_USER)
    return SERVICE_USER
