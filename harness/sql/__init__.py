"""The SQL that pitstop installs: the cleanup rules and, for blank databases, the app schema."""

from __future__ import annotations

from importlib.resources import files

from psycopg import sql

from harness.config import check_test_domain


def migration(test_domain: str) -> str:
    """The pitstop schema and functions, ending with the test domain they enforce."""
    rules = files(__package__).joinpath("pitstop.sql").read_text(encoding="utf-8")
    setting = sql.SQL(
        "insert into pitstop.settings (key, value) values ('test_domain', {})\n"
        "on conflict (key) do update set value = excluded.value;\n"
    ).format(sql.Literal(check_test_domain(test_domain)))
    return rules + "\n" + setting.as_string(None)


def app_schema() -> str:
    """The reference app's tables (idempotent; leaves an existing auth.users alone)."""
    return files("reference_app").joinpath("schema.sql").read_text(encoding="utf-8")
