"""The app's settings, read once from the environment into a frozen object."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
# How the customer pays: a PaymentIntent on the app's own card page, or Stripe Checkout's
# hosted page (a Checkout Session), as most Next.js apps do.
PAYMENT_KINDS = ("payment_intent", "checkout_session")
# Which pages the app serves (reference_app/ui.py): the classic ones, or the second UI's.
APP_UIS = ("classic", "bare", "second")

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A setting the app cannot run with; the message says what to change."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Config:
    database_url: str
    session_secret: str
    data_dir: Path
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    # A localstripe-compatible server to use instead of api.stripe.com.
    stripe_api_base: str | None = None
    stripe_js_url: str = DEFAULT_STRIPE_JS_URL
    stripe_webhook_secret: str | None = None
    admin_token: str | None = None
    test_mode: bool = False
    test_domain: str = "pitstop.test"
    currency: str = "usd"
    payment_kind: str = "payment_intent"  # one of PAYMENT_KINDS
    app_ui: str = "classic"  # one of APP_UIS
    # The Supabase project the app's sessions belong to: a session its library keeps in cookies
    # (@supabase/ssr) is accepted when its access token verifies with the JWT secret.
    supabase_url: str | None = None
    supabase_jwt_secret: str | None = None

    def __post_init__(self) -> None:
        if self.payment_kind not in PAYMENT_KINDS:
            raise ConfigError(f"PAYMENT_KIND is {self.payment_kind!r}: use one of {', '.join(PAYMENT_KINDS)}")
        if self.app_ui not in APP_UIS:
            raise ConfigError(f"APP_UI is {self.app_ui!r}: use one of {', '.join(APP_UIS)}")
        if self.app_ui == "second" and self.payment_kind != "checkout_session":
            raise ConfigError(
                "APP_UI=second pays by Checkout Session only: set PAYMENT_KIND=checkout_session"
            )
        key = self.stripe_secret_key or ""
        if self.test_mode and key.startswith(LIVE_KEY_PREFIXES):
            raise ConfigError(
                f"TEST_MODE is on but STRIPE_SECRET_KEY is a live key ({key[:8]}...): refusing to start. "
                "Use a test key (sk_test_...) or a local Stripe (STRIPE_API_BASE), or turn TEST_MODE off."
            )
        if not self.database_url:
            raise ConfigError("DATABASE_URL is not set: give a PostgreSQL connection string")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        api_base = _optional(env, "STRIPE_API_BASE")
        if api_base:
            api_base = api_base.rstrip("/")
        # Embedded with localstripe, its Stripe.js stand-in is the natural default.
        js_default = f"{api_base}/js.stripe.com/v3/" if api_base else DEFAULT_STRIPE_JS_URL
        secret = _optional(env, "SESSION_SECRET")
        if secret is None:
            # Cookies then die with the process, and two processes can't share them.
            log.warning("SESSION_SECRET is not set: using a random one for this process")
            secret = secrets.token_urlsafe(32)
        return cls(
            database_url=env.get("DATABASE_URL", "").strip(),
            session_secret=secret,
            data_dir=Path(_optional(env, "DATA_DIR") or "./data"),
            stripe_secret_key=_optional(env, "STRIPE_SECRET_KEY"),
            stripe_publishable_key=_optional(env, "STRIPE_PUBLISHABLE_KEY"),
            stripe_api_base=api_base,
            stripe_js_url=_optional(env, "STRIPE_JS_URL") or js_default,
            stripe_webhook_secret=_optional(env, "STRIPE_WEBHOOK_SECRET"),
            admin_token=_optional(env, "ADMIN_TOKEN"),
            test_mode=_flag(env.get("TEST_MODE")),
            test_domain=(_optional(env, "TEST_DOMAIN") or "pitstop.test").lower().lstrip("@"),
            payment_kind=(_optional(env, "PAYMENT_KIND") or "payment_intent").lower(),
            app_ui=(_optional(env, "APP_UI") or "classic").lower(),
            supabase_url=_optional(env, "SUPABASE_URL"),
            supabase_jwt_secret=_optional(env, "SUPABASE_JWT_SECRET"),
        )
