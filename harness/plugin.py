"""The pytest plugin: options and the report header; the library does the work."""

from __future__ import annotations

import pytest

from harness.config import Settings


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pitstop", "pitstop: reset, drive and report on a session marketplace")
    group.addoption(
        "--pitstop-database-url",
        dest="pitstop_database_url",
        metavar="URL",
        help="Postgres connection string of the target (default: $DATABASE_URL)",
    )
    group.addoption(
        "--pitstop-allow-host",
        dest="pitstop_allow_host",
        action="append",
        metavar="HOST",
        help="allow a non-loopback target host (repeatable; default: $PITSTOP_ALLOWED_HOSTS)",
    )
    group.addoption(
        "--pitstop-test-domain",
        dest="pitstop_test_domain",
        metavar="DOMAIN",
        help="email domain of test users (default: $PITSTOP_TEST_DOMAIN or pitstop.test)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    settings = Settings.load(
        database_url=config.getoption("pitstop_database_url"),
        allowed_hosts=config.getoption("pitstop_allow_host"),
        test_domain=config.getoption("pitstop_test_domain"),
    )
    target = "database given" if settings.database_url else "no database given"
    return f"pitstop: {target}, test domain {settings.test_domain}"
