"""``pitstop`` over the api store on the embedded stack, next to the postgres store on its database."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest

from harness.rules import sql
from harness.stack.embedded import StackInfo
from harness.stack.postgres import free_port
from harness.store.postgres import PostgresStore
from tests.conftest import PASSWORD, PASSWORD_HASH
from tests.conftest import run_cli as run
from tests.seeding import Seeder

pytestmark = pytest.mark.usefixtures("no_target_environment")


def api(info: StackInfo) -> list[str]:
    return ["--store", "api", "--app-url", info.app_url, "--admin-token", info.admin_token]


def test_health_json_is_the_same_report_through_api_and_postgres(
    capsys: pytest.CaptureFixture[str], embedded: StackInfo, stack_seed: Seeder
) -> None:
    customer = stack_seed.user()
    stack_seed.session(customer, status="waiting", age_minutes=70)
    stack_seed.session(customer, status="pending", age_minutes=25, request=None)
    stack_seed.session(customer, status="live", request="accepted")
    code_api, out_api, _ = run(capsys, "health", "--json", *api(embedded))
    code_pg, out_pg, _ = run(
        capsys, "health", "--json", "--store", "postgres", "--database-url", embedded.database_url
    )
    assert code_api == code_pg == 0
    via_api, via_pg = json.loads(out_api), json.loads(out_pg)
    assert via_api.pop("checked_at") and via_pg.pop("checked_at")  # the clock, read twice
    assert via_api == via_pg
    assert out_api.splitlines()[1:] and list(json.loads(out_api)) == list(
        json.loads(out_pg)
    )  # same key order
    assert len(via_api["problems"]) == 5


def test_health_text_names_the_store_in_its_header(
    capsys: pytest.CaptureFixture[str], embedded: StackInfo, stack_store: PostgresStore
) -> None:
    code, out, _ = run(capsys, "health", *api(embedded))
    assert code == 0 and out.startswith(f"pitstop health: api {embedded.app_url}/api/debug\n")
    code, out, _ = run(capsys, "health", "--database-url", embedded.database_url)
    assert code == 0 and out.startswith("pitstop health: postgres 127.0.0.1")


def test_the_environment_selects_the_api_store(
    capsys: pytest.CaptureFixture[str],
    embedded: StackInfo,
    stack_store: PostgresStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PITSTOP_APP_URL", embedded.app_url)
    monkeypatch.setenv("PITSTOP_ADMIN_TOKEN", embedded.admin_token)
    code, out, _ = run(capsys, "health")
    assert code == 0 and out.startswith("pitstop health: api ")


def test_reset_cleanup_and_force_cancel_through_the_api(
    capsys: pytest.CaptureFixture[str], embedded: StackInfo, stack_seed: Seeder
) -> None:
    customer = stack_seed.user(password_hash=PASSWORD_HASH)
    email = stack_seed.conn.execute("select email from auth.users where id = %s", (customer,)).fetchone()
    assert email is not None
    stuck = stack_seed.session(customer, status="live", request="accepted")
    stack_seed.session(customer, status="waiting", age_minutes=40)

    code, out, _ = run(capsys, "cleanup", "--dry-run", "--json", *api(embedded))
    assert code == 0 and json.loads(out) == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
        "dry_run": True,
    }
    code, out, _ = run(capsys, "force-cancel", str(stuck.session), *api(embedded))
    assert code == 0 and "(was live)" in out
    code, out, _ = run(capsys, "reset", "--user", email[0], "--password", PASSWORD, "--json", *api(embedded))
    assert code == 0 and json.loads(out)["sessions"] == 2
    assert stack_seed.count("public.sessions") == 0


def test_reset_through_the_api_needs_the_users_password(
    capsys: pytest.CaptureFixture[str], embedded: StackInfo, stack_store: PostgresStore
) -> None:
    code, _, err = run(capsys, "reset", "--user", "someone@pitstop.test", *api(embedded))
    assert code == 2 and "--password" in err and "PITSTOP_USER_PASSWORD" in err
    code, _, err = run(
        capsys, "reset", "--user", "someone@pitstop.test", "--password", "nope", *api(embedded)
    )
    assert code == 2 and "could not sign in as someone@pitstop.test" in err


def test_a_wrong_admin_token_is_bad_input(
    capsys: pytest.CaptureFixture[str], embedded: StackInfo, stack_store: PostgresStore
) -> None:
    code, _, err = run(capsys, "health", "--app-url", embedded.app_url, "--admin-token", "wrong")
    assert code == 2 and "refused the admin token" in err and "PITSTOP_ADMIN_TOKEN" in err


def test_an_app_without_a_debug_api_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A plain file server: every /api/debug/* path is a 404 without the debug API's JSON error.
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, _, err = run(capsys, "health", "--app-url", url, "--admin-token", "t")
    finally:
        server.shutdown()
        server.server_close()
    assert code == 2 and "has no debug API" in err and "test mode" in err


def test_an_unreachable_app_exits_4_naming_its_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for argv in (["health"], ["cleanup"]):
        code, _, err = run(capsys, *argv, "--app-url", url, "--admin-token", "t")
        assert code == 4 and f"the app at {url} is not reachable" in err


def test_a_remote_app_is_refused_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "cleanup", "--app-url", "https://192.0.2.10", "--admin-token", "t")
    assert code == 3 and "--allow-host 192.0.2.10" in err


def test_the_supabase_guard_exits_3_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    from tests import recordings as rec

    host = ["--allow-host", f"{rec.REF}.supabase.co"]
    for key, says in ((rec.OTHER_PROJECT_KEY, "belongs to project"), (rec.ANON_KEY, "not service_role")):
        code, _, err = run(capsys, "cleanup", "--supabase-url", rec.URL, "--supabase-key", key, *host)
        assert code == 3 and says in err
    for command in ("cleanup", "health", "doctor"):  # reads go through the host guard too
        code, out, err = run(capsys, command, "--supabase-url", rec.URL, "--supabase-key", rec.SERVICE_KEY)
        assert code == 3 and ("not on this machine" in err or "does not resolve" in err) and out == ""
    code, _, err = run(capsys, "health", "--supabase-url", rec.URL)
    assert code == 2 and "service-role key" in err


def test_the_api_store_cannot_install(capsys: pytest.CaptureFixture[str], embedded: StackInfo) -> None:
    code, _, err = run(capsys, "install", *api(embedded))
    assert code == 2 and "needs a direct database connection" in err


def test_sql_writes_a_supabase_migration_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "supabase" / "migrations"
    code, out, _ = run(capsys, "sql", "--supabase-migration", str(folder))
    written = sorted(folder.iterdir())
    assert code == 0 and len(written) == 1 and f"wrote {written[0]}" in out and "supabase db push" in out
    assert len(written[0].name) == len("20260101120000_pitstop.sql") and written[0].name[:14].isdigit()
    assert written[0].read_text() == sql.migration("pitstop.test")
    assert "create or replace function public.pitstop_purge_user" in written[0].read_text()
    code, out, _ = run(capsys, "sql", "--supabase-migration", str(folder))
    assert code == 0 and "already holds this migration" in out and len(list(folder.iterdir())) == 1
    code, out, _ = run(capsys, "sql", "--supabase-migration", str(folder), "--test-domain", "qa.test")
    assert code == 0 and len(list(folder.iterdir())) == 2


class _Answers(http.server.BaseHTTPRequestHandler):
    """A server that says 200 to everything, with one fixed body: an app outside the contract."""

    body = b""

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("body", [b"<html>hello</html>", b'{"success": true}', b"[1, 2]"])
def test_an_app_answering_outside_the_contract_is_bad_input_not_a_traceback(
    capsys: pytest.CaptureFixture[str], body: bytes
) -> None:
    handler = type("Answers", (_Answers,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = ["--app-url", f"http://127.0.0.1:{server.server_address[1]}", "--admin-token=t"]
        for argv in (["health"], ["cleanup"], ["force-cancel", "00000000-0000-4000-8000-000000000000"]):
            code, _, err = run(capsys, *argv, *app)
            assert code == 2, (argv, err)
            assert "answered outside the app contract" in err and "fix:" in err
    finally:
        server.shutdown()
        server.server_close()
