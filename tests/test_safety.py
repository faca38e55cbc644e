"""The safety guard and the settings it reads; no network traffic leaves this machine."""

from __future__ import annotations

import pytest

from harness.config.settings import Settings
from harness.errors import BadInput, Refused
from harness.rules.marker import check_test_domain
from harness.store.safety import Endpoint, check_database_url, check_endpoint, check_stripe_key, is_loopback

NOWHERE = frozenset[str]()


@pytest.mark.parametrize(
    "name",
    ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "app.localhost",
     "::ffff:127.0.0.1", "/tmp/.s.PGSQL.5432", "@abstract"],
)  # fmt: skip
def test_loopback_names(name: str) -> None:
    assert is_loopback(name)


@pytest.mark.parametrize(
    "name",
    ["10.0.0.1", "192.168.1.10", "0.0.0.0", "::", "db.example.com", "::ffff:10.0.0.1",
     "127.0.0.1.example.com", "localhost.example.com", ""],
)  # fmt: skip
def test_names_that_are_not_loopback(name: str) -> None:
    assert not is_loopback(name)


def test_the_address_connected_to_decides_over_the_name() -> None:
    with pytest.raises(Refused, match=r"localhost \(10\.0\.0\.5\)"):
        check_endpoint(Endpoint("localhost", "10.0.0.5"), NOWHERE, what="database")
    check_endpoint(Endpoint("db.internal", "127.0.0.1"), NOWHERE, what="database")


def test_an_allow_listed_host_passes_by_name_or_address() -> None:
    check_endpoint(Endpoint("staging-db", "10.0.0.5"), frozenset({"staging-db"}), what="database")
    check_endpoint(Endpoint("staging-db", "10.0.0.5"), frozenset({"10.0.0.5"}), what="database")


def test_a_unix_socket_passes() -> None:
    check_endpoint(Endpoint("/var/run/postgresql"), NOWHERE, what="database")


def test_a_socket_path_with_a_remote_address_is_tcp_to_that_address() -> None:
    # libpq connects to hostaddr whenever it is set, whatever host names.
    with pytest.raises(Refused, match=r"192\.0\.2\.2"):
        check_endpoint(Endpoint("/tmp", "192.0.2.2"), NOWHERE, what="database")


def test_pghostaddr_counts_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGHOST", raising=False)
    monkeypatch.setenv("PGHOSTADDR", "192.0.2.10")
    with pytest.raises(Refused):
        check_database_url("dbname=postgres", NOWHERE)


def test_a_refusal_says_how_to_allow_the_host() -> None:
    with pytest.raises(Refused) as refused:
        check_endpoint(Endpoint("db.example.com", "203.0.113.7"), NOWHERE, what="database")
    assert "--allow-host db.example.com" in str(refused.value)
    assert "PITSTOP_ALLOWED_HOSTS=db.example.com" in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@192.0.2.10:5432/postgres",
        "postgresql://postgres@127.0.0.1,192.0.2.10/postgres",  # every host must pass
        "host=db.invalid dbname=postgres",  # does not resolve: cannot be shown local
        "host=localhost hostaddr=192.0.2.10 dbname=postgres",  # hostaddr is what libpq uses
        "host=/tmp hostaddr=192.0.2.2 dbname=postgres",  # a socket path does not hide hostaddr
        "postgresql://postgres@/postgres?host=/nonexistent&hostaddr=192.0.2.2",
        "host=@abstract hostaddr=192.0.2.3 dbname=postgres",
    ],
)
def test_database_urls_refused_before_connecting(url: str) -> None:
    with pytest.raises(Refused):
        check_database_url(url, NOWHERE)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "postgresql://postgres@localhost/postgres",
        "postgresql://postgres@[::1]:5432/postgres",
        "postgresql:///postgres?host=/tmp",
        "dbname=postgres",  # libpq's default: the local socket
        "host=staging.example.com hostaddr=127.0.0.1 dbname=postgres",
    ],
)
def test_database_urls_on_this_machine_pass(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGHOST", raising=False)
    check_database_url(url, NOWHERE)


def test_allow_listed_database_host_passes_without_resolving() -> None:
    check_database_url("postgresql://u@db.invalid/postgres", frozenset({"db.invalid"}))


def test_pghost_counts_when_the_url_names_no_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "192.0.2.10")
    with pytest.raises(Refused):
        check_database_url("dbname=postgres", NOWHERE)


@pytest.mark.parametrize("key", ["sk_live_abc123", "rk_live_abc123"])
def test_live_stripe_keys_are_refused(key: str) -> None:
    with pytest.raises(Refused, match="live key"):
        check_stripe_key(key)


@pytest.mark.parametrize("key", [None, "", "sk_test_abc", "rk_test_abc"])
def test_test_stripe_keys_pass(key: str | None) -> None:
    check_stripe_key(key)


def test_settings_take_explicit_values_over_the_environment() -> None:
    env = {
        "DATABASE_URL": "postgresql://env/db",
        "PITSTOP_ALLOWED_HOSTS": "a.example, b.example",
        "PITSTOP_TEST_DOMAIN": "env.test",
        "STRIPE_SECRET_KEY": "sk_test_1",
    }
    from_env = Settings.load(env=env)
    assert from_env == Settings(
        database_url="postgresql://env/db",
        allowed_hosts=frozenset({"a.example", "b.example"}),
        test_domain="env.test",
        stripe_secret_key="sk_test_1",
    )
    explicit = Settings.load(
        database_url="postgresql://cli/db", allow_host=["C.example"], test_domain="cli.test", env=env
    )
    assert explicit.database_url == "postgresql://cli/db"
    assert explicit.allowed_hosts == {"c.example"}  # replaces the environment's list
    assert explicit.test_domain == "cli.test"


def test_settings_defaults() -> None:
    assert Settings.load(env={}) == Settings()
    assert Settings().test_domain == "pitstop.test"


@pytest.mark.parametrize("domain", ["", "pitstop", "a b.test", "bad_domain.test", "-x.test", "x..test"])
def test_bad_test_domains_are_bad_input(domain: str) -> None:
    with pytest.raises(BadInput, match="not a domain name"):
        check_test_domain(domain)


def test_test_domain_is_normalized() -> None:
    assert check_test_domain(" @QA.Example.TEST ") == "qa.example.test"
