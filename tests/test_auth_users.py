"""Test users on both shapes of auth.users: Supabase Auth's own and an app's smaller imitation.

On Supabase's shape a user pitstop makes must pass every gate of Supabase
Auth's password sign-in (checked here on the row; the reference app's login,
which applies the same gates, is tested in tests/reference_app/test_auth.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import bcrypt
import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from harness.config.settings import RunConfig, Settings
from harness.engine.personas import Personas, TestUser
from harness.engine.run import Run, Target
from harness.errors import BadInput
from harness.store.auth_users import EMPTY_TOKENS, NIL_UUID, read_shape
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder

SCHEMAS = Path(__file__).parent / "schemas"


@contextmanager
def _database(postgres_url: str, *, minimal: bool) -> Iterator[str]:
    """A database of its own with either shape of auth.users and the app schema, dropped afterwards."""
    name = f"auth_{'minimal' if minimal else 'supabase'}_{uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        if minimal:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute((SCHEMAS / "minimal_auth.sql").read_bytes())
        with PostgresStore(database_url=url) as store:
            store.install(test_domain="pitstop.test", with_app_schema=True)
        yield url
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"drop database {name} with (force)")


@pytest.fixture(params=["supabase", "minimal"])
def shaped(request: pytest.FixtureRequest, database_url: str) -> Iterator[PostgresStore]:
    """A store on a database of its own with either shape of auth.users."""
    with (
        _database(database_url, minimal=request.param == "minimal") as url,
        PostgresStore(database_url=url) as store,
    ):
        yield store


@pytest.fixture
def supabase(database_url: str) -> Iterator[PostgresStore]:
    with _database(database_url, minimal=False) as url, PostgresStore(database_url=url) as store:
        yield store


def _make(store: PostgresStore, label: str = "customer", *, seed: object = 0) -> TestUser:
    return Personas(run_id="r1", worker_id="gw0", seed=seed).create(store, label, "customer")


def _row(store: PostgresStore, user_id: UUID) -> dict[str, Any]:
    with store.connection.cursor(row_factory=dict_row) as cur:
        row = cur.execute("select * from auth.users where id = %s", (user_id,)).fetchone()
    assert row is not None
    return row


def test_the_shapes_are_told_apart(shaped: PostgresStore) -> None:
    shape = shaped.auth_shape()
    assert shape.missing == ()
    if shape.is_supabase:
        assert shape.identities and not shape.id_has_default
        assert shape.sign_in_gaps == ()
    else:
        assert not shape.identities and shape.id_has_default
        assert "instance_id" in shape.sign_in_gaps and "aud" in shape.sign_in_gaps


def test_a_test_user_passes_every_sign_in_gate_of_supabase_auth(supabase: PostgresStore) -> None:
    user = _make(supabase)
    row = _row(supabase, user.id)
    # The password grant's lookup finds it, and only it.
    found = supabase.connection.execute(
        "select id from auth.users where instance_id = %s and aud = 'authenticated'"
        " and lower(email) = lower(%s) and is_sso_user = false and deleted_at is null",
        (NIL_UUID, user.email.upper()),
    ).fetchall()
    assert found == [(user.id,)]
    # What it reads into non-null values is not NULL; the tokens are empty strings.
    for column in EMPTY_TOKENS:
        assert row[column] == "", column
    for column in ("aud", "role", "created_at", "updated_at", "instance_id"):
        assert row[column] is not None, column
    assert row["role"] == "authenticated"
    assert row["email_confirmed_at"] is not None and row["confirmed_at"] is not None
    assert row["banned_until"] is None
    assert row["raw_app_meta_data"] == {"provider": "email", "providers": ["email"]}
    assert row["raw_user_meta_data"]["pitstop"] is True
    # The printed password verifies against the stored hash, a $2a$ hash as Supabase Auth makes.
    assert row["encrypted_password"].startswith("$2a$04$")  # cost 4: Supabase Auth reads the cost
    assert bcrypt.checkpw(user.password.encode(), row["encrypted_password"].encode())


def test_a_test_user_has_an_email_identity(supabase: PostgresStore) -> None:
    user = _make(supabase)
    with supabase.connection.cursor(row_factory=dict_row) as cur:
        identities = cur.execute("select * from auth.identities where user_id = %s", (user.id,)).fetchall()
    assert len(identities) == 1
    identity = identities[0]
    assert identity["provider"] == "email" and identity["provider_id"] == str(user.id)
    assert identity["identity_data"] == {
        "sub": str(user.id),
        "email": user.email.lower(),
        "email_verified": True,
        "phone_verified": False,
    }
    assert identity["email"] == user.email.lower() and identity["created_at"] is not None


def test_making_a_user_again_gives_the_same_user_with_the_new_password(shaped: PostgresStore) -> None:
    first = _make(shaped, seed=1)
    again = _make(shaped, seed=2)  # the same email, another password
    assert again.id == first.id and again.password != first.password
    seed = Seeder(shaped.connection)
    assert seed.count("auth.users", "lower(email) = lower(%s)", (first.email,)) == 1
    assert bcrypt.checkpw(again.password.encode(), _row(shaped, first.id)["encrypted_password"].encode())
    if shaped.auth_shape().identities:
        assert seed.count("auth.identities", "user_id = %s", (first.id,)) == 1


def test_an_sso_user_with_the_same_email_is_not_taken_for_the_test_user(supabase: PostgresStore) -> None:
    email = Personas(run_id="r1", worker_id="gw0").email("customer")
    sso = uuid4()
    supabase.connection.execute(
        "insert into auth.users (id, email, is_sso_user, raw_user_meta_data) values (%s, %s, true, '{}')",
        (sso, email),
    )
    user = _make(supabase)
    assert user.id != sso
    assert _row(supabase, sso)["raw_user_meta_data"] == {}  # the SSO user is left as it was


def test_a_profile_that_a_trigger_made_is_updated_not_doubled(supabase: PostgresStore) -> None:
    conn = supabase.connection
    conn.execute(
        """
        create function public.make_profile() returns trigger language plpgsql as $$
        begin
            insert into public.profiles (id, role, full_name) values (new.id, 'customer', 'from trigger');
            return new;
        end $$;
        create trigger on_auth_user_created after insert on auth.users
            for each row execute function public.make_profile();
        """
    )
    user = Personas(run_id="r1", worker_id="gw0").create(supabase, "mechanic", "mechanic")
    profile = conn.execute("select role, full_name from public.profiles where id = %s", (user.id,)).fetchall()
    assert profile == [("mechanic", user.name)]


def test_deleting_a_test_user_removes_what_supabase_auth_removes_with_it(supabase: PostgresStore) -> None:
    user = _make(supabase)
    conn = supabase.connection
    session = uuid4()
    conn.execute(
        "insert into auth.sessions (id, user_id, created_at) values (%s, %s, now())", (session, user.id)
    )
    conn.execute(
        "insert into auth.refresh_tokens (token, user_id, session_id, revoked) values ('t1', %s, %s, false)",
        (str(user.id), session),
    )
    conn.execute(
        "insert into auth.mfa_factors (id, user_id, factor_type, status, created_at, updated_at)"
        " values (gen_random_uuid(), %s, 'totp', 'verified', now(), now())",
        (user.id,),
    )
    result = supabase.delete_test_user(user.id)
    assert result["users"] == 1
    seed = Seeder(conn)
    for table, where in (
        ("auth.users", "id = %s"),
        ("auth.identities", "user_id = %s"),
        ("auth.sessions", "user_id = %s"),
        ("auth.mfa_factors", "user_id = %s"),
        ("auth.refresh_tokens", "user_id = %s::text"),
        ("public.profiles", "id = %s"),
    ):
        assert seed.count(table, where, (user.id,)) == 0, table


def test_deleting_is_refused_while_a_row_refers_to_the_user_without_a_cascade(
    supabase: PostgresStore,
) -> None:
    conn = supabase.connection
    conn.execute(
        "create schema storage;"
        " create table storage.objects (id uuid primary key default gen_random_uuid(),"
        " name text, owner uuid references auth.users (id))"
    )
    user = _make(supabase)
    other = _make(supabase, "mechanic")
    conn.execute("insert into storage.objects (name, owner) values ('photo.jpg', %s)", (user.id,))
    with pytest.raises(BadInput) as refused:
        supabase.delete_test_user(user.id)
    assert "storage.objects" in refused.value.message and "owner" in refused.value.message
    assert "left in place" in refused.value.message
    assert refused.value.fix and "cascade" in refused.value.fix
    seed = Seeder(conn)
    assert seed.count("auth.users", "id = %s", (user.id,)) == 1  # nothing changed
    assert seed.count("auth.identities", "user_id = %s", (user.id,)) == 1
    assert seed.count("public.profiles", "id = %s", (user.id,)) == 1
    assert supabase.delete_test_user(other.id)["users"] == 1  # the others go on


def test_the_minimal_shape_gets_only_its_own_columns(database_url: str) -> None:
    with _database(database_url, minimal=True) as url, PostgresStore(database_url=url) as store:
        user = _make(store)
        row = _row(store, user.id)
        assert set(row) == {"id", "email", "encrypted_password", "raw_user_meta_data", "created_at"}
        assert bcrypt.checkpw(user.password.encode(), row["encrypted_password"].encode())
        assert store.delete_test_user(user.id)["users"] == 1


def _run_on(url: str) -> Run:
    settings = Settings.load(database_url=url, app_url="http://127.0.0.1:9", env={})
    config = RunConfig(settings=settings, sweep_minutes=30)
    return Run(config, run_id="thisrun", target=Target(settings, "given"))


def _tagged_user(store: PostgresStore, label: str, meta: dict[str, Any], created_at: str | None) -> UUID:
    row = store.connection.execute(
        "insert into auth.users (id, email, raw_user_meta_data, created_at)"
        " values (gen_random_uuid(), %s, %s, %s) returning id",
        (f"{label}@pitstop.test", Jsonb({"pitstop": True, **meta}), created_at),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def test_a_sweep_judges_a_user_without_created_at_by_its_tags(supabase: PostgresStore) -> None:
    import socket

    url = supabase.connection.info.dsn
    host = socket.gethostname()
    dead = _tagged_user(supabase, "dead", {"run": "old", "host": host, "pid": 2**22 + 7}, None)
    alive = _tagged_user(supabase, "alive", {"run": "old", "host": host, "pid": os.getpid()}, None)
    foreign = _tagged_user(supabase, "foreign", {"run": "old", "host": "elsewhere", "pid": 1}, None)
    tagged_old = _tagged_user(
        supabase,
        "tagged",
        {"run": "old", "host": host, "pid": 2**22 + 7, "created_at": "2020-01-01T00:00:00"},
        None,
    )
    run = _run_on(url)
    try:
        swept = run.sweep()
    finally:
        run.close(delete_users=False)
    assert sorted(swept) == ["dead@pitstop.test", "tagged@pitstop.test"]
    left = {r[0] for r in supabase.connection.execute("select id from auth.users").fetchall()}
    assert dead not in left and tagged_old not in left and {alive, foreign} <= left


def test_the_end_of_a_run_goes_on_past_a_user_it_cannot_delete_and_says_why(supabase: PostgresStore) -> None:
    conn = supabase.connection
    conn.execute(
        "create table public.reviews (id serial primary key, author uuid references auth.users (id))"
    )
    run = _run_on(conn.info.dsn)
    try:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        conn.execute("insert into public.reviews (author) values (%s)", (customer.id,))
        left = run.release_users()
    finally:
        run.close(delete_users=True)
    assert [(u["email"], "public.reviews" in u["reason"]) for u in left] == [(customer.email, True)]
    remaining = {r[0] for r in conn.execute("select id from auth.users").fetchall()}
    assert customer.id in remaining and mechanic.id not in remaining


def test_install_refuses_an_auth_users_that_lacks_what_pitstop_needs_and_writes_nothing(
    postgres_db_url: str,
) -> None:
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute("create schema auth; create table auth.users (id uuid primary key, email text)")
    with PostgresStore(database_url=postgres_db_url) as store:
        with pytest.raises(BadInput, match="raw_user_meta_data") as refused:
            store.install(test_domain="pitstop.test", with_app_schema=True)
        assert refused.value.fix and "raw_user_meta_data jsonb" in refused.value.fix
        assert store.connection.execute("select to_regnamespace('pitstop')").fetchone() == (None,)
        assert store.connection.execute("select to_regclass('public.sessions')").fetchone() == (None,)
        assert read_shape(store.connection).columns == {"id", "email"}


def test_an_app_without_the_reference_apps_profiles_gets_users_all_the_same(supabase: PostgresStore) -> None:
    supabase.connection.execute("drop table public.profiles cascade")
    supabase.connection.execute("create table public.profiles (user_id uuid primary key, handle text)")
    with PostgresStore(database_url=supabase.connection.info.dsn) as store:  # reads the catalog anew
        user = _make(store)
        assert _row(store, user.id)["email"] == user.email
        assert store.connection.execute("select count(*) from public.profiles").fetchone() == (0,)
