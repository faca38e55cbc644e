"""Every option of pitstop in one place: its flag, ini key, environment variable, default and help.

The pytest plugin registers each of its options as ``--pitstop-NAME`` with the ini
key ``pitstop_NAME``; the ``pitstop`` command registers the target options as
``--NAME``. Wherever read, the precedence is the same: the command line > the ini
file (pytest only) > the environment > the default (``resolve``).

Light on purpose: the plugin's entry module imports it at every pytest start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harness.config.auth import MODES as AUTH_MODES
from harness.config.auth import STORAGES as AUTH_STORAGES
from harness.errors import BadInput

STORES = ("postgres", "supabase", "api")
RESET_MODES = ("full", "user", "none")
LEAK_MODES = ("warn", "fail", "off")
PAYMENT_MODES = ("ui", "webhook")
# The postgres store's bound on a statement, in seconds (0: none).
STATEMENT_TIMEOUT_S = 30.0
# The shortest run lease: its heartbeat runs every quarter of it, and a statement may take a second.
MIN_LEASE_SECONDS = 8

Kind = Literal["text", "int", "seconds", "flag", "list"]
# Where an option is given: on both surfaces (a target option), or on one of them.
Surface = Literal["both", "plugin", "cli"]


@dataclass(frozen=True)
class Option:
    name: str  # "database-url": pytest's --pitstop-database-url, the command's --database-url
    env: str | None
    help: str
    default: Any = None
    choices: tuple[str, ...] | None = None
    kind: Kind = "text"
    surface: Surface = "both"
    metavar: str | None = None
    cli_name: str | None = None  # the command's own name for it, where it differs

    @property
    def field(self) -> str:
        """Its name in the settings and the resolved values: ``database_url``."""
        return self.name.replace("-", "_")

    @property
    def dest(self) -> str:
        """The pytest option's ``dest`` and ini key: ``pitstop_database_url``."""
        return "pitstop_" + self.field

    def names(self, surface: Surface = "plugin") -> str:
        """How to give it on ``surface``, for messages: ``--pitstop-leaks or PITSTOP_LEAKS``."""
        flag = self.cli_flag if surface == "cli" else self.flag
        return " or ".join([flag, *([self.env] if self.env else [])])

    @property
    def flag(self) -> str:
        """The pytest plugin's flag: ``--pitstop-database-url``."""
        return "--pitstop-" + self.name

    @property
    def cli_flag(self) -> str:
        """The ``pitstop`` command's flag: ``--database-url``."""
        return "--" + (self.cli_name or self.name)

    def convert(self, value: Any, surface: Surface = "plugin") -> Any:
        """``value`` (given, read from ini or the environment, or the default) as the option holds it;
        bad input names the option as ``surface`` takes it."""
        if self.kind == "list":
            if isinstance(value, str):
                value = value.split(",")
            return [v.strip() for v in value or [] if v and v.strip()]
        if self.kind == "flag":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if value is None:
            return None
        if self.kind == "int":
            try:
                return int(value)
            except ValueError:
                raise BadInput(f"{self.names(surface)}: {value!r} is not a whole number") from None
        if self.kind == "seconds":
            return seconds(value, what=self.names(surface))
        if self.choices and value not in self.choices:
            raise BadInput(f"{self.names(surface)}: {value!r} is not one of {', '.join(self.choices)}")
        return value


OPTIONS = (
    Option(
        "store",
        "PITSTOP_STORE",
        "how to reach the cleanup rules; unset, by what is given: postgres for a database URL, "
        "supabase for a Supabase URL, api for an app URL with an admin token",
        choices=STORES,
    ),
    Option("database-url", "DATABASE_URL", "the target's Postgres connection string", metavar="URL"),
    Option(
        "config",
        "PITSTOP_CONFIG",
        "a TOML file with the [tool.pitstop] tables, e.g. the model; unset, ./pyproject.toml",
        metavar="FILE",
    ),
    Option("supabase-url", "SUPABASE_URL", "the target's Supabase project URL", metavar="URL"),
    Option("supabase-key", "SUPABASE_SERVICE_ROLE_KEY", "the project's service-role key", metavar="KEY"),
    Option(
        "supabase-anon-key",
        "SUPABASE_ANON_KEY",
        "the project's anon (publishable) key: test users get their sessions from Supabase Auth's "
        "password grant",
        metavar="KEY",
    ),
    Option(
        "jwt-secret",
        "SUPABASE_JWT_SECRET",
        "the project's JWT secret (HS256 projects): test users' sessions are made without Supabase Auth",
        metavar="SECRET",
    ),
    Option(
        "app-url",
        "PITSTOP_APP_URL",
        "the app, for its debug API (pytest: --base-url)",
        surface="cli",
        metavar="URL",
    ),
    Option("admin-token", "PITSTOP_ADMIN_TOKEN", "the app's debug API token", metavar="TOKEN"),
    Option(
        "allow-host",
        "PITSTOP_ALLOWED_HOSTS",
        "allow this non-loopback target host (repeatable; the variable: comma-separated)",
        kind="list",
        metavar="HOST",
    ),
    Option(
        "test-domain", "PITSTOP_TEST_DOMAIN", "email domain of test users", "pitstop.test", metavar="DOMAIN"
    ),
    Option(
        "statement-timeout",
        "PITSTOP_STATEMENT_TIMEOUT",
        "seconds a database statement may take, also against a stopped server (0: none)",
        STATEMENT_TIMEOUT_S,
        kind="seconds",
        metavar="SECONDS",
    ),
    Option(
        "user-password",
        "PITSTOP_USER_PASSWORD",
        "the user's password: the api store signs in as the user",
        surface="cli",
        metavar="PASSWORD",
        cli_name="password",
    ),
    Option("reset", "PITSTOP_RESET", "what to reset and when", "full", RESET_MODES, surface="plugin"),
    Option(
        "leaks", "PITSTOP_LEAKS", "what to do when a test leaves state", "warn", LEAK_MODES, surface="plugin"
    ),
    Option(
        "health", "PITSTOP_HEALTH", "where to write the JSON report", "pitstop-health.json", surface="plugin"
    ),
    Option("health-html", "PITSTOP_HEALTH_HTML", "where to write the HTML report", surface="plugin"),
    Option(
        "health-strict",
        "PITSTOP_HEALTH_STRICT",
        "fail the run on health problems",
        False,
        kind="flag",
        surface="plugin",
    ),
    Option(
        "payment", "PITSTOP_PAYMENT", "how non-payment scenarios pay", "ui", PAYMENT_MODES, surface="plugin"
    ),
    Option(
        "auth-mode",
        "PITSTOP_AUTH_MODE",
        "how the page fixtures sign users in: ui (Flows.sign_in on the login page) or supabase (a "
        "Supabase session, no page); unset: [tool.pitstop.auth] mode, else ui",
        choices=AUTH_MODES,
        surface="plugin",
    ),
    Option(
        "auth-storage",
        "PITSTOP_AUTH_STORAGE",
        "where a supabase sign-in puts the session: cookies (@supabase/ssr), local_storage (supabase-js) "
        "or both; unset: [tool.pitstop.auth] storage, else cookies",
        choices=AUTH_STORAGES,
        surface="plugin",
    ),
    Option(
        "cookie-domain",
        "PITSTOP_COOKIE_DOMAIN",
        "the domain the app sets its cookies for; unset: [tool.pitstop.auth] cookie_domain, else the app's "
        "host",
        metavar="DOMAIN",
    ),
    Option(
        "browser-ws-endpoint",
        "PITSTOP_BROWSER_WS_ENDPOINT",
        "a Playwright server to connect to",
        surface="plugin",
    ),
    Option(
        "sweep-minutes",
        "PITSTOP_SWEEP_MINUTES",
        "age of dead runs' users to sweep",
        30,
        kind="int",
        surface="plugin",
    ),
    Option(
        "shard",
        "PITSTOP_SHARD",
        "run one shard of the suite, K of N (1 <= K <= N): the collected tests in turn, one to each "
        "shard, so that a CI matrix of N jobs runs each test once; `pitstop report merge` joins the "
        "shards' reports",
        surface="plugin",
        metavar="K/N",
    ),
    Option(
        "lease-seconds",
        "PITSTOP_LEASE_SECONDS",
        "how long the run's lease in the target lasts without a heartbeat (one every quarter of it): "
        "what a run made is swept once its lease has expired, on any machine",
        120,
        kind="int",
        surface="plugin",
    ),
)
BY_NAME = {option.name: option for option in OPTIONS}
PLUGIN = tuple(option for option in OPTIONS if option.surface in ("both", "plugin"))
CLI = tuple(option for option in OPTIONS if option.surface in ("both", "cli"))
# The options over [tool.pitstop.auth] (``harness.config.auth.load_auth``), by their key there.
AUTH = {"auth-mode": "mode", "auth-storage": "storage", "cookie-domain": "cookie_domain"}
# What the settings of a target are made of (``Settings.load``): the command line's options but the
# configuration file, which says where the rest of the configuration is, and the auth table's.
SETTINGS = tuple(option for option in CLI if option.name != "config" and option.name not in AUTH)


def auth_given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved auth options (``resolve``'s, by field) by their ``[tool.pitstop.auth]`` key."""
    return {key: values.get(BY_NAME[name].field) for name, key in AUTH.items()}


def resolve(
    options: Iterable[Option], given: Mapping[str, Any], env: Mapping[str, str], surface: Surface = "plugin"
) -> dict[str, Any]:
    """Each option's value, by its field: ``given`` (the command line, or pytest's command line
    then ini) > the environment > the default; converted (``Option.convert``).

    A given empty text is what ``--pitstop-database-url "$DATABASE_URL"`` gives when the
    variable is unset: bad input, never a silent fall back to the environment or the default.
    Bad input names the option as ``surface`` (the plugin, or the command line) takes it.
    """
    values: dict[str, Any] = {}
    for option in options:
        value = given.get(option.field)
        if value == "" and option.kind not in ("flag", "list"):
            raise BadInput(f"{option.names(surface)}: empty: give it a value, or leave the option out")
        if value in (None, []) and option.env and env.get(option.env):
            value = env[option.env]
        if value is None:
            value = option.default
        values[option.field] = option.convert(value, surface)
    return values


def seconds(value: float | str | None, *, what: str) -> float | None:
    """A number of seconds, 0 or more, from a number or its text; None (or empty) stays None."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        raise BadInput(f"{what}: {value!r} is not a number of seconds", fix="give seconds, e.g. 30 (0: none)")
    return number
