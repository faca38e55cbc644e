"""Settings from the environment, and the refusal to run test mode with a live Stripe key."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest

from harness.stack.reference_app.config import DEFAULT_STRIPE_JS_URL, Config, ConfigError
from harness.stack.reference_app.main import create_app
from tests.reference_app.conftest import Stack
from tests.reference_app.servers import AppServer

BASE = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres", "SESSION_SECRET": "s3cret"}


def test_defaults() -> None:
    config = Config.from_env(BASE)
    assert config.test_mode is False and config.test_domain == "pitstop.test"
    assert config.stripe_js_url == DEFAULT_STRIPE_JS_URL and config.stripe_api_base is None
    assert config.data_dir == Path("./data") and config.admin_token is None


def test_everything_is_read_from_the_environment() -> None:
    config = Config.from_env(
        {
            **BASE,
            "STRIPE_SECRET_KEY": "sk_test_1",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_1",
            "STRIPE_API_BASE": "http://127.0.0.1:8420/",
            "STRIPE_WEBHOOK_SECRET": "whsec_1",
            "ADMIN_TOKEN": "tok",
            "TEST_MODE": "true",
            "DATA_DIR": "/tmp/x",
            "TEST_DOMAIN": "@Example.TEST",
        }
    )
    assert config.stripe_api_base == "http://127.0.0.1:8420"
    # Embedded with localstripe, the page loads its Stripe.js stand-in unless told otherwise.
    assert config.stripe_js_url == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert config.test_mode and config.test_domain == "example.test" and config.data_dir == Path("/tmp/x")
    assert (config.stripe_secret_key, config.stripe_publishable_key) == ("sk_test_1", "pk_test_1")
    assert (config.stripe_webhook_secret, config.admin_token) == ("whsec_1", "tok")
    override = Config.from_env({**BASE, "STRIPE_API_BASE": "http://x", "STRIPE_JS_URL": "http://y/v3/"})
    assert override.stripe_js_url == "http://y/v3/"


@pytest.mark.parametrize(
    ("value", "on"), [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("", False)]
)
def test_test_mode_flag(value: str, on: bool) -> None:
    assert Config.from_env({**BASE, "TEST_MODE": value}).test_mode is on


@pytest.mark.parametrize("key", ["sk_live_abc", "rk_live_abc"])
def test_test_mode_with_a_live_key_is_refused_with_the_fix(key: str) -> None:
    with pytest.raises(ConfigError, match=r"live key .*Use a test key \(sk_test_"):
        Config.from_env({**BASE, "TEST_MODE": "1", "STRIPE_SECRET_KEY": key})
    assert Config.from_env({**BASE, "STRIPE_SECRET_KEY": key}).stripe_secret_key == key


def test_a_database_url_is_required() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Config.from_env({"SESSION_SECRET": "x"})


def test_the_factory_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", BASE["DATABASE_URL"])
    monkeypatch.setenv("TEST_MODE", "1")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "rk_live_nope")
    with pytest.raises(ConfigError):
        create_app()


def test_the_server_refuses_to_start_in_test_mode_with_a_live_key(stack: Stack, server_logs: Path) -> None:
    with pytest.raises(RuntimeError, match="refusing to start"):
        AppServer("app-live-key", {**stack.env, "STRIPE_SECRET_KEY": "sk_live_123"}, server_logs)


def test_the_ui_is_read_from_the_environment_and_the_second_pays_by_checkout_session_only() -> None:
    assert Config.from_env(BASE).app_ui == "classic"
    assert (
        Config.from_env({**BASE, "APP_UI": "Second", "PAYMENT_KIND": "checkout_session"}).app_ui == "second"
    )
    with pytest.raises(ConfigError, match="APP_UI is 'modern': use one of classic, bare, second"):
        Config.from_env({**BASE, "APP_UI": "modern"})
    with pytest.raises(ConfigError, match="set PAYMENT_KIND=checkout_session"):
        Config.from_env({**BASE, "APP_UI": "second"})


def _client(app_ui: str, payment_kind: str) -> Callable[[str], httpx.Response]:
    """GET from the app without its lifespan (no database): enough for what an anonymous visitor sees."""
    app = create_app(Config.from_env({**BASE, "APP_UI": app_ui, "PAYMENT_KIND": payment_kind}))

    async def get(path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            return await client.get(path)

    def run(path: str) -> httpx.Response:  # in a thread: this one may be running Playwright's loop
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, get(path)).result()

    return run


def test_the_second_ui_serves_the_pages_at_its_own_paths_only() -> None:
    second, classic = _client("second", "checkout_session"), _client("classic", "payment_intent")
    room = f"/room/{uuid4()}"
    signin = second("/signin")
    assert signin.status_code == 200 and 'data-test="signin-email"' in signin.text
    assert "data-testid" not in signin.text
    for path in ("/app/home", "/garage/queue", "/book", "/book/details?plan=quick-chat", "/book/done", room):
        answer = second(path)
        assert (answer.status_code, answer.headers["location"]) == (303, f"/signin?next={quote(path)}")
    assert second("/").headers["location"] == "/signin"
    assert classic("/").headers["location"] == "/customer/login"
    classic_pages = ["/customer/login", "/mechanic/login", "/customer/dashboard", "/mechanic/dashboard"]
    classic_pages += ["/onboarding/pricing", "/checkout/success", "/checkout/pi_1", f"/session/{uuid4()}"]
    for path in classic_pages:
        assert second(path).status_code == 404, path
        assert classic(path).status_code in (200, 303), path
    assert classic("/signin").status_code == 404
    # What is not a page is where it was: the JSON API answers for itself.
    assert (
        second("/api/customer/sessions").status_code == classic("/api/customer/sessions").status_code == 401
    )
