"""Stores: one interface to the cleanup rules, one adapter per transport.

Every store calls the same SQL functions (``harness/sql/pitstop.sql``) and
returns their JSON as it is, so all transports give the same results.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict
from uuid import UUID

from harness.config import Settings
from harness.safety import Endpoint

JSON = dict[str, Any]


class NewUser(TypedDict):
    """A test user to create; the password is already hashed (bcrypt)."""

    email: str
    password_hash: str
    full_name: str
    role: str
    metadata: JSON


class Store(Protocol):
    """The verbs every transport offers; see the SQL functions of the same names."""

    name: str

    @property
    def endpoint(self) -> Endpoint: ...

    def describe(self) -> str: ...

    def purge_user(self, user_id: UUID, *, dry_run: bool = False) -> JSON: ...

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> JSON: ...

    def force_cancel(self, session_id: UUID) -> JSON: ...

    def customer_session_status(self, customer_id: UUID, *, minutes: int = 15) -> JSON: ...

    def health(self, *, stale_minutes: int = 15, very_stale_minutes: int = 60) -> JSON: ...

    def find_user(self, email: str) -> UUID | None: ...

    def create_test_user(self, user: NewUser) -> UUID: ...

    def delete_test_user(self, user_id: UUID) -> JSON: ...

    def test_users(self) -> list[JSON]: ...

    def active_sessions(self, user_ids: list[UUID]) -> list[JSON]: ...

    def user_rows(self, user_ids: list[UUID]) -> JSON: ...

    def purge_users(self, user_ids: list[UUID]) -> list[JSON]: ...

    def close(self) -> None: ...


def open_store(settings: Settings) -> Store:
    """The store for the target that ``settings`` name (``store_kind``): connects, does not guard.

    Writers get theirs through ``Cleanup.open``, which guards before and after.
    """
    from harness.config import store_kind
    from harness.errors import BadInput

    kind = store_kind(settings)
    if kind == "postgres":
        from harness.store.postgres import PostgresStore

        if not settings.database_url:
            raise BadInput(
                "the postgres store needs a database", fix="pass --database-url URL or set DATABASE_URL"
            )
        return PostgresStore(
            database_url=settings.database_url,
            model=settings.model,
            statement_timeout=settings.statement_timeout,
        )
    if kind == "supabase":
        from harness.safety import check_supabase_key, url_host
        from harness.store.supabase import SupabaseStore

        if not settings.supabase_url or not settings.supabase_key:
            raise BadInput(
                "the supabase store needs the project's URL and service-role key",
                fix="pass --supabase-url and --supabase-key (or SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY)",
            )
        url_host(settings.supabase_url, what="Supabase")  # a clear error for a malformed URL
        check_supabase_key(settings.supabase_key, settings.supabase_url)
        return SupabaseStore(
            url=settings.supabase_url,
            key=settings.supabase_key,
            test_domain=settings.test_domain,
            model=settings.model,
        )
    from harness.store.api import ApiStore

    if not settings.app_url or not settings.admin_token:
        raise BadInput(
            "the api store needs the app's URL and its admin token",
            fix="pass --app-url and --admin-token (or PITSTOP_APP_URL, PITSTOP_ADMIN_TOKEN)",
        )
    return ApiStore(
        app_url=settings.app_url,
        admin_token=settings.admin_token,
        user_password=settings.user_password,
        login_path=settings.login_path,
    )
