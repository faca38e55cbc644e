"""Settings: one frozen object, read once from the command line and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.config.auth import AuthConfig
from harness.config.contract import AppContract
from harness.config.options import BY_NAME, MIN_LEASE_SECONDS, SETTINGS, STATEMENT_TIMEOUT_S, Surface, resolve
from harness.config.payments import PaymentConfig
from harness.errors import BadInput
from harness.rules.marker import DEFAULT_TEST_DOMAIN, check_test_domain
from harness.rules.model.declaration import Model


@dataclass(frozen=True)
class Settings:
    """Where pitstop points and what it may touch.

    Precedence: explicit values (the command line) over the environment (each option's
    variable, ``harness.config.options``; and ``STRIPE_SECRET_KEY``) over the defaults. A list
    given on the command line replaces the environment's, it does not extend it.
    """

    database_url: str | None = None
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    test_domain: str = DEFAULT_TEST_DOMAIN
    stripe_secret_key: str | None = None
    store: str | None = None  # one of options.STORES; None: chosen by what is given (``store_kind``)
    supabase_url: str | None = None
    supabase_key: str | None = field(default=None, repr=False)
    app_url: str | None = None
    admin_token: str | None = field(default=None, repr=False)
    supabase_anon_key: str | None = field(default=None, repr=False)  # the password grant's key
    jwt_secret: str | None = field(default=None, repr=False)  # offline sessions are signed with it
    user_password: str | None = field(default=None, repr=False)  # the api store signs in with it
    login_path: str = "/customer/login"  # where the api store signs users in
    model: Model = field(default_factory=Model)  # [tool.pitstop.model]: the app's tables
    payments: PaymentConfig = field(default_factory=PaymentConfig)  # [tool.pitstop.payments]
    auth: AuthConfig = field(default_factory=AuthConfig)  # [tool.pitstop.auth], with its options
    # Seconds a database statement may take (the postgres store's bound); 0: none.
    statement_timeout: float | None = STATEMENT_TIMEOUT_S

    @classmethod
    def load(
        cls,
        *,
        login_path: str | None = None,
        model: Model | None = None,
        payments: PaymentConfig | None = None,
        auth: AuthConfig | None = None,
        env: Mapping[str, str] | None = None,
        surface: Surface = "cli",
        **given: Any,
    ) -> Settings:
        """The settings of the target options ``given`` by field (``database_url=...``: the command
        line's), else of the environment, else the defaults (``harness.config.options.SETTINGS``);
        bad input names the options as ``surface`` takes them."""
        env = os.environ if env is None else env
        unknown = set(given) - {option.field for option in SETTINGS}
        if unknown:
            raise TypeError(f"Settings.load() got unknown options: {', '.join(sorted(unknown))}")
        values = resolve(SETTINGS, given, env, surface)
        return cls(
            store=values["store"],
            supabase_url=values["supabase_url"],
            supabase_key=values["supabase_key"],
            app_url=values["app_url"],
            admin_token=values["admin_token"],
            supabase_anon_key=values["supabase_anon_key"],
            jwt_secret=values["jwt_secret"],
            user_password=values["user_password"],
            login_path=login_path or "/customer/login",
            database_url=values["database_url"],
            allowed_hosts=frozenset(host.lower() for host in values["allow_host"]),
            test_domain=check_test_domain(values["test_domain"]),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,  # read by the stack, never an option
            model=model or Model(),
            payments=payments or PaymentConfig(),
            auth=auth or AuthConfig(),
            statement_timeout=values["statement_timeout"],
        )


def store_kind(settings: Settings, *, embedded: bool = False) -> str:
    """The store to use: the one named, else by what is given. The one place that decides it.

    A database URL means ``postgres``, else a Supabase URL ``supabase``, else
    an app URL with an admin token ``api``. ``embedded``: the target is the
    embedded stack, which makes its own database, so ``postgres`` unless another is named.
    """
    if settings.store:
        return settings.store
    if settings.database_url or embedded:
        return "postgres"
    if settings.supabase_url:
        return "supabase"
    if settings.app_url and settings.admin_token:
        return "api"
    raise BadInput(
        "no target given",
        fix="pass --database-url (or DATABASE_URL), --supabase-url with --supabase-key "
        "(or SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY), or --app-url with --admin-token "
        "(or PITSTOP_APP_URL, PITSTOP_ADMIN_TOKEN)",
    )


def _is_shard(text: str) -> bool:
    k, _, n = text.partition("/")
    return k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)


@dataclass(frozen=True)
class RunConfig:
    """The pytest plugin's options, resolved once per run (see ``harness.plugin``).

    How the target is reached (its app URL, database, admin token) is in
    ``settings`` only: ``settings.app_url`` is pytest-playwright's ``--base-url``.
    """

    settings: Settings = field(default_factory=Settings)
    contract: AppContract = field(default_factory=AppContract)
    reset: str = "full"
    leaks: str = "warn"
    health_path: str = "pitstop-health.json"
    health_html: str | None = None
    health_strict: bool = False
    payment: str = "ui"
    browser_ws_endpoint: str | None = None
    sweep_minutes: int = 30
    lease_seconds: int = 120
    shard: str | None = None  # "K/N" (--pitstop-shard): this run runs the K-th of N shards
    # The shard pytest-split runs (--group K --splits N), where it divides the suite instead.
    split_shard: str | None = None

    @property
    def shard_label(self) -> str | None:
        """Which shard of the suite this run is, however it was divided; None: the whole suite."""
        return self.shard or self.split_shard

    @property
    def shard_of(self) -> tuple[int, int] | None:
        """(K, N) of ``--pitstop-shard``."""
        if self.shard is None:
            return None
        k, n = self.shard.split("/")
        return int(k), int(n)

    def __post_init__(self) -> None:
        if self.shard is not None and not _is_shard(self.shard):
            raise BadInput(
                f"{BY_NAME['shard'].names()}: {self.shard!r} is not a shard: give K/N with 1 <= K <= N",
                fix="--pitstop-shard 2/4 runs the second of four shards",
            )
        if self.lease_seconds < MIN_LEASE_SECONDS:
            raise BadInput(
                f"{BY_NAME['lease-seconds'].names()}: {self.lease_seconds} seconds is too short a lease "
                f"(at least {MIN_LEASE_SECONDS}: its heartbeat runs every quarter of it)",
                fix="leave it at 120 (the default), or make it longer over a slow network",
            )

    @property
    def embedded(self) -> bool:
        """No target given: the run starts the embedded stack."""
        return self.settings.app_url is None
