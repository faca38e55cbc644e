"""The safety guard: destructive work runs only against a clearly-test target.

The checks look at what a connection actually reached (host and address
after DNS), not only at what a variable says.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

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
