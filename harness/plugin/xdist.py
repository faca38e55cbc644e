"""The target under pytest-xdist: the controller starts it when a worker first needs it.

The controller owns the target (it starts the embedded stack, runs the start-of-run
reset, writes the report and stops the stack), but only a worker knows whether a test
needs it. So the controller serves the target on a local socket of its own
(``TargetBroker``, a ``multiprocessing.connection`` listener with a random key) and
starts it on the first request; a suite whose tests use no pitstop fixture starts nothing.

One thread answers every request, in turn, and lives until the broker is closed: the
stack's servers are its children, and Linux ends a child whose parent *thread* exits
(``PR_SET_PDEATHSIG``, ``harness.stack.embedded``).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from harness import errors
from harness.errors import PitstopError, Unreachable
from harness.json_types import JSON

# How long a worker waits for the target: the controller may be starting the embedded stack.
FETCH_TIMEOUT_S = 300.0


class TargetBroker:
    """On the controller: answers each worker's request with ``provide()``, called once."""

    def __init__(self, provide: Callable[[], JSON]) -> None:
        self._provide = provide
        self._answer: tuple[Any, ...] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="pitstop-xdist-"))
        self._key = secrets.token_bytes(16)
        self._listener = Listener(str(self._dir / "target"), family="AF_UNIX", authkey=self._key)
        self._thread = threading.Thread(target=self._serve, name="pitstop-target", daemon=True)
        self._thread.start()

    def wire(self) -> JSON:
        """What a worker needs to ask (plain values, as execnet carries them)."""
        return {"address": str(self._listener.address), "key": self._key.hex()}

    def _serve(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except OSError:  # closed
                return
            with connection:
                try:
                    connection.recv()
                    connection.send(self._answered())
                except (OSError, EOFError):  # the worker went away while waiting
                    continue

    def _answered(self) -> tuple[Any, ...]:
        """The target, or the error starting it gave: asked for once, answered to every worker alike."""
        if self._answer is None:
            try:
                self._answer = ("target", self._provide())
            except PitstopError as exc:
                self._answer = ("error", type(exc).__name__, exc.message, exc.fix)
        return self._answer

    def close(self) -> None:
        """Stop answering; call it after the target has stopped (see the module's note)."""
        self._listener.close()
        self._thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)


def fetch(wire: JSON, timeout_s: float = FETCH_TIMEOUT_S) -> JSON:
    """On a worker: the target the controller's broker hands over (``TargetBroker.wire``), or its error."""
    try:
        connection: Connection = Client(wire["address"], family="AF_UNIX", authkey=bytes.fromhex(wire["key"]))
    except OSError as exc:
        raise Unreachable(f"the xdist controller did not answer for the target: {exc}") from None
    with connection:
        connection.send("target")
        if not connection.poll(timeout_s):
            raise Unreachable(f"the xdist controller did not hand over the target within {timeout_s:g} s")
        answer = connection.recv()
    if answer[0] == "target":
        target: JSON = answer[1]
        return target
    _, kind, message, fix = answer
    error = getattr(errors, kind, None)
    if not (isinstance(error, type) and issubclass(error, PitstopError)):
        error = PitstopError
    raise error(message, fix=fix)
