"""Run a Python program with its listening sockets kept on loopback.

``python -m harness.stack.loopback MODULE [ARGS...]`` runs MODULE as ``python -m``
would, after making any bind to a wildcard address ("", 0.0.0.0, ::) bind to
127.0.0.1 instead (IPv4-mapped on an IPv6 socket). localstripe binds to
``::`` and offers no option; servers pitstop starts must not be reachable
from other machines.
"""

from __future__ import annotations

import runpy
import socket
import sys
from typing import Any

_WILDCARDS = ("", "0.0.0.0", "::")
_bind = socket.socket.bind


def _loopback_bind(self: socket.socket, address: Any) -> None:
    if isinstance(address, tuple) and address and address[0] in _WILDCARDS:
        host = "::ffff:127.0.0.1" if self.family == socket.AF_INET6 else "127.0.0.1"
        address = (host, *address[1:])
    _bind(self, address)


def run_module(module: str, args: list[str]) -> None:
    """Run ``python -m MODULE ARGS`` in this process, its wildcard binds kept on loopback."""
    socket.socket.bind = _loopback_bind  # type: ignore[method-assign,assignment]
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python -m harness.stack.loopback MODULE [ARGS...]")
    run_module(sys.argv[1], sys.argv[2:])


if __name__ == "__main__":
    main()
