"""Every command of ``pitstop`` through ``main(argv)``: output, exit code, message."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from harness.errors import BadInput
from harness.stack.postgres import LocalPostgres, free_port
from harness.store.postgres import PostgresStore, connect_error
from tests.conftest import run_cli as run
from tests.seeding import Seeder

UNKNOWN = "00000000-0000-4000-8000-000000000000"  # a uuid no row has


pytestmark = pytest.mark.usefixtures("no_target_environment")


# -- sql and install -------------------------------------------------------------


def test_sql_prints_the_migration(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sql")
    assert code == 0
    assert "create schema if not exists pitstop" in out
    assert "create or replace function pitstop.purge_user" in out
    assert "('test_domain', 'pitstop.test')" in out
    assert "create table if not exists public.sessions" not in out


def test_sql_with_another_domain_and_the_app_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sql", "--test-domain", "QA.example.test", "--with-app-schema")
    assert code == 0
    assert "('test_domain', 'qa.example.test')" in out
    assert out.index("public.sessions") < out.index("create schema if not exists pitstop")


def test_sql_platform_readies_a_bare_postgres_for_the_apps_own_migrations_and_install(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, postgres_db_url: str
) -> None:
    """A bare PostgreSQL (a CI service container): platform, then the app's migrations, then install."""
    code, platform, _ = run(capsys, "sql", "--platform")
    assert code == 0 and "auth.users" in platform and "pitstop." not in platform
    schemas = Path(__file__).with_name("schemas")
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute(platform.encode())
        conn.execute((schemas / "helpdesk.sql").read_text().encode())  # the app's own tables
    config = tmp_path / "pitstop.toml"
    config.write_text((schemas / "helpdesk.toml").read_text())
    code, out, err = run(capsys, "install", "--database-url", postgres_db_url, "--config", str(config))
    assert code == 0, err
    assert "installed the pitstop functions" in out
    code, _, err = run(capsys, "sql", "--platform", "--with-app-schema")
    assert code == 2 and "--platform prints the platform alone" in err


def test_sql_refuses_a_bad_domain(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sql", "--test-domain", "x'; drop table auth.users; --")
    assert code == 2
    assert "not a domain name" in err and "fix:" in err


def test_install_into_a_blank_database(capsys: pytest.CaptureFixture[str], postgres_db_url: str) -> None:
    code, out, _ = run(capsys, "install", "--with-app-schema", "--database-url", postgres_db_url)
    assert code == 0 and "installed the pitstop functions" in out
    assert run(capsys, "install", "--database-url", postgres_db_url)[0] == 0  # idempotent
    code, out, _ = run(capsys, "health", "--json", "--database-url", postgres_db_url)
    assert code == 0 and json.loads(out)["orphans"] == 0


def test_install_on_a_blank_database_says_what_to_do(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str
) -> None:
    code, _, err = run(capsys, "install", "--database-url", postgres_db_url)
    assert code == 2
    assert "no auth.users table" in err and "--with-app-schema" in err


def test_commands_on_a_database_without_pitstop_say_how_to_install(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str
) -> None:
    code, _, err = run(capsys, "health", "--database-url", postgres_db_url)
    assert code == 2 and "pitstop install" in err


# -- reset -------------------------------------------------------------------------


def test_reset_by_email(capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder) -> None:
    email = f"customer-{uuid4().hex[:6]}@pitstop.test"
    user = seed.user(email=email)
    seed.full_session(user)
    code, out, _ = run(capsys, "reset", "--user", email, "--database-url", database_url)
    assert code == 0
    assert f"purged test user {email} ({user}): sessions 1, session_requests 1" in out
    assert seed.count("public.sessions") == 0


def test_reset_by_uuid_as_json(capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder) -> None:
    user = seed.user()
    seed.full_session(user)
    code, out, _ = run(capsys, "reset", "--user", str(user), "--json", "--database-url", database_url)
    assert code == 0
    result = json.loads(out)
    assert result["sessions"] == 1 and result["chat_messages"] == 1 and result["dry_run"] is False


def test_reset_dry_run_changes_nothing(
    capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder
) -> None:
    user = seed.user()
    seed.full_session(user)
    before = seed.snapshot()
    code, out, _ = run(capsys, "reset", "--user", str(user), "--dry-run", "--database-url", database_url)
    assert code == 0
    assert "would purge" in out and "sessions 1" in out and "nothing was changed" in out
    assert seed.snapshot() == before


def test_reset_refuses_a_real_user(
    capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder
) -> None:
    user = seed.user(email="jane@example.com", metadata={})
    seed.full_session(user)
    before = seed.snapshot()
    code, _, err = run(capsys, "reset", "--user", "jane@example.com", "--database-url", database_url)
    assert code == 3
    assert "not a test user" in err and "@pitstop.test" in err
    assert seed.snapshot() == before


@pytest.mark.parametrize(
    ("user", "message"),
    [("nobody@pitstop.test", "no user with email"), ("not-a-uuid", "is not a user id")],
)
def test_reset_of_an_unknown_user_is_bad_input(
    capsys: pytest.CaptureFixture[str], database_url: str, store: PostgresStore, user: str, message: str
) -> None:
    code, _, err = run(capsys, "reset", "--user", user, "--database-url", database_url)
    assert code == 2 and message in err


def test_reset_of_an_unknown_uuid_is_bad_input(
    capsys: pytest.CaptureFixture[str], database_url: str, store: PostgresStore
) -> None:
    code, _, err = run(capsys, "reset", "--user", str(uuid4()), "--database-url", database_url)
    assert code == 2 and "unknown user" in err


def test_reset_needs_a_user(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "reset")
    assert code == 2 and "--user" in err


# -- cleanup and force-cancel ---------------------------------------------------------


def test_cleanup_with_thresholds(capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder) -> None:
    customer = seed.user()
    seed.session(customer, age_minutes=12)
    seed.session(customer, age_minutes=8)
    code, out, _ = run(capsys, "cleanup", "--waiting-minutes", "10", "--database-url", database_url)
    assert code == 0
    assert "expired 1 pending requests older than 10 min; cancelled 1 sessions (0 orphaned)" in out
    assert seed.count("public.sessions", "status = 'waiting'") == 1


def test_cleanup_dry_run_as_json(capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder) -> None:
    seed.session(seed.user(), age_minutes=30, request=None)
    before = seed.snapshot()
    code, out, _ = run(capsys, "cleanup", "--dry-run", "--json", "--database-url", database_url)
    assert code == 0
    assert json.loads(out) == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 1,
        "dry_run": True,
    }
    assert seed.snapshot() == before


@pytest.mark.parametrize("minutes", ["-1", "soon", "1.5"])
def test_cleanup_refuses_bad_minutes(capsys: pytest.CaptureFixture[str], minutes: str) -> None:
    code, _, err = run(capsys, "cleanup", "--waiting-minutes", minutes)
    assert code == 2 and "whole number of minutes" in err


def test_force_cancel(capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder) -> None:
    seeded = seed.session(seed.user(), status="live", request="accepted")
    code, out, _ = run(capsys, "force-cancel", str(seeded.session), "--database-url", database_url)
    assert code == 0 and f"cancelled session {seeded.session} (was live)" in out
    assert seed.status(seeded.session) == "cancelled"
    code, _, err = run(capsys, "force-cancel", str(seeded.session), "--database-url", database_url)
    assert code == 2 and "already ended (cancelled)" in err


@pytest.mark.parametrize(
    ("session", "message"), [("42", "is not a session id"), (UNKNOWN, "unknown session")]
)
def test_force_cancel_bad_input(
    capsys: pytest.CaptureFixture[str], database_url: str, store: PostgresStore, session: str, message: str
) -> None:
    code, _, err = run(capsys, "force-cancel", session, "--database-url", database_url)
    assert code == 2 and message in err


# -- health ----------------------------------------------------------------------


def test_health_json_is_one_object_with_the_contract_keys(
    capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder
) -> None:
    seed.session(seed.user(), age_minutes=20)
    code, out, _ = run(capsys, "health", "--json", "--database-url", database_url)
    assert code == 0  # problems, but not --strict
    health = json.loads(out)
    assert list(health) == ["checked_at", "sessions", "requests", "orphans", "problems"]
    assert health["sessions"]["waiting"] == {"total": 1, "stale": 1, "veryStale": 0}
    assert {p["code"] for p in health["problems"]} == {"stale_waiting", "stale_pending_requests"}


def test_health_strict_exits_1_on_problems_and_0_without(
    capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder
) -> None:
    customer = seed.user()
    seed.session(customer, age_minutes=5)
    assert run(capsys, "health", "--strict", "--database-url", database_url)[0] == 0
    code, _, _ = run(capsys, "health", "--strict", "--stale-minutes", "4", "--database-url", database_url)
    assert code == 1


def test_health_text(capsys: pytest.CaptureFixture[str], database_url: str, seed: Seeder) -> None:
    seed.session(seed.user(), age_minutes=70, request=None)
    code, out, _ = run(capsys, "health", "--database-url", database_url)
    assert code == 0
    assert "pitstop health: postgres 127.0.0.1:" in out
    assert "waiting 1 (stale 1, veryStale 1)" in out
    assert "- orphaned_sessions (1):" in out


def test_health_refuses_inverted_thresholds(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    code, _, err = run(
        capsys, "health", "--stale-minutes", "30", "--very-stale-minutes", "5", "--database-url", database_url
    )
    assert code == 2 and "very_stale_minutes" in err


# -- the target and the guard ------------------------------------------------------


def test_no_database_given(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "health")
    assert code == 2 and "--database-url" in err and "DATABASE_URL" in err


def test_database_url_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    store: PostgresStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert run(capsys, "cleanup")[0] == 0


def test_an_unreachable_database_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    for argv in (["health"], ["cleanup"], ["reset", "--user", "a@pitstop.test"]):
        code, _, err = run(capsys, *argv, "--database-url", url)
        assert code == 4 and "could not connect" in err


def test_a_malformed_database_url_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "health", "--database-url", "postgresql://[oops")
    assert code == 2 and "not a valid connection string" in err


def test_a_connection_string_libpq_cannot_parse_says_so_without_a_blank_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "health", "--database-url", "not a url")
    assert code == 2
    assert err.splitlines()[0].endswith('missing "=" after "not" in connection info string')
    assert "\n\n" not in err and "\n  fix: give a URL such as postgresql://" in err


CONNECTING_TO_POSTGRES = (["health"], ["doctor"], ["install"])


@pytest.mark.parametrize(
    ("option", "says"),
    [
        ("connect_timeout=abc", "bad value for connect_timeout: 'abc'"),  # psycopg's
        ("sslmode=bogus", 'invalid sslmode value: "bogus"'),  # libpq's, before connecting
        ("keepalives=x", 'invalid integer value "x" for connection option "keepalives"'),
        (
            "options=-c%20statement_timeout%3Dabc",
            'invalid value for parameter "statement_timeout"',
        ),  # the server's
    ],
)
@pytest.mark.parametrize("argv", CONNECTING_TO_POSTGRES, ids=" ".join)
def test_a_bad_option_in_the_database_url_is_bad_input_naming_it(
    capsys: pytest.CaptureFixture[str], database_url: str, argv: list[str], option: str, says: str
) -> None:
    code, out, err = run(capsys, *argv, "--database-url", f"{database_url}?{option}")
    assert code == 2 and out == ""
    name = option.split("=")[0]
    assert err.startswith(f"pitstop: error: the database URL is not a valid connection string: {says}")
    assert err.endswith(
        f"\n  fix: correct {name} in the database URL (--database-url / DATABASE_URL), or leave it out\n"
    )


def test_an_unknown_query_parameter_is_named_by_the_store(database_url: str) -> None:
    """The store's own words, as a library user meets them (the CLI's guard parses the URL first)."""
    with pytest.raises(BadInput) as refused:
        PostgresStore(database_url=f"{database_url}?colour=blue")
    message, fix = refused.value.message, refused.value.fix
    assert (
        message == 'the database URL is not a valid connection string: invalid URI query parameter: "colour"'
    )
    assert fix == (
        "remove ?colour= from the database URL (--database-url / DATABASE_URL): it is not a libpq "
        "connection option"
    )


@pytest.mark.parametrize(
    ("url", "pieces"),
    [
        ("postgresql://u:s3cr%zzet@127.0.0.1:{port}/postgres", ["s3cr%zzet", "zzet"]),
        ("postgresql://u:s3cr et@127.0.0.1:{port}/postgres", ["s3cr et", "s3cr"]),
        ("host=127.0.0.1 port={port} password=ab cd", ["ab cd", '"cd"']),
        ("postgresql://127.0.0.1:{port}/postgres?password=s3cr%zzet&sslmode=disable", ["s3cr%zzet"]),
    ],
)
def test_a_connection_string_libpq_cannot_parse_never_shows_its_password(
    capsys: pytest.CaptureFixture[str], postgres: LocalPostgres, url: str, pieces: list[str]
) -> None:
    """libpq quotes the fragment it could not parse, which is often the password: never shown."""
    url = url.format(port=postgres.port)
    with pytest.raises(BadInput) as refused:
        PostgresStore(database_url=url)
    said = str(refused.value)
    assert said.startswith("the database URL is not a valid connection string: ") and '"***"' in said
    assert refused.value.fix
    for piece in pieces:
        assert piece not in said
    code, out, err = run(capsys, "health", "--database-url", url)  # the guard reads it first
    assert (code, out) == (2, "") and "not a valid connection string" in err
    for piece in pieces:
        assert piece not in err


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:qzv/xkw@127.0.0.1:{port}/postgres",
        "postgresql://u:qzv/xkw@127.0.0.1:{port},127.0.0.1:{port}/postgres",
        "postgresql://u:qz#kw/xv@127.0.0.1:{port}/postgres",
    ],
)
def test_a_slash_in_the_password_is_bad_input_saying_to_percent_encode_it(
    capsys: pytest.CaptureFixture[str], postgres: LocalPostgres, url: str
) -> None:
    """libpq reads ``u:qzv/xkw@...`` as host u, port qzv: not a server that did not answer (exit 4)."""
    url = url.format(port=postgres.port)
    code, out, err = run(capsys, "health", "--database-url", url, "--allow-host", "u")
    assert (code, out) == (2, "")
    assert err.startswith("pitstop: error: the database URL is not a valid connection string: its port is")
    assert "fix: correct port in the database URL" in err and "must be percent-encoded" in err
    for piece in ("qz", "xk", "kw", "xv"):  # no fragment of the password
        assert piece not in err
    with pytest.raises(BadInput, match="port is not a number"):
        PostgresStore(database_url=url)


def test_an_at_sign_in_the_password_is_bad_input_saying_to_percent_encode_it(postgres: LocalPostgres) -> None:
    """libpq reads ``u:pa@ss@127.0.0.1`` as password pa at host ss@127.0.0.1: the host is refused unshown."""
    with pytest.raises(BadInput) as refused:
        PostgresStore(database_url=f"postgresql://u:pa@ss@127.0.0.1:{postgres.port}/postgres")
    assert str(refused.value).startswith("the database URL is not a valid connection string: its host has")
    assert "ss@" not in str(refused.value) and "% as %25" in str(refused.value)


def test_a_password_with_a_slash_percent_encoded_signs_in(
    capsys: pytest.CaptureFixture[str], postgres: LocalPostgres
) -> None:
    """The fix the port error gives works: / as %2F in the URL's password."""
    role = f"pw_{uuid4().hex[:8]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create role {role} login password 'pa/ss'")
    try:
        with hba_rule(postgres, role, "scram-sha-256"):
            url = f"postgresql://{role}:pa%2Fss@127.0.0.1:{postgres.port}/postgres"
            code, _, err = run(capsys, "health", "--database-url", url)
            assert "refused the login" not in err and code in (1, 2)  # signed in; no pitstop functions there
            wrong = f"postgresql://{role}:pa%2Fxx@127.0.0.1:{postgres.port}/postgres"
            code, _, err = run(capsys, "health", "--database-url", wrong)
            assert code == 2 and "refused the login: password authentication failed" in err
    finally:
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute(f"drop role {role}")


def test_a_connect_error_with_no_words_names_its_type() -> None:
    """An exception with an empty message (and no SQLSTATE, as psycopg 3 gives a failed connect)."""
    error = connect_error(psycopg.OperationalError(""))
    assert str(error).startswith("could not connect to the database: OperationalError")


@contextmanager
def hba_rule(postgres: LocalPostgres, role: str, method: str) -> Iterator[None]:
    """``host all ROLE all METHOD`` first in pg_hba.conf of the shared server (whose roles are
    otherwise trusted) while in the block: it changes how this role alone signs in."""
    hba = postgres.data_dir / "pg_hba.conf"
    before = hba.read_text()
    try:
        hba.write_text(f"host all {role} all {method}\n{before}")
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")
        deadline = time.monotonic() + 10
        while True:  # the postmaster reads the file on SIGHUP: wait until this role is not let in as before
            try:
                psycopg.connect(f"postgresql://{role}@127.0.0.1:{postgres.port}/postgres").close()
            except psycopg.OperationalError:
                break
            assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
            time.sleep(0.05)
        yield
    finally:
        hba.write_text(before)
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")


@pytest.fixture
def password_role(postgres: LocalPostgres) -> Iterator[str]:
    """The URL of a role that must sign in with its password (scram-sha-256)."""
    role, password = f"pw_{uuid4().hex[:8]}", "right-password"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create role {role} login password '{password}'")
    try:
        with hba_rule(postgres, role, "scram-sha-256"):
            yield f"postgresql://{role}:{password}@127.0.0.1:{postgres.port}/postgres"
    finally:
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute(f"drop role {role}")


@pytest.mark.parametrize("argv", CONNECTING_TO_POSTGRES, ids=" ".join)
def test_a_refused_login_is_bad_input_saying_to_check_the_user_and_password(
    capsys: pytest.CaptureFixture[str], password_role: str, argv: list[str]
) -> None:
    role = password_role.split("//")[1].split(":")[0]
    port = password_role.split(":")[-1].split("/")[0]
    fix = "\n  fix: check the user name and password in the database URL (--database-url / DATABASE_URL)\n"
    server = f'(server at "127.0.0.1", port {port})'
    for url, says in (
        (
            password_role.replace("right-password", "wrong"),
            f'password authentication failed for user "{role}"',
        ),
        (password_role.replace(":right-password", ""), "fe_sendauth: no password supplied"),
        (f"postgresql://nobody:x@127.0.0.1:{port}/postgres", 'role "nobody" does not exist'),
    ):
        code, out, err = run(capsys, *argv, "--database-url", url)
        assert (code, out) == (2, "")  # as a rejected key or token is for the other stores; not unreachable
        assert err == f"pitstop: error: the database refused the login: {says} {server}{fix}"
    # The right password connects (and finds no pitstop functions there, or no auth.users to install into).
    code, _, err = run(capsys, *argv, "--database-url", password_role)
    assert "refused the login" not in err and code in (1, 2)


def test_a_role_that_pg_hba_conf_rejects_is_a_refused_login(
    capsys: pytest.CaptureFixture[str], password_role: str, postgres: LocalPostgres
) -> None:
    role = password_role.split("//")[1].split(":")[0]
    with hba_rule(postgres, role, "reject"):
        code, _, err = run(capsys, "health", "--database-url", password_role)
    assert code == 2
    said = f'pg_hba.conf rejects connection for host "127.0.0.1", user "{role}"'
    assert err.startswith(f"pitstop: error: the database refused the login: {said}")
    assert err.endswith(
        "(--database-url / DATABASE_URL), and that the server's pg_hba.conf lets this host in\n"
    )


def test_a_database_the_server_does_not_have_is_bad_input(
    capsys: pytest.CaptureFixture[str], postgres: LocalPostgres
) -> None:
    code, _, err = run(capsys, "health", "--database-url", postgres.url("no_such_db"))
    assert code == 2
    assert err.startswith(
        'pitstop: error: the database server refused the connection: database "no_such_db" does not exist'
    )
    assert "fix: check the database name (the URL's path, after host:port/)" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["install"],
        ["reset", "--user", "a@pitstop.test"],
        ["cleanup"],
        ["cleanup", "--dry-run"],
        ["force-cancel", UNKNOWN],
    ],
)
def test_a_live_stripe_key_refuses_every_write(
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    seed: Seeder,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    seed.session(seed.user(), age_minutes=30)
    before = seed.snapshot()
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_51Habc")
    code, _, err = run(capsys, *argv, "--database-url", database_url)
    assert code == 3 and "live key" in err and "sk_test_" in err
    assert seed.snapshot() == before


def test_a_remote_database_is_refused_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    # 192.0.2.0/24 is reserved for documentation: nothing answers there, and
    # nothing is sent, because the guard refuses first.
    code, _, err = run(capsys, "cleanup", "--database-url", "postgresql://postgres@192.0.2.10/postgres")
    assert code == 3
    assert "not on this machine" in err and "--allow-host 192.0.2.10" in err


def test_the_allow_list_lets_a_named_host_through(
    capsys: pytest.CaptureFixture[str], postgres: object, store: PostgresStore
) -> None:
    port = store.connection.info.port
    url = f"host=staging-db.invalid hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres"
    assert run(capsys, "cleanup", "--database-url", url)[0] == 0  # the address is loopback
    remote = f"postgresql://postgres@192.0.2.10:{port}/postgres"
    assert run(capsys, "cleanup", "--database-url", remote, "--allow-host", "other.example")[0] == 3


# Every command that connects to a target, reads and writes alike (README: the safety guard).
CONNECTING = [
    ["health"],
    ["doctor"],
    ["inspect"],
    ["sql"],
    ["install"],
    ["reset", "--user", "a@pitstop.test"],
    ["cleanup"],
    ["cleanup", "--dry-run"],
    ["force-cancel", UNKNOWN],
]


@pytest.mark.parametrize("argv", CONNECTING, ids=" ".join)
def test_reads_and_writes_alike_refuse_a_remote_database(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--database-url", "postgresql://postgres@192.0.2.10/postgres")
    assert code == 3, err
    assert "not on this machine" in err and "--allow-host 192.0.2.10" in err and out == ""


@pytest.mark.parametrize(
    "argv", [a for a in CONNECTING if a[0] not in ("inspect", "sql", "install")], ids=" ".join
)
def test_reads_and_writes_alike_refuse_a_remote_app(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run(capsys, *argv, "--app-url", "https://192.0.2.10", "--admin-token", "t")
    assert code == 3 and "the app at 192.0.2.10" in err and "--allow-host 192.0.2.10" in err


def test_reads_reach_a_loopback_database_by_any_name(
    capsys: pytest.CaptureFixture[str], postgres: object, store: PostgresStore
) -> None:
    port = store.connection.info.port
    url = f"host=staging-db.invalid hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres"
    for argv in (["health"], ["inspect"], ["sql"]):
        assert run(capsys, *argv, "--database-url", url)[0] == 0, argv


def test_help_and_unknown_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "exit codes" in out
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err


def test_the_console_entry_point_runs(database_url: str, store: PostgresStore) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness", "health", "--json", "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["problems"] == []


def test_serve_with_a_ready_file_in_no_folder_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "serve", "--ready-file", "/no/such/folder/stack.json")
    assert code == 2 and "is not a folder" in err


def test_a_migration_folder_that_is_a_file_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    taken = tmp_path / "migrations"
    taken.write_text("not a folder")
    code, _, err = run(capsys, "sql", "--supabase-migration", str(taken))
    assert code == 2 and "cannot write the migration" in err


def test_a_migration_folder_with_odd_file_names_still_works(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "00000000000000_init.sql").write_text("select 1;")
    code, _, _ = run(capsys, "sql", "--supabase-migration", str(tmp_path))
    assert code == 0 and len(list(tmp_path.glob("*_pitstop.sql"))) == 1
