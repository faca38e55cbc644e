"""Settings: one frozen object, read once from the command line and the environment."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.config.contract import AppContract
from harness.config.payments import PaymentConfig
from harness.errors import BadInput
from harness.rules.marker import DEFAULT_TEST_DOMAIN, check_test_domain
from harness.rules.model.declaration import Model

STORES = ("postgres", "supabase", "api")


@dataclass(frozen=True)
class Settings:
    """Where pitstop points and what it may touch.

    Precedence: explicit values (the command line) over the environment
    (``DATABASE_URL``, ``SUPABASE_URL``, ``SUPABASE_SERVICE_ROLE_KEY``,
    ``PITSTOP_APP_URL``, ``PITSTOP_ADMIN_TOKEN``, ``PITSTOP_STORE``,
    ``PITSTOP_ALLOWED_HOSTS``, ``PITSTOP_TEST_DOMAIN``, ``PITSTOP_STATEMENT_TIMEOUT``,
    ``STRIPE_SECRET_KEY``)
    over the defaults. A list given on the command line replaces the
    environment's, it does not extend it.
    """

    database_url: str | None = None
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    test_domain: str = DEFAULT_TEST_DOMAIN
    stripe_secret_key: str | None = None
    store: str | None = None  # one of STORES; None: chosen by what is given (``store_kind``)
    supabase_url: str | None = None
    supabase_key: str | None = field(default=None, repr=False)
    app_url: str | None = None
    admin_token: str | None = field(default=None, repr=False)
    user_password: str | None = field(default=None, repr=False)  # the api store signs in with it
    login_path: str = "/customer/login"  # where the api store signs users in
    model: Model = field(default_factory=Model)  # [tool.pitstop.model]: the app's tables
    payments: PaymentConfig = field(default_factory=PaymentConfig)  # [tool.pitstop.payments]
    # Seconds a database statement may take (the postgres store's bound); None: its default, 0: none.
    statement_timeout: float | None = None

    @classmethod
    def load(
        cls,
        *,
        database_url: str | None = None,
        allowed_hosts: Iterable[str] | None = None,
        test_domain: str | None = None,
        store: str | None = None,
        supabase_url: str | None = None,
        supabase_key: str | None = None,
        app_url: str | None = None,
        admin_token: str | None = None,
        user_password: str | None = None,
        login_path: str | None = None,
        model: Model | None = None,
        payments: PaymentConfig | None = None,
        statement_timeout: float | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if env is None else env
        if allowed_hosts is None:
            allowed_hosts = env.get("PITSTOP_ALLOWED_HOSTS", "").split(",")
        store = store or env.get("PITSTOP_STORE") or None
        if store is not None and store not in STORES:
            raise BadInput(f"unknown store {store!r}", fix=f"use one of {', '.join(STORES)}")
        return cls(
            store=store,
            supabase_url=supabase_url or env.get("SUPABASE_URL") or None,
            supabase_key=supabase_key or env.get("SUPABASE_SERVICE_ROLE_KEY") or None,
            app_url=app_url or env.get("PITSTOP_APP_URL") or None,
            admin_token=admin_token or env.get("PITSTOP_ADMIN_TOKEN") or None,
            user_password=user_password or env.get("PITSTOP_USER_PASSWORD") or None,
            login_path=login_path or "/customer/login",
            database_url=database_url or env.get("DATABASE_URL") or None,
            allowed_hosts=frozenset(h.strip().lower() for h in allowed_hosts if h.strip()),
            test_domain=check_test_domain(
                test_domain or env.get("PITSTOP_TEST_DOMAIN") or DEFAULT_TEST_DOMAIN
            ),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
            model=model or Model(),
            payments=payments or PaymentConfig(),
            statement_timeout=seconds(
                statement_timeout if statement_timeout is not None else env.get("PITSTOP_STATEMENT_TIMEOUT"),
                what="the statement timeout (--pitstop-statement-timeout, PITSTOP_STATEMENT_TIMEOUT)",
            ),
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


def seconds(value: float | str | None, *, what: str) -> float | None:
    """A number of seconds, 0 or more, from a number or its text; None (or empty) stays None."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        raise BadInput(f"{what} is {value!r}, not a number of seconds", fix="give seconds, e.g. 30 (0: none)")
    return number


RESET_MODES = ("full", "user", "none")
LEAK_MODES = ("warn", "fail", "off")
PAYMENT_MODES = ("ui", "webhook")


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

    @property
    def embedded(self) -> bool:
        """No target given: the run starts the embedded stack."""
        return self.settings.app_url is None
