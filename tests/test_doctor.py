"""``pitstop doctor``: each check against a real PostgreSQL, the api store on the embedded stack,
and the supabase store against recorded exchanges."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from harness import __version__
from harness.rules.model import Model
from harness.rules.sql import rules_hash
from harness.stack.embedded import StackInfo
from harness.stack.postgres import free_port
from harness.store.postgres import PostgresStore
from tests import recordings as rec
from tests.conftest import run_cli as run
from tests.recordings import playing

pytestmark = pytest.mark.usefixtures("no_target_environment")

POSTGRES_CHECKS = [
    "reachable", "auth_users", "model", "functions", "test_domain", "privileges", "row_level_security",
]  # fmt: skip


def installed_hash(database_url: str) -> str:
    """The rules' hash that install recorded there (it depends on the database's foreign keys)."""
    with PostgresStore(database_url=database_url) as store:
        return rules_hash(Model(), store.catalog())


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """``pitstop doctor --json ARGV``: the exit code and the checks by name."""
    code, out, err = run(capsys, "doctor", "--json", *argv)
    report = json.loads(out)
    assert list(report) == ["checks", "ok"], err
    return code, {c["name"]: c for c in report["checks"]}


@pytest.fixture
def installed_db(postgres_db_url: str) -> str:
    """A database of this test's own, with the app's schema and pitstop installed."""
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
    return postgres_db_url


def sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement.encode())


# -- postgres --------------------------------------------------------------------------


def test_an_installed_target_passes_every_check(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    code, out, _ = run(capsys, "doctor", "--json", "--database-url", database_url)
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True and list(report) == ["checks", "ok"]
    assert [c["name"] for c in report["checks"]] == POSTGRES_CHECKS
    for check in report["checks"]:
        assert list(check) == ["name", "ok", "message", "fix", "level"]
        assert check["ok"] is True and check["fix"] is None, check
        assert check["level"] in ("error", "warning")
    checks = {c["name"]: c["message"] for c in report["checks"]}
    assert checks["functions"] == f"pitstop {__version__} installed (sql {installed_hash(database_url)[:8]})"
    assert checks["model"] == "the model fits: public.sessions, public.session_requests"
    assert checks["auth_users"] == "Supabase Auth's auth.users, with auth.identities"
    assert checks["test_domain"].startswith("pitstop.test ")
    assert "anon and authenticated may not" in checks["privileges"]
    assert checks["row_level_security"] == "on for the 5 app tables"


def test_the_text_names_the_target_then_one_line_per_check(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    code, out, _ = run(capsys, "doctor", "--database-url", database_url)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("pitstop doctor: postgres 127.0.0.1:")
    assert [line.split()[:2] for line in lines[1:]] == [["ok", name] for name in POSTGRES_CHECKS]
    assert f"pitstop {__version__} installed (sql {installed_hash(database_url)[:8]})" in lines[4]


def test_a_bare_database_fails_naming_pitstop_install(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str
) -> None:
    code, checks = doctor(capsys, "--database-url", postgres_db_url)
    assert code == 1
    assert checks["reachable"]["ok"] is True
    assert checks["functions"]["ok"] is False and checks["functions"]["level"] == "error"
    assert "not installed" in checks["functions"]["message"]
    assert "`pitstop install`" in checks["functions"]["fix"]
    assert checks["auth_users"]["ok"] is False and "no auth.users" in checks["auth_users"]["message"]
    assert "--with-app-schema" in checks["auth_users"]["fix"]
    assert checks["test_domain"]["ok"] is False
    # The text says the same, with each fix under its check.
    code, out, _ = run(capsys, "doctor", "--database-url", postgres_db_url)
    assert code == 1 and "\nFAIL functions " in out and "fix: run `pitstop install`" in out


def test_doctor_writes_nothing(capsys: pytest.CaptureFixture[str], postgres_db_url: str) -> None:
    assert doctor(capsys, "--database-url", postgres_db_url)[0] == 1
    with psycopg.connect(postgres_db_url) as conn:
        schemas = conn.execute("select nspname from pg_namespace where nspname in ('pitstop', 'auth')")
        assert schemas.fetchall() == []


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [("version", "0.0.1", "by pitstop 0.0.1, not"), ("sql_hash", "0" * 64, "(sql 00000000) differ from")],
)
def test_an_install_of_another_version_or_sql_fails_saying_install_again(
    capsys: pytest.CaptureFixture[str], installed_db: str, key: str, value: str, says: str
) -> None:
    sql(installed_db, f"update pitstop.settings set value = '{value}' where key = '{key}'")
    code, checks = doctor(capsys, "--database-url", installed_db)
    assert code == 1
    functions = checks["functions"]
    assert functions["ok"] is False and functions["level"] == "error"
    assert says in functions["message"] and f"pitstop {__version__}" in functions["message"]
    assert functions["fix"] == "run `pitstop install` again"
    assert all(c["ok"] for name, c in checks.items() if name != "functions")


def test_an_install_that_recorded_no_version_fails(
    capsys: pytest.CaptureFixture[str], installed_db: str
) -> None:
    sql(installed_db, "delete from pitstop.settings where key in ('version', 'sql_hash')")
    code, checks = doctor(capsys, "--database-url", installed_db)
    assert code == 1 and "older than" in checks["functions"]["message"]


def test_another_configured_test_domain_fails(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    code, checks = doctor(capsys, "--database-url", database_url, "--test-domain", "qa.example.test")
    assert code == 1
    domain = checks["test_domain"]
    assert domain["ok"] is False
    assert (
        domain["message"] == "the database enforces pitstop.test, pitstop is configured for qa.example.test"
    )
    assert "`pitstop install --test-domain qa.example.test`" in domain["fix"]
    assert "--test-domain pitstop.test" in domain["fix"]


def test_row_level_security_off_on_an_app_table_is_a_warning(
    capsys: pytest.CaptureFixture[str], installed_db: str
) -> None:
    sql(installed_db, "alter table public.chat_messages disable row level security")
    code, out, _ = run(capsys, "doctor", "--json", "--database-url", installed_db)
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True  # a warning does not fail the target
    rls = {c["name"]: c for c in report["checks"]}["row_level_security"]
    assert rls["ok"] is False and rls["level"] == "warning"
    assert rls["message"].startswith("row-level security is off on public.chat_messages:")
    assert "alter table public.chat_messages enable row level security" in rls["fix"]
    assert "policies" in rls["fix"]
    code, out, _ = run(capsys, "doctor", "--database-url", installed_db)
    assert code == 0 and "\nwarn row_level_security " in out


def test_anon_allowed_to_run_a_pitstop_function_fails(
    capsys: pytest.CaptureFixture[str], installed_db: str
) -> None:
    sql(installed_db, "grant execute on function pitstop.purge_user(uuid) to anon")
    code, checks = doctor(capsys, "--database-url", installed_db)
    assert code == 1
    privileges = checks["privileges"]
    assert privileges["ok"] is False and privileges["level"] == "error"
    assert privileges["message"] == "anon may execute pitstop.purge_user(p_user_id uuid)"
    assert "`pitstop install` again" in privileges["fix"]


def test_service_role_denied_a_wrapper_fails(capsys: pytest.CaptureFixture[str], installed_db: str) -> None:
    sql(installed_db, "revoke execute on function public.pitstop_installed() from service_role")
    code, checks = doctor(capsys, "--database-url", installed_db)
    assert code == 1
    assert checks["privileges"]["message"] == "service_role may not execute public.pitstop_installed()"


def test_a_smaller_auth_users_is_a_warning_listing_what_sign_in_would_need(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str
) -> None:
    sql(
        postgres_db_url,
        "create schema auth; create table auth.users"
        " (id uuid primary key default gen_random_uuid(), email text, raw_user_meta_data jsonb,"
        " encrypted_password text)",
    )
    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)  # keeps this auth.users
    code, checks = doctor(capsys, "--database-url", postgres_db_url)
    assert code == 0
    auth = checks["auth_users"]
    assert auth["ok"] is False and auth["level"] == "warning"
    assert auth["message"].startswith("a smaller auth.users (4 columns: email, encrypted_password, id,")
    assert "no auth.identities" in auth["message"]
    assert "sign-in would also need instance_id, aud, role, email_confirmed_at and " in auth["message"]


def test_an_unreachable_database_is_one_failing_check_and_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    code, out, err = run(capsys, "doctor", "--json", "--database-url", url)
    assert code == 4
    report = json.loads(out)
    assert report["ok"] is False and len(report["checks"]) == 1
    (reachable,) = report["checks"]
    assert reachable["name"] == "reachable" and reachable["ok"] is False
    assert reachable["message"].startswith("could not connect to the database")
    assert "--database-url" in reachable["fix"]
    # --json: the report is for a program; the error is said on stderr too, as every command says it.
    assert err.startswith("pitstop: error: could not connect to the database") and "\n  fix: " in err
    code, out, err = run(capsys, "doctor", "--database-url", url)
    assert code == 4 and out.startswith(
        f"pitstop doctor: postgres 127.0.0.1:{port}/postgres\nFAIL reachable "
    )
    # As text, the report's FAIL line (and its fix) is the one place it is said.
    assert err == "" and out.count("could not connect to the database") == 1
    assert out.count("fix: check --database-url / DATABASE_URL and that the server is running") == 1


def test_no_target_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "doctor")
    assert code == 2 and out == "" and "no target given" in err


# -- api --------------------------------------------------------------------------------


def test_the_api_store_checks_the_app_and_its_debug_api(
    capsys: pytest.CaptureFixture[str], embedded: StackInfo
) -> None:
    argv = ["--store", "api", "--app-url", embedded.app_url, "--admin-token", embedded.admin_token]
    code, checks = doctor(capsys, *argv)
    assert code == 0
    assert list(checks) == ["reachable", "debug_api"]
    assert all(c["ok"] for c in checks.values())
    assert checks["reachable"]["message"] == f"the app answers at {embedded.app_url}"
    code, out, _ = run(capsys, "doctor", *argv)
    assert code == 0 and out.startswith(f"pitstop doctor: api {embedded.app_url}/api/debug\n")


def test_an_unreachable_app_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, checks = doctor(capsys, "--app-url", url, "--admin-token", "t")
    assert code == 4 and list(checks) == ["reachable"]
    assert f"the app at {url} is not reachable" in checks["reachable"]["message"]


# -- supabase (recorded) ----------------------------------------------------------------

SUPABASE = [
    "--supabase-url",
    rec.URL,
    "--supabase-key",
    rec.SERVICE_KEY,
    "--allow-host",
    f"{rec.REF}.supabase.co",
]


def test_recorded_supabase_project_with_pitstop_installed_passes(capsys: pytest.CaptureFixture[str]) -> None:
    with playing("installed"):
        code, checks = doctor(capsys, *SUPABASE)
    assert code == 0
    assert list(checks) == ["reachable", "functions", "test_domain"]
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["functions"]["message"] == f"pitstop {__version__} installed (sql {rules_hash()[:8]})"


def test_recorded_supabase_project_without_pitstop_fails_naming_the_migration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with playing("installed_missing"):
        code, checks = doctor(capsys, *SUPABASE)
    assert code == 1
    assert checks["reachable"]["ok"] is True
    functions = checks["functions"]
    assert functions["ok"] is False and "not installed" in functions["message"]
    assert "pitstop sql --supabase-migration supabase/migrations" in functions["fix"]
    assert "supabase db push" in functions["fix"]


def test_recorded_supabase_with_another_test_domain_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with playing("installed"):
        code, checks = doctor(capsys, *SUPABASE, "--test-domain", "qa.test")
    assert code == 1 and checks["test_domain"]["ok"] is False
    assert "--test-domain qa.test --supabase-migration" in checks["test_domain"]["fix"]


def test_recorded_supabase_server_error_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    with playing("installed_server_error"):
        code, checks = doctor(capsys, *SUPABASE)
    assert code == 4 and list(checks) == ["reachable"] and rec.URL in checks["reachable"]["message"]


def test_a_supabase_key_of_another_role_is_refused_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--supabase-url", rec.URL, "--supabase-key", rec.ANON_KEY]
    code, out, err = run(capsys, "doctor", *argv)
    assert code == 3 and out == "" and "not service_role" in err


def test_a_database_of_other_tables_and_no_model_is_told_to_declare_one(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str
) -> None:
    """No [tool.pitstop.model] yet: the advice is to declare the app's tables, not to add the reference's."""
    sql(postgres_db_url, "create table public.consultations (id uuid primary key, state text not null)")
    code, out, _ = run(capsys, "doctor", "--json", "--database-url", postgres_db_url)
    assert code == 1
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    rls = checks["row_level_security"]
    assert rls["message"] == "the model's tables are missing: public.sessions, public.session_requests"
    assert "[tool.pitstop.model]" in rls["fix"] and "--with-app-schema" not in rls["fix"]
    assert "pitstop inspect" in checks["model"]["fix"]


def test_a_blank_database_is_told_to_get_the_app_schema(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str
) -> None:
    code, out, _ = run(capsys, "doctor", "--json", "--database-url", postgres_db_url)
    assert code == 1  # not installed
    rls = {c["name"]: c for c in json.loads(out)["checks"]}["row_level_security"]
    assert "migrations" in rls["fix"] and "--with-app-schema" in rls["fix"]
