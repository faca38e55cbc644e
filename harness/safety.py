"""The safety guard: destructive work runs only against a clearly-test target.

The checks look at what a connection actually reached (host and address
after DNS), not only at what a variable says.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict

from harness.errors import Refused

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


@dataclass(frozen=True)
class Endpoint:
    """The host a connection reached: its name as given, and the address used."""

    host: str
    address: str | None = None

    @property
    def is_socket(self) -> bool:
        return self.host.startswith(("/", "@"))

    def describe(self) -> str:
        if self.is_socket:
            return f"unix socket {self.host}"
        if self.address and self.address != self.host:
            return f"{self.host} ({self.address})"
        return self.host


def check_stripe_key(key: str | None) -> None:
    """Refuse a live Stripe key, always: tests must never move real money."""
    if key and key.startswith(LIVE_KEY_PREFIXES):
        raise Refused(
            f"STRIPE_SECRET_KEY is a live key ({key[:8]}…); pitstop never runs with one",
            fix="use a test key (sk_test_…) or unset STRIPE_SECRET_KEY",
        )


def is_loopback(name: str) -> bool:
    """True for a unix socket path, ``localhost`` and loopback addresses (127/8, ::1)."""
    if name.startswith(("/", "@")):
        return True
    bare = name.strip("[]").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_endpoint(endpoint: Endpoint, allowed_hosts: frozenset[str], *, what: str) -> None:
    """Refuse a target that is neither loopback nor allow-listed.

    The address actually connected to decides: a name that resolves elsewhere
    than loopback is not loopback, whatever it is called.
    """
    if endpoint.is_socket:
        return
    if {endpoint.host.lower(), (endpoint.address or "").lower()} & allowed_hosts:
        return
    if is_loopback(endpoint.address or endpoint.host):
        return
    raise Refused(
        f"the {what} at {endpoint.describe()} is not on this machine and not allow-listed",
        fix=f"if it is a test target, allow it with --allow-host {endpoint.host} "
        f"or PITSTOP_ALLOWED_HOSTS={endpoint.host}",
    )


def check_database_url(url: str, allowed_hosts: frozenset[str]) -> None:
    """Refuse, before connecting, a connection string that names a host off this machine.

    Each host it names (or ``PGHOST``) must be allow-listed or resolve to
    loopback addresses only; a name that does not resolve is refused too, since
    only what is known to be local passes. After connecting, the endpoint
    actually reached is checked again (``check_endpoint``).
    """
    params = conninfo_to_dict(url)
    hosts = str(params.get("host") or os.environ.get("PGHOST") or "").split(",")
    addresses = str(params.get("hostaddr") or "").split(",")
    for i, host in enumerate(hosts):
        address = addresses[i] if i < len(addresses) and addresses[i] else None
        name = host or address
        if not name or name.lower() in allowed_hosts or name.startswith(("/", "@")):
            continue  # no host: libpq's default unix socket
        for resolved in [address] if address else _resolve(name):
            check_endpoint(Endpoint(host=name, address=resolved), allowed_hosts, what="database")


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        raise Refused(
            f"the database host {host} does not resolve here, so it cannot be shown to be on this machine",
            fix=f"if it is a test target, allow it with --allow-host {host} or PITSTOP_ALLOWED_HOSTS={host}",
        ) from None
    return sorted({str(info[4][0]) for info in infos})
