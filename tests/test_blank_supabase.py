"""The embedded stack's blank check on a Supabase-shaped database (``harness.stack.embedded``).

Supabase's own schemas and roles do not make a database "not blank": a fresh
local Supabase database (``supabase start``, before any app migration) holds
Supabase Auth's, Storage's and Realtime's schemas, the extensions' namespace
with the platform's functions there, pg_graphql's, pgbouncer's, Vault's, and
the CLI's webhooks and migration history. The stack takes such a database,
and one that ``pitstop install --with-app-schema`` made, and refuses (exit 3,
nothing written) one that holds a single object of the user's own.

The PostgreSQL here (pgserver's) ships no Supabase extension, so the shape is
built from ``pitstop sql --platform`` (Supabase's roles and auth schema) and
SUPABASE_SHAPE below: the schemas, tables, views, functions and types a
Supabase database has there, owned by Supabase's roles where the platform
script makes them, with the one extension this server ships in ``extensions``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from harness.errors import Refused
from harness.rules.model.catalog import PLATFORM_SCHEMAS
from harness.stack import processes
from harness.stack.embedded import STACK_MARK, EmbeddedStack, StackInfo, reference_app
from harness.stack.postgres import LocalPostgres
from tests.conftest import run_cli
from tests.model_worlds import database_with, drop_database, has_pitstop

WAIT_S = 60

# What a `supabase start` database has beyond pitstop's platform script (Supabase's roles and the
# auth tables pitstop's scenarios need), as Supabase Auth, Storage, Realtime, pg_graphql, pgbouncer,
# Vault and the CLI leave it: a sample of each, tables, views, sequences, functions and types.
SUPABASE_SHAPE = """
-- Supabase Auth's own bookkeeping, beside the tables the platform script makes; its role owns it.
create table auth.schema_migrations (version varchar(255) primary key);
create table auth.audit_log_entries (
    instance_id uuid, id uuid primary key, payload json, created_at timestamptz,
    ip_address varchar(64) not null default ''
);
create type auth.one_time_token_type as enum (
    'confirmation_token', 'recovery_token', 'email_change_token_new'
);
create table auth.custom_oauth_providers (
    id uuid primary key default gen_random_uuid(), name text not null unique, created_at timestamptz
);
alter table auth.schema_migrations owner to supabase_auth_admin;
alter table auth.audit_log_entries owner to supabase_auth_admin;
alter table auth.custom_oauth_providers owner to supabase_auth_admin;
alter type auth.one_time_token_type owner to supabase_auth_admin;
insert into auth.schema_migrations values ('20240612123726');

-- Storage.
create schema storage;
create type storage.buckettype as enum ('STANDARD', 'ANALYTICS');
create table storage.buckets (
    id text primary key, name text not null, owner uuid references auth.users,
    public boolean default false, type storage.buckettype not null default 'STANDARD',
    created_at timestamptz default now(), updated_at timestamptz default now()
);
create unique index bname on storage.buckets (name);
create table storage.objects (
    id uuid primary key default gen_random_uuid(), bucket_id text references storage.buckets,
    name text, owner uuid, created_at timestamptz default now(), metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored
);
alter table storage.objects enable row level security;
create table storage.migrations (
    id integer primary key, name varchar(100) unique not null, hash varchar(40) not null,
    executed_at timestamp default current_timestamp
);
create function storage.foldername(name text) returns text[] language sql immutable
    as $$ select (string_to_array(name, '/'))[1:cardinality(string_to_array(name, '/')) - 1] $$;
create function storage.filename(name text) returns text language sql immutable
    as $$ select (string_to_array(name, '/'))[cardinality(string_to_array(name, '/'))] $$;
insert into storage.migrations values (0, 'create-migrations-table', repeat('0', 40));
insert into storage.buckets (id, name) values ('avatars', 'avatars');

-- Realtime: its enums and composite types, its partitioned messages, an identity sequence.
create schema realtime;
create type realtime.action as enum ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ERROR');
create type realtime.equality_op as enum ('eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in');
create type realtime.wal_column as (name text, type_name text, value jsonb, is_pkey boolean);
create table realtime.schema_migrations (version bigint primary key, inserted_at timestamp(0));
create table realtime.subscription (
    id bigint generated always as identity primary key, subscription_id uuid not null,
    entity regclass not null, claims jsonb not null,
    created_at timestamp not null default timezone('utc', now())
);
create table realtime.messages (
    topic text not null, extension text not null, payload jsonb, event text,
    private boolean default false, inserted_at timestamp not null default now(),
    id uuid not null default gen_random_uuid(), primary key (id, inserted_at)
) partition by range (inserted_at);
create table realtime.messages_2025_01_01 partition of realtime.messages
    for values from ('2025-01-01') to ('2025-01-02');
create function realtime.topic() returns text language sql stable
    as $$ select nullif(current_setting('realtime.topic', true), '') $$;
create schema _realtime;
create table _realtime.tenants (id uuid primary key, external_id text unique, jwt_secret text);

-- The extensions' namespace: an extension's objects, and the platform's event-trigger functions.
create schema extensions;
create extension vector with schema extensions;
create function extensions.pgrst_ddl_watch() returns event_trigger language plpgsql
    as $$ begin notify pgrst, 'reload schema'; end $$;
create event trigger pgrst_ddl_watch on ddl_command_end execute function extensions.pgrst_ddl_watch();
create function extensions.grant_pg_net_access() returns event_trigger language plpgsql
    as $$ begin end $$;

-- pg_graphql's schemas and the REST API's GraphQL endpoint.
create schema graphql;
create schema graphql_public;
create function graphql_public.graphql(
    "operationName" text default null, query text default null, variables jsonb default null,
    extensions jsonb default null
) returns jsonb language sql as $$ select '{}'::jsonb $$;

-- pgbouncer's auth lookup.
create schema pgbouncer;
create function pgbouncer.get_auth(p_usename text) returns table (username text, password text)
    language sql security definer
    as $$ select rolname::text, rolpassword::text from pg_authid where rolname = p_usename and rolcanlogin $$;

-- Vault: its table and the view that decrypts it.
create schema vault;
create table vault.secrets (
    id uuid primary key default gen_random_uuid(), name text unique, secret text not null,
    created_at timestamptz not null default now()
);
create view vault.decrypted_secrets as select id, name, secret, secret as decrypted_secret from vault.secrets;

-- The CLI's database webhooks and migration history.
create schema supabase_functions;
create table supabase_functions.migrations (version text primary key, inserted_at timestamptz default now());
create table supabase_functions.hooks (
    id bigserial primary key, hook_table_id integer not null, hook_name text not null, request_id bigint
);
create function supabase_functions.http_request() returns trigger language plpgsql
    as $$ begin return new; end $$;
insert into supabase_functions.migrations (version) values ('initial');
create schema supabase_migrations;
create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
create table supabase_migrations.seed_files (path text primary key, hash text not null);
create schema _analytics;

grant usage on schema storage, realtime, extensions, graphql_public to anon, authenticated, service_role;
"""

# Every object of the database outside PostgreSQL's own schemas (extensions' included), as its kind,
# its schema and its name; and the rows the platform keeps in a few of its tables.
OBJECTS = """
select 'schema', nspname, nspname from pg_namespace
union all
select 'relation ' || c.relkind::text, n.nspname, c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
union all
select 'function', n.nspname, p.oid::regprocedure::text
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
union all
select 'type', n.nspname, t.oid::regtype::text from pg_type t join pg_namespace n on n.oid = t.typnamespace
"""
PLATFORM_ROWS = """
select 'row', 'storage', 'buckets ' || id from storage.buckets
union all
select 'row', 'auth', 'schema_migrations ' || version from auth.schema_migrations
union all
select 'row', 'supabase_functions', 'migrations ' || version from supabase_functions.migrations
"""


def _objects(url: str, *, platform_only: bool = False) -> set[tuple[str, str, str]]:
    """Every object (kind, schema, name); with ``platform_only``, those in Supabase's schemas and
    the platform's rows."""
    with psycopg.connect(url) as conn:
        found = {
            (kind, schema, name)
            for kind, schema, name in conn.execute(OBJECTS)
            if schema not in ("pg_catalog", "information_schema") and not schema.startswith("pg_")
        }
        if platform_only:
            rows = set(conn.execute(PLATFORM_ROWS).fetchall())
    if not platform_only:
        return found
    return {o for o in found if o[1] in PLATFORM_SCHEMAS} | rows


@pytest.fixture
def supabase_db(postgres: LocalPostgres) -> Iterator[str]:
    """A fresh Supabase-shaped database of its own (the platform only), dropped afterwards."""
    url = database_with(postgres.url(), SUPABASE_SHAPE, prefix="supabase")
    yield url
    drop_database(postgres.url(), url)


@pytest.fixture
def bare_db(postgres_db_url: str) -> str:
    return postgres_db_url


def _serve(url: str, ready: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--database-url", url, "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(serve: subprocess.Popen[str], ready: Path) -> StackInfo:
    deadline = time.monotonic() + WAIT_S
    while not ready.exists():
        if serve.poll() is not None:
            _, err = serve.communicate()
            pytest.fail(f"serve exited {serve.returncode}: {err[-2000:]}")
        assert time.monotonic() < deadline, "the stack did not get ready"
        time.sleep(0.1)
    return StackInfo.from_json(ready.read_text())


def _serve_refused(url: str) -> subprocess.CompletedProcess[str]:
    """``pitstop serve --database-url URL``, for a database it should refuse (a process of its own:
    serve sets a SIGTERM handler)."""
    return subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        status: int = response.status
        return status


@pytest.mark.usefixtures("no_target_environment")
def test_serve_takes_a_fresh_supabase_database_and_leaves_the_platform_in_place(
    supabase_db: str, tmp_path: Path
) -> None:
    platform = _objects(supabase_db, platform_only=True)
    assert {
        ("relation r", "storage", "objects"),
        ("relation p", "realtime", "messages"),
        ("function", "graphql_public", "graphql_public.graphql(text,text,jsonb,jsonb)"),
        ("row", "storage", "buckets avatars"),
    } <= platform
    ready = tmp_path / "stack.json"
    serve = _serve(supabase_db, ready)
    try:
        info = _wait_ready(serve, ready)
        assert info.database_url == supabase_db
        assert _status(f"{info.app_url}/customer/login") == 200
        children = processes.descendants(serve.pid)
        # The printed customer signs in through the app's Supabase Auth gates, on the platform's auth.users.
        assert serve.stderr is not None
        people = []
        for line in serve.stderr:
            if "Ctrl-C to stop" in line:
                break
            if "/login" in line:
                people.append(line.split())
        role, email, password, login_url = people[0]
        assert role == "customer"
        answer = httpx.post(login_url, data={"email": email, "password": password}, timeout=WAIT_S)
        assert answer.status_code == 303, answer.text[-300:]
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=WAIT_S)
    assert serve.returncode == 0, err
    assert json.loads(out.splitlines()[0])["app_url"] == info.app_url
    assert not any(processes.alive(p) for p in children)
    assert platform <= _objects(supabase_db, platform_only=True)  # Supabase's objects and rows stay
    with psycopg.connect(supabase_db) as conn:
        mark = conn.execute("select value from pitstop.settings where key = %s", (STACK_MARK,)).fetchone()
    assert mark is not None and set(mark[0].split(",")) == reference_app()[0]  # no platform table in it
    # Taken once, it is the stack's own: a second start takes it again.
    with EmbeddedStack(database_url=supabase_db) as again:
        assert _status(f"{again.app_url}/healthz") == 200


@pytest.mark.usefixtures("no_target_environment")
@pytest.mark.parametrize("database", ["supabase_db", "bare_db"])
def test_a_database_that_install_with_app_schema_made_is_the_stacks_own(
    database: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    url: str = request.getfixturevalue(database)
    code, out, _ = run_cli(capsys, "install", "--database-url", url, "--with-app-schema")
    assert code == 0 and "installed the pitstop functions" in out
    with psycopg.connect(url) as conn:  # what the install wrote is pitstop's alone: no mark of the stack
        assert conn.execute(
            "select count(*) from pitstop.settings where key = %s", (STACK_MARK,)
        ).fetchone() == (0,)
    with EmbeddedStack(database_url=url) as info:
        assert _status(f"{info.app_url}/healthz") == 200


OWN_OBJECTS = [
    pytest.param(
        "create table public.consultations (id uuid primary key)", "public.consultations", id="a-table"
    ),
    pytest.param(
        "create function public.handle_new_user() returns trigger language plpgsql"
        " as $$ begin return new; end $$",
        "public.handle_new_user()",
        id="a-function-in-public",
    ),
    pytest.param(
        "create schema billing; create table billing.invoices (id uuid primary key)",
        "billing.invoices",
        id="a-table-in-a-schema-of-its-own",
    ),
    pytest.param(
        "create view public.bucket_names as select name from storage.buckets",
        "public.bucket_names",
        id="a-view-on-a-platform-table",
    ),
    pytest.param(
        "create type public.address as (street text, city text)", "public.address", id="a-composite-type"
    ),
    pytest.param(  # named once: its sequence goes with it
        "create table public.jobs (id bigserial primary key)", "public.jobs", id="a-table-with-a-serial-key"
    ),
    pytest.param("create sequence public.ticket_numbers", "public.ticket_numbers", id="a-sequence"),
]


@pytest.mark.usefixtures("no_target_environment")
@pytest.mark.parametrize(("statement", "named"), OWN_OBJECTS)
def test_a_supabase_database_with_one_object_of_the_users_own_is_refused_untouched(
    supabase_db: str, statement: str, named: str
) -> None:
    with psycopg.connect(supabase_db, autocommit=True) as conn:
        conn.execute(statement.encode())
    before = _objects(supabase_db)
    result = _serve_refused(supabase_db)
    assert result.returncode == 3, result.stderr
    assert f"holds objects of its own ({named}); nothing was written" in result.stderr
    assert "--base-url" in result.stderr and "Traceback" not in result.stderr
    assert not has_pitstop(supabase_db)
    assert _objects(supabase_db) == before


@pytest.mark.usefixtures("no_target_environment")
@pytest.mark.parametrize(("statement", "named"), OWN_OBJECTS[:2])
def test_an_installed_reference_app_with_an_object_of_the_users_own_is_refused(
    supabase_db: str, statement: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What install --with-app-schema wrote counts as the stack's; what the user added since does not."""
    assert run_cli(capsys, "install", "--database-url", supabase_db, "--with-app-schema")[0] == 0
    with psycopg.connect(supabase_db, autocommit=True) as conn:
        conn.execute(statement.encode())
    before = _objects(supabase_db)
    result = _serve_refused(supabase_db)
    assert result.returncode == 3, result.stderr
    assert f"holds objects of its own ({named}); nothing was written" in result.stderr  # that one alone
    assert _objects(supabase_db) == before


def test_a_lone_reference_name_is_not_the_reference_app(supabase_db: str) -> None:
    """Only the reference app's tables make its name the stack's: the function alone is the user's."""
    with psycopg.connect(supabase_db, autocommit=True) as conn:
        conn.execute("create function public.notify_page_change() returns int language sql as 'select 1'")
    with pytest.raises(Refused, match=r"holds objects of its own \(public\.notify_page_change\(\)\)"):
        EmbeddedStack(database_url=supabase_db).start()
    assert not has_pitstop(supabase_db)


def test_the_reference_app_is_read_from_its_schema() -> None:
    tables, objects = reference_app()
    assert "public.sessions" in tables and "public.profiles" in tables and len(tables) == 6
    assert objects - tables == {"public.notify_page_change()"}
