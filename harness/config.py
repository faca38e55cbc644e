"""Settings: one frozen object, read once from the command line and the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.errors import BadInput

DEFAULT_TEST_DOMAIN = "pitstop.test"

# A bare host name: labels of letters, digits and inner hyphens, at least one dot.
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Settings:
    """Where pitstop points and what it may touch.

    Precedence: explicit values (the command line) over the environment
    (``DATABASE_URL``, ``PITSTOP_ALLOWED_HOSTS``, ``PITSTOP_TEST_DOMAIN``,
    ``STRIPE_SECRET_KEY``) over the defaults. A list given on the command line
    replaces the environment's, it does not extend it.
    """

    database_url: str | None = None
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    test_domain: str = DEFAULT_TEST_DOMAIN
    stripe_secret_key: str | None = None

    @classmethod
    def load(
        cls,
        *,
        database_url: str | None = None,
        allowed_hosts: Iterable[str] | None = None,
        test_domain: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        if allowed_hosts is None:
            allowed_hosts = env.get("PITSTOP_ALLOWED_HOSTS", "").split(",")
        return cls(
            database_url=database_url or env.get("DATABASE_URL") or None,
            allowed_hosts=frozenset(h.strip().lower() for h in allowed_hosts if h.strip()),
            test_domain=check_test_domain(
                test_domain or env.get("PITSTOP_TEST_DOMAIN") or DEFAULT_TEST_DOMAIN
            ),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
        )


def check_test_domain(domain: str) -> str:
    """Return the test domain in lower case, or refuse one that is not a host name."""
    normalized = domain.strip().lower().lstrip("@")
    if not _DOMAIN.match(normalized):
        raise BadInput(
            f"test domain {domain!r} is not a domain name",
            fix="give a domain such as pitstop.test (a .test domain can never be a real address)",
        )
    return normalized


RESET_MODES = ("full", "user", "none")
LEAK_MODES = ("warn", "fail", "off")
PAYMENT_MODES = ("ui", "webhook")


@dataclass(frozen=True)
class RunConfig:
    """The pytest plugin's options, resolved once per run (see ``harness.plugin``)."""

    settings: Settings = field(default_factory=Settings)
    base_url: str | None = None
    admin_token: str | None = None
    reset: str = "full"
    leaks: str = "warn"
    health_path: str = "pitstop-health.json"
    health_html: str | None = None
    health_strict: bool = False
    payment: str = "ui"
    browser_ws_endpoint: str | None = None
    sweep_minutes: int = 30

    @property
    def embedded(self) -> bool:
        """No target given: the run starts the embedded stack."""
        return self.base_url is None
