"""The target under pytest-xdist: the controller starts it when a worker first needs it.

The controller owns the target (it starts the embedded stack, runs the start-of-run
reset, writes the report and stops the stack), but only a worker knows whether a test
needs it. So the controller answers on a loopback port of its own (``TargetBroker``: one
JSON line each way, with a random key) and starts the target on the first request; a
suite whose tests use no pitstop fixture starts nothing.

One thread answers every request, in turn, and lives until the broker is released: the
stack's servers are its children, and Linux ends a child whose parent *thread* exits
(``PR_SET_PDEATHSIG``, ``harness.stack.embedded``). So the run ends in three steps:
``stop`` (no more requests; the one in hand is finished), then the target stops, then
``release``.
"""

from __future__ import annotations

import hmac
import json
import secrets
import socket
import socketserver
import threading
from collections.abc import Callable
from typing import Any

from harness import errors
from harness.errors import PitstopError, Unreachable
from harness.json_types import JSON

HOST = "127.0.0.1"
# How long a worker waits for the target: the controller may be starting the embedded stack,
# for one worker after another.
FETCH_TIMEOUT_S = 300.0
# How long the controller waits for a worker's request once it connected.
REQUEST_TIMEOUT_S = 10.0
# How often the serving loop looks whether it was stopped.
POLL_S = 0.05


class TargetBroker:
    """On the controller: answers each worker's request with ``provide()``, called once."""

    def __init__(self, provide: Callable[[], JSON]) -> None:
        self._provide = provide
        self._answer: dict[str, Any] | None = None
        self._key = secrets.token_hex(16)
        self._released = threading.Event()
        broker = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = REQUEST_TIMEOUT_S

            def handle(self) -> None:
                try:
                    request = json.loads(self.rfile.readline(4096) or b"{}")
                except (OSError, ValueError):
                    return  # a peer that went away, or not a worker
                if not hmac.compare_digest(str(request.get("key", "")), broker._key):
                    return
                self.wfile.write(json.dumps(broker._answered(), default=str).encode() + b"\n")

        self._server = _Server((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._serve, name="pitstop-target", daemon=True)
        self._thread.start()

    def wire(self) -> JSON:
        """What a worker needs to ask (plain values, as execnet carries them)."""
        host, port = self._server.server_address[:2]
        return {"host": host, "port": port, "key": self._key}

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=POLL_S)
        self._released.wait()  # the stack's servers are this thread's children: it outlives them

    def _answered(self) -> dict[str, Any]:
        """The target, or the error starting it gave: asked for once, answered to every worker alike."""
        if self._answer is None:
            try:
                self._answer = {"target": self._provide()}
            except PitstopError as exc:
                self._answer = {"error": type(exc).__name__, "message": exc.message, "fix": exc.fix}
            except Exception as exc:  # not pitstop's: said once, to every worker, never retried
                message = f"starting the target failed: {type(exc).__name__}: {exc}"
                self._answer = {"error": "PitstopError", "message": message, "fix": None}
        return self._answer

    def stop(self) -> None:
        """Answer no more requests; returns once the one in hand (a target starting) is answered."""
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        """Let the serving thread end: call it once the target has stopped (see the module's note)."""
        self._released.set()
        self._thread.join(timeout=5)


class _Server(socketserver.TCPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A worker that went away mid-request (killed, timed out): the next is served as usual."""


def fetch(wire: JSON, timeout_s: float = FETCH_TIMEOUT_S) -> JSON:
    """On a worker: the target the controller's broker hands over (``TargetBroker.wire``), or its error."""
    try:
        with socket.create_connection((wire["host"], wire["port"]), timeout=timeout_s) as connection:
            connection.sendall(json.dumps({"key": wire["key"]}).encode() + b"\n")
            with connection.makefile("rb") as answer_file:
                line = answer_file.readline()
    except OSError as exc:
        raise Unreachable(f"the xdist controller did not hand over the target: {exc}") from None
    if not line:
        raise Unreachable("the xdist controller ended without handing over the target")
    answer = json.loads(line)
    if "target" in answer:
        target: JSON = answer["target"]
        return target
    error = getattr(errors, answer["error"], None)
    if not (isinstance(error, type) and issubclass(error, PitstopError)):
        error = PitstopError
    raise error(answer["message"], fix=answer["fix"])
