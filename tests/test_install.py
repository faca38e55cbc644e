"""``install``: the Supabase-shaped platform on a blank database, nothing replaced on a real one,
the shape checked before anything is written, and what it records for ``doctor``."""

from __future__ import annotations

import json

import psycopg
import pytest

from harness import __version__
from harness.errors import BadInput
from harness.rules import sql
from harness.rules.model import Model
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli


def _has_schema(store: PostgresStore, name: str) -> bool:
    return store.connection.execute("select to_regnamespace(%s)", (name,)).fetchone() != (None,)


def test_a_blank_database_gets_a_supabase_shaped_platform(postgres_db_url: str) -> None:
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        conn = store.connection
        shape = store.auth_shape()
        assert shape.is_supabase and shape.identities and not shape.id_has_default
        roles = dict(
            conn.execute(
                "select rolname, rolcanlogin from pg_roles where rolname = any(%s)",
                (["anon", "authenticated", "service_role", "authenticator", "supabase_auth_admin"],),
            ).fetchall()
        )
        assert roles == {
            "anon": False,
            "authenticated": False,
            "service_role": False,
            "authenticator": True,
            "supabase_auth_admin": True,
        }
        bypass = conn.execute("select rolbypassrls from pg_roles where rolname = 'service_role'").fetchone()
        assert bypass == (True,)
        # auth.uid() and auth.role() read the request's claims as PostgREST sets them.
        with conn.transaction(force_rollback=True):
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)",
                ('{"sub": "6f0e3b9e-0d1c-4a57-9d8e-5a4b3c2d1e0f", "role": "authenticated"}',),
            )
            row = conn.execute("select auth.uid()::text, auth.role(), auth.jwt() ->> 'role'").fetchone()
        assert row == ("6f0e3b9e-0d1c-4a57-9d8e-5a4b3c2d1e0f", "authenticated", "authenticated")
        assert conn.execute("select auth.uid()").fetchone() == (None,)  # no request, no user
        # The partial unique index: an SSO user may share an email, two others may not.
        conn.execute("insert into auth.users (id, email) values (gen_random_uuid(), 'a@x.test')")
        conn.execute(
            "insert into auth.users (id, email, is_sso_user) values (gen_random_uuid(), 'a@x.test', true)"
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("insert into auth.users (id, email) values (gen_random_uuid(), 'a@x.test')")
        with pytest.raises(psycopg.errors.NotNullViolation):  # Supabase Auth always supplies the id
            conn.execute("insert into auth.users (email) values ('b@x.test')")


def test_the_platform_replaces_nothing_a_supabase_database_has(postgres_db_url: str) -> None:
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute(
            "create schema auth;"
            " create table auth.users (id uuid primary key, email text, raw_user_meta_data jsonb,"
            " marker int);"
            " create function auth.uid() returns uuid language sql stable"
            " as $$ select '11111111-1111-1111-1111-111111111111'::uuid $$;"
        )
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        conn = store.connection
        assert conn.execute("select auth.uid()::text").fetchone() == ("11111111-1111-1111-1111-111111111111",)
        assert "marker" in store.auth_shape().columns
        assert conn.execute("select to_regclass('auth.identities')").fetchone() == (None,)
        store.install(test_domain="pitstop.test", with_app_schema=True)  # and again: idempotent


def test_install_records_its_version_and_the_hash_of_its_rules(database_url: str) -> None:
    with PostgresStore(database_url=database_url) as store:
        installed = store.installed()
        rules = sql.rules_hash(Model(), store.catalog())
    assert installed == {
        "test_domain": "pitstop.test",
        "version": __version__,
        "sql_hash": rules,
        "model": json.dumps(Model().to_json(), sort_keys=True),
        "model_hash": Model().digest(),
    }
    assert len(installed["sql_hash"]) == 64


def test_without_auth_users_install_refuses_and_writes_nothing(postgres_db_url: str) -> None:
    with PostgresStore(database_url=postgres_db_url) as store:
        with pytest.raises(BadInput, match=r"no auth\.users table") as refused:
            store.install(test_domain="pitstop.test")
        assert refused.value.fix and "--with-app-schema" in refused.value.fix
        assert not _has_schema(store, "pitstop")
        assert store.installed() == {}


def test_on_the_platform_without_the_app_tables_install_says_which_are_missing(postgres_db_url: str) -> None:
    with PostgresStore(database_url=postgres_db_url) as store:
        store.connection.execute(sql.platform().encode())
        with pytest.raises(BadInput, match=r"sessions\.table: there is no table public\.sessions"):
            store.install(test_domain="pitstop.test")
        assert not _has_schema(store, "pitstop")


def test_the_cli_refuses_a_schema_that_does_not_fit_with_exit_2_and_no_traceback(
    postgres_db_url: str, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute("create schema auth; create table auth.users (id uuid primary key, email text)")
    code, _, err = run_cli(capsys, "install", "--with-app-schema", "--database-url", postgres_db_url)
    assert code == 2
    assert "auth.users lacks what pitstop needs: raw_user_meta_data" in err and "fix:" in err
