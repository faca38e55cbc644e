"""Real processes for the reference app's tests: localstripe and the app under uvicorn.

Both run as their own processes on free 127.0.0.1 ports, each in a process
group of its own, and are stopped with whatever they start
(``harness.stack.processes.stop``). Readiness is a bounded poll, never a fixed sleep.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from harness.stack import processes
from harness.stack.postgres import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def wait_until(
    check: Callable[[], bool], *, timeout: float = 10.0, interval: float = 0.05, what: str = "it"
) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Process:
    """A child process with a log file; ``stop()`` ends it and its children, by pid."""

    def __init__(self, name: str, argv: list[str], *, env: Mapping[str, str] | None, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=dict(env) if env is not None else None,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_ready(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {url} within {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> None:
        processes.stop(self.proc, timeout=10)
        self._log.close()


class LocalStripe(Process):
    """localstripe (GPL-3.0: run, never imported here) as the stack runs it: on loopback, its
    state in its own memory (``harness.stack.localstripe_run``), not in the shared /tmp/localstripe.pickle."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            "localstripe",
            [sys.executable, "-m", "harness.stack.localstripe_run", "--port", str(self.port)],
            env=None,
            log_dir=log_dir,
        )
        self.wait_ready(f"{self.url}/js.stripe.com/v3/")

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        response = httpx.post(
            f"{self.url}/_config/webhooks/{name}",
            data={"url": url, "secret": secret, "events[]": ["payment_intent.succeeded"]},
        )
        response.raise_for_status()


class AppServer(Process):
    """The reference app under uvicorn, configured through its environment like any deployment."""

    def __init__(self, name: str, env: Mapping[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "uvicorn", "--factory", "harness.stack.reference_app.main:create_app"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        super().__init__(name, argv, env={**os.environ, **env}, log_dir=log_dir)
        self.wait_ready(f"{self.url}/healthz")
