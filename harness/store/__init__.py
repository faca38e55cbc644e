"""Stores: one interface to the cleanup rules, one adapter per transport.

Every store calls the same SQL functions (``harness/rules/sql/pitstop.sql``) and
returns their JSON as it is, so all transports give the same results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.config.settings import Settings, store_kind
from harness.errors import BadInput
from harness.json_types import JSON
from harness.store.interface import NewUser, Store
from harness.store.safety import check_database_url, check_endpoint, check_supabase_key, check_url

if TYPE_CHECKING:
    from harness.store.postgres import PostgresStore

__all__ = ["JSON", "NewUser", "Store", "check_hosts", "open_database", "open_store"]


def open_store(settings: Settings, *, with_app: bool = False) -> Store:
    """The store for the target that ``settings`` name (``store_kind``), behind the host guard.

    Reads and writes alike: before connecting, the host the store will reach
    must be loopback or allow-listed (``check_hosts``); after, the endpoint it
    actually reached is checked again. ``with_app``: the app's host too, when
    the store is not the app itself. Writers get theirs through
    ``Cleanup.open``, which also refuses a live Stripe key.
    """
    kind = store_kind(settings)
    _require(settings, kind)
    if kind == "supabase":  # offline, so first: a key that is not the project's service-role key
        assert settings.supabase_url and settings.supabase_key
        check_supabase_key(settings.supabase_key, settings.supabase_url)
    check_hosts(settings, with_app=with_app)
    store = _connect(settings, kind)
    try:
        check_endpoint(store.endpoint, settings.allowed_hosts, what=f"{store.name} target")
    except BaseException:
        store.close()
        raise
    return store


def open_database(settings: Settings) -> PostgresStore:
    """A direct connection to the target's database (``database_url``), whatever the store reads
    through, behind the same guard as ``open_store``: for what only a database connection can do
    (its catalog)."""
    from harness.store.postgres import PostgresStore

    _require(settings, "postgres")
    assert settings.database_url
    check_database_url(settings.database_url, settings.allowed_hosts)
    store = PostgresStore(
        database_url=settings.database_url,
        model=settings.model,
        statement_timeout=settings.statement_timeout,
    )
    try:
        check_endpoint(store.endpoint, settings.allowed_hosts, what="postgres target")
    except BaseException:
        store.close()
        raise
    return store


def check_hosts(settings: Settings, *, with_app: bool = False) -> None:
    """Refuse, before connecting, a target host that is neither loopback nor allow-listed.

    The host checked is the one the store reaches: the database (``postgres``),
    the Supabase project (``supabase``) or the app (``api``); with ``with_app``
    the app's too, whichever store it is (or when no store is given at all).
    """
    try:
        kind: str | None = store_kind(settings)
    except BadInput:  # no store given: only the app, if any, is reached
        kind = None
    if kind == "postgres" and settings.database_url:
        check_database_url(settings.database_url, settings.allowed_hosts)
    elif kind == "supabase" and settings.supabase_url:
        check_url(settings.supabase_url, settings.allowed_hosts, what="Supabase")
    if settings.app_url and (kind == "api" or with_app):
        check_url(settings.app_url, settings.allowed_hosts, what="app")


def _require(settings: Settings, kind: str) -> None:
    """Bad input when the store of ``kind`` is not given what it needs to connect."""
    if kind == "postgres" and not settings.database_url:
        raise BadInput(
            "the postgres store needs a database", fix="pass --database-url URL or set DATABASE_URL"
        )
    if kind == "supabase" and (not settings.supabase_url or not settings.supabase_key):
        raise BadInput(
            "the supabase store needs the project's URL and service-role key",
            fix="pass --supabase-url and --supabase-key (or SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY)",
        )
    if kind == "api" and (not settings.app_url or not settings.admin_token):
        raise BadInput(
            "the api store needs the app's URL and its admin token",
            fix="pass --app-url and --admin-token (or PITSTOP_APP_URL, PITSTOP_ADMIN_TOKEN)",
        )


def _connect(settings: Settings, kind: str) -> Store:
    """The store of ``kind``, connected (``_require`` said it has what it needs)."""
    if kind == "postgres":
        from harness.store.postgres import PostgresStore

        assert settings.database_url
        return PostgresStore(
            database_url=settings.database_url,
            model=settings.model,
            statement_timeout=settings.statement_timeout,
        )
    if kind == "supabase":
        from harness.store.supabase import SupabaseStore

        assert settings.supabase_url and settings.supabase_key
        return SupabaseStore(
            url=settings.supabase_url,
            key=settings.supabase_key,
            test_domain=settings.test_domain,
            model=settings.model,
        )
    from harness.store.api import ApiStore

    assert settings.app_url and settings.admin_token
    return ApiStore(
        app_url=settings.app_url,
        admin_token=settings.admin_token,
        user_password=settings.user_password,
        login_path=settings.login_path,
    )
