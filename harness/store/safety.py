"""The safety guard: destructive work runs only against a clearly-test target.

The checks look at what a connection actually reached (host and address
after DNS), not only at what a variable says.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict

from harness.errors import BadInput, Refused

LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


@dataclass(frozen=True)
class Endpoint:
    """The host a connection reached: its name as given, and the address used."""

    host: str
    address: str | None = None

    @property
    def is_socket(self) -> bool:
        # libpq connects over TCP to hostaddr whenever it is set, whatever host says.
        return self.host.startswith(("/", "@")) and not self.address

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
    try:
        params = conninfo_to_dict(url)
    except ProgrammingError as exc:
        raise BadInput(  # libpq quotes the fragment it could not read: often the password
            f"the database URL is not a valid connection string: {scrub(str(exc), passwords_in(url))}",
            fix="give a URL such as postgresql://user:password@127.0.0.1:5432/postgres",
        ) from None
    check_hosts_and_ports(params)  # before a host made of a password's pieces is looked up
    hosts = str(params.get("host") or os.environ.get("PGHOST") or "").split(",")
    addresses = str(params.get("hostaddr") or os.environ.get("PGHOSTADDR") or "").split(",")
    for i, host in enumerate(hosts):
        address = addresses[i] if i < len(addresses) and addresses[i] else None
        name = host or address
        if not name:
            continue  # no host, no address: libpq's default unix socket
        if address:  # what libpq connects to, whatever the host is called
            check_endpoint(Endpoint(host=name, address=address), allowed_hosts, what="database")
        elif not (name.lower() in allowed_hosts or name.startswith(("/", "@"))):
            for resolved in _resolve(name, what="database"):
                check_endpoint(Endpoint(host=name, address=resolved), allowed_hosts, what="database")


def url_host(url: str, *, what: str) -> str:
    """The host of an http(s) URL; anything else is bad input."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise BadInput(
            f"the {what} URL {url!r} is not valid: {exc}", fix="give a URL such as http://127.0.0.1:3000"
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise BadInput(
            f"the {what} URL {url!r} is not an http(s) URL with a host",
            fix="give a URL such as http://127.0.0.1:3000 or https://<ref>.supabase.co",
        )
    return host


def check_url(url: str, allowed_hosts: frozenset[str], *, what: str) -> list[Endpoint]:
    """Refuse, before connecting, an http(s) URL whose host is off this machine.

    Like ``check_database_url``: the name must be allow-listed or resolve to
    loopback addresses only. Returns the endpoints checked.
    """
    host = url_host(url, what=what)
    if host.lower() in allowed_hosts:
        return [Endpoint(host=host)]
    endpoints = [Endpoint(host=host, address=a) for a in _resolve(host, what=what)]
    for endpoint in endpoints:
        check_endpoint(endpoint, allowed_hosts, what=what)
    return endpoints


def check_supabase_key(key: str, url: str) -> None:
    """Refuse a Supabase key that is not a service-role key of the project at ``url``.

    A legacy key is a JWT: its claims are read without verifying the
    signature (pitstop has no secret, and needs none to see which key it was
    given): ``role`` must be ``service_role`` and ``ref``, where there is one,
    must be the project of a ``<ref>.supabase.co`` URL. A local ``supabase
    start`` key has no ref. A new-style key says what it is in its prefix.
    """
    fix = "use the project's service-role key (Project Settings > API keys; `supabase status` locally)"
    if key.startswith("sb_publishable_"):
        raise Refused("the Supabase key is a publishable key, not a secret (service-role) key", fix=fix)
    if key.startswith("sb_secret_"):
        return
    claims = jwt_claims(key)
    if claims is None:
        raise BadInput("the Supabase key is neither a JWT nor an sb_secret_ key", fix=fix)
    role = claims.get("role")
    if role != "service_role":
        raise Refused(f"the Supabase key is for role {role!r}, not service_role", fix=fix)
    ref = claims.get("ref")
    project = supabase_project_ref(url)
    if ref and project and ref != project:
        raise Refused(
            f"the Supabase key belongs to project {ref}, not to {project} (the URL's project)",
            fix=f"use the service-role key of project {project}, or the URL https://{ref}.supabase.co",
        )


def supabase_project_ref(url: str) -> str | None:
    """``abc`` for ``https://abc.supabase.co``; None for any other host (local, custom domain)."""
    host = (urlsplit(url).hostname or "").lower()
    for suffix in (".supabase.co", ".supabase.in"):
        if host.endswith(suffix) and host.count(".") == 2:
            return host.removesuffix(suffix)
    return None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT, unverified; None if ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _resolve(host: str, *, what: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        raise Refused(
            f"the {what} host {host} does not resolve here, so it cannot be shown to be on this machine",
            fix=f"if it is a test target, allow it with --allow-host {host} or PITSTOP_ALLOWED_HOSTS={host}",
        ) from None
    return sorted({str(info[4][0]) for info in infos})


# -- the database URL's password, never shown ----------------------------------------

# Where the database URL is named to the user.
DATABASE_URL_NAMED = "the database URL (--database-url / DATABASE_URL)"

# A URL's user:password@, found leniently (the URL may not parse): the user has no ':', '@' or
# '/'; the password runs to the first '@' (libpq's reading) or, if it has an '@' of its own, to the
# last (so both are taken). key=value's (or a URL query's) password=..., to the next key= or the end.
_URL_PASSWORD = (
    re.compile(r"^\s*[A-Za-z][\w+.-]*://[^:@/]*:(?P<pw>.*?)@", re.DOTALL),
    re.compile(r"^\s*[A-Za-z][\w+.-]*://[^:@/]*:(?P<pw>.*)@", re.DOTALL),
)
_KEYWORD_PASSWORD = re.compile(r"(?:^|[\s?&])password\s*=\s*(?P<pw>.*?)(?=\s+\w+\s*=|&\w+=|$)", re.DOTALL)
# The characters that, left unencoded in a URL's password, make libpq read it as something else.
_RESERVED = "/ @ : ? # %"


def passwords_in(url: str) -> tuple[str, ...]:
    """The password in a connection string, each way it may be written (as given, decoded,
    unquoted), longest first: what to scrub from the messages about it (``scrub``)."""
    found = [m["pw"] for pattern in _URL_PASSWORD if (m := pattern.search(url))]
    found += [m["pw"].strip() for m in _KEYWORD_PASSWORD.finditer(url)]
    found += [unquote(pw) for pw in found] + [pw.strip("'") for pw in found]
    try:
        parsed = conninfo_to_dict(url).get("password")
    except ProgrammingError:
        parsed = None
    if parsed:
        found.append(str(parsed))
    return tuple(sorted({pw for pw in found if pw}, key=len, reverse=True))


def scrub(text: str, passwords: tuple[str, ...]) -> str:
    """``text`` with each password, and each of its whitespace-separated pieces, as ``***``.

    A password or a piece of 3 characters or more goes wherever it appears; a shorter one only
    where it is quoted whole (libpq's ``"cd"``), since its letters may be in any word.
    """
    for password in passwords:
        for piece in sorted({password, *password.split()}, key=len, reverse=True):
            if len(piece) >= 3:
                text = text.replace(piece, "***")
            elif piece:
                text = re.sub(rf"([\"']){re.escape(piece)}\1", r"\1***\1", text)
    return text


def check_hosts_and_ports(params: Mapping[str, object]) -> None:
    """Refuse a port that is not a number, or a URL's host with an '@' in it: most often a
    password with a character a URL reserves, left unencoded, that made libpq read the rest of
    the URL as host and port. Neither is shown: it may be part of the password."""
    encode = (
        f"a password's special characters ({_RESERVED}) must be percent-encoded in a URL "
        "(/ as %2F, @ as %40, : as %3A, ? as %3F, # as %23, % as %25)"
    )
    ports = str(params.get("port") or "").split(",")
    if not all(re.fullmatch(r"\s*[0-9]*\s*", port) for port in ports):
        raise BadInput(
            "the database URL is not a valid connection string: its port is not a number",
            fix=f"correct port in {DATABASE_URL_NAMED}: a number, or one per host, separated by commas; "
            + encode,
        )
    hosts = str(params.get("host") or "").split(",")
    if any("@" in host and not host.startswith(("/", "@")) for host in hosts):
        raise BadInput(
            "the database URL is not a valid connection string: its host has an '@' in it",
            fix=f"correct host in {DATABASE_URL_NAMED}; {encode}",
        )
