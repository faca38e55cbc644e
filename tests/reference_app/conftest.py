"""Fixtures for the reference app: localstripe, the app over real HTTP, test users and signed-in clients."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import bcrypt
import httpx
import pytest
import stripe

from harness.store.postgres import PostgresStore
from tests.reference_app.servers import AppServer, LocalStripe
from tests.seeding import Seeder

ADMIN_TOKEN = "admin-token-" + "x" * 20
WEBHOOK_SECRET = "whsec_pitstop_tests"
PUBLISHABLE_KEY = "pk_test_pitstop"
SECRET_KEY = "sk_test_pitstop"
PASSWORD = "correct horse battery"
# Supabase stores $2a$ hashes; cost 4 keeps the tests fast.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2a$", 1)


@dataclass(frozen=True)
class Stack:
    app: AppServer
    localstripe: LocalStripe
    database_url: str
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.app.url


# The Supabase project the app's sessions belong to (the app accepts @supabase/ssr's cookies).
SUPABASE_URL = "http://127.0.0.1:54321"
JWT_SECRET = "the-reference-app-tests-jwt-secret-0123"


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def localstripe(server_logs: Path) -> Iterator[LocalStripe]:
    server = LocalStripe(server_logs)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_env(
    database_url: str, localstripe: LocalStripe, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment of a test-mode app; other servers start from a copy."""
    return {
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "TEST_MODE": "1",
        "SESSION_SECRET": secrets.token_urlsafe(24),
        "DATA_DIR": str(tmp_path_factory.mktemp("app-data")),
        "TEST_DOMAIN": "pitstop.test",
        "SUPABASE_URL": SUPABASE_URL,
        "SUPABASE_JWT_SECRET": JWT_SECRET,
    }


@pytest.fixture(scope="session")
def stack(
    app_env: dict[str, str], localstripe: LocalStripe, database_url: str, server_logs: Path
) -> Iterator[Stack]:
    app = AppServer("app", app_env, server_logs)
    localstripe.register_webhook("pitstop-tests", f"{app.url}/api/stripe/webhook", WEBHOOK_SECRET)
    yield Stack(app=app, localstripe=localstripe, database_url=database_url, env=app_env)
    app.stop()


@pytest.fixture(scope="session")
def stripe_client(localstripe: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.url}, max_network_retries=0)


@dataclass(frozen=True)
class AppUser:
    id: UUID
    email: str
    role: str
    full_name: str


class Users:
    """Makes users straight in the tables, as Supabase Auth would have them (``harness.store.auth_users``)."""

    def __init__(self, store: PostgresStore) -> None:
        self.conn = store.connection
        self.count = 0
        self.seeder = Seeder(self.conn)  # reads the auth shape once, on the first user

    def __call__(
        self, role: str = "customer", *, test: bool = True, name: str | None = None, email: str | None = None
    ) -> AppUser:
        self.count += 1
        tag = secrets.token_hex(4)
        email = email or (f"{role}-{tag}@pitstop.test" if test else f"{role}-{tag}@example.com")
        full_name = name or f"{role.title()} {self.count} {tag}"
        user_id = self.seeder.user(
            test=test, email=email, role=role, password_hash=PASSWORD_HASH, full_name=full_name
        )
        return AppUser(user_id, email, role, full_name)


@pytest.fixture
def users(store: PostgresStore) -> Users:
    return Users(store)


Login = Callable[[AppUser], httpx.Client]


@pytest.fixture
def login(stack: Stack) -> Iterator[Login]:
    """Signed-in HTTP clients (through the login form), closed after the test."""
    clients: list[httpx.Client] = []

    def sign_in(user: AppUser) -> httpx.Client:
        client = httpx.Client(base_url=stack.url, timeout=20)
        clients.append(client)
        page = "mechanic" if user.role == "mechanic" else "customer"
        response = client.post(f"/{page}/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return client

    yield sign_in
    for client in clients:
        client.close()


@pytest.fixture
def anonymous(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=20) as client:
        yield client


def rows(store: PostgresStore, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    return store.connection.execute(query, params).fetchall()
