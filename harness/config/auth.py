"""How the page fixtures sign test users in: ``[tool.pitstop.auth]``.

    [tool.pitstop.auth]
    mode = "supabase"          # "ui" (the default): Flows.sign_in drives the app's login page
    storage = "cookies"        # or "local_storage", or "both"
    cookie_domain = ".example.com"   # unset: the app's host only

``mode = "supabase"`` gives each persona a Supabase session without the login page
(``harness.engine.signin``): through Supabase Auth's password grant when the target
gives its anon key, else made offline with the project's JWT secret. The session is
put where the app's Supabase library reads it: the cookies ``@supabase/ssr`` writes
(a Next.js app: ``cookies``), supabase-js's localStorage entry (a browser-only app:
``local_storage``), or both. ``cookie_domain`` is the domain the app's cookies are
set for, when it is not the app's own host (a parent domain shared with an API).

Each key has a plugin option and a variable that win over the file
(``--pitstop-auth-mode`` / ``PITSTOP_AUTH_MODE``, ``--pitstop-auth-storage`` /
``PITSTOP_AUTH_STORAGE``, ``--pitstop-cookie-domain`` / ``PITSTOP_COOKIE_DOMAIN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import BadInput

SOURCE = "[tool.pitstop.auth]"
MODES = ("ui", "supabase")
STORAGES = ("cookies", "local_storage", "both")
KEYS = ("mode", "storage", "cookie_domain")


@dataclass(frozen=True)
class AuthConfig:
    mode: str = "ui"  # one of MODES
    storage: str = "cookies"  # one of STORAGES
    cookie_domain: str | None = None

    @property
    def headless(self) -> bool:
        """Sign in without the login page."""
        return self.mode == "supabase"

    @property
    def cookies(self) -> bool:
        return self.storage in ("cookies", "both")

    @property
    def local_storage(self) -> bool:
        return self.storage in ("local_storage", "both")


def load_auth(
    data: Any, given: Mapping[str, str | None] | None = None, *, source: str = SOURCE
) -> AuthConfig:
    """The auth configuration of a ``[tool.pitstop.auth]`` table (None: the defaults), with the
    values ``given`` by option (``mode``, ``storage``, ``cookie_domain``; None: not given) over it."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadInput(f"{source} must be a table, not {data!r}", fix='write [tool.pitstop.auth] mode = "…"')
    unknown = set(data) - set(KEYS)
    if unknown:
        raise BadInput(
            f"unknown key {', '.join(sorted(unknown))} in {source}", fix=f"use only {', '.join(KEYS)}"
        )
    values = {**data, **{key: value for key, value in (given or {}).items() if value is not None}}
    mode = _choice(
        values, "mode", MODES, source,
        fix='mode = "ui" (Flows.sign_in drives the login page) or mode = "supabase" '
        "(a Supabase session written where the app's library reads it)",
    )  # fmt: skip
    storage = _choice(
        values, "storage", STORAGES, source,
        fix='storage = "cookies" (@supabase/ssr: a Next.js app), "local_storage" (supabase-js in a '
        'browser-only app) or "both"',
    )  # fmt: skip
    domain = values.get("cookie_domain")
    if domain is not None and (not isinstance(domain, str) or not domain.strip(".") or "/" in domain):
        raise BadInput(
            f"{source} cookie_domain must be a host name, not {domain!r}",
            fix='cookie_domain = ".example.com" (the domain the app sets its cookies for), or leave it out',
        )
    return AuthConfig(mode=mode, storage=storage, cookie_domain=domain or None)


def _choice(values: Mapping[str, Any], key: str, choices: tuple[str, ...], source: str, *, fix: str) -> str:
    """``values[key]`` (else the default's), which must be one of ``choices``."""
    value = values.get(key, getattr(AuthConfig, key))
    if value not in choices:
        raise BadInput(f"{source} {key} must be one of {', '.join(choices)}, not {value!r}", fix=fix)
    return str(value)
