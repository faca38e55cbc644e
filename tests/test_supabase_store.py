"""The supabase store against recorded PostgREST and GoTrue exchanges (no hosted Supabase is reachable here).

Each test is named for the call it records; the player (tests/recordings.py)
checks the method, path, query, body and the ``apikey``/``Authorization``
headers of every request, in order, and that the recording was played to its end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from harness.cli import main
from harness.errors import BadInput, ExitCode, PitstopError, Refused, Unreachable
from harness.store import NewUser
from harness.store.supabase import SupabaseStore
from tests import recordings as rec
from tests.recordings import playing
from tests.seeding import truncate_all


@pytest.fixture
def store() -> Iterator[SupabaseStore]:
    with SupabaseStore(url=rec.URL, key=rec.SERVICE_KEY) as store:
        yield store


def answer(name: str, step: int = 0) -> Any:
    return rec.load(name)[step]["response"]["json"]


# -- the rules through rpc() ------------------------------------------------------


def test_recorded_purge_calls_rpc_pitstop_purge_user(store: SupabaseStore) -> None:
    with playing("purge"):
        counts = store.purge_user(rec.CUSTOMER)
    assert counts == answer("purge")
    assert counts["sessions"] == 3 and counts["chat_messages"] == 2


def test_recorded_purge_dry_run_passes_p_dry_run_true(store: SupabaseStore) -> None:
    with playing("purge_dry_run") as player:
        assert store.purge_user(rec.CUSTOMER, dry_run=True) == answer("purge_dry_run")
    assert json.loads(player.requests[0].content)["p_dry_run"] is True


def test_recorded_purge_of_a_real_user_is_403_pt403_and_refused(store: SupabaseStore) -> None:
    with playing("purge_refused"), pytest.raises(Refused, match="not a test user") as caught:
        store.purge_user(rec.REAL_USER)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert caught.value.fix is not None and "pitstop=true" in caught.value.fix


def test_recorded_purge_users_calls_rpc_pitstop_purge_users_once(store: SupabaseStore) -> None:
    with playing("purge_users"):
        counts = store.purge_users([rec.CUSTOMER, rec.MECHANIC])
    assert [c["user_id"] for c in counts] == [str(rec.CUSTOMER), str(rec.MECHANIC)]


def test_recorded_cleanup_calls_rpc_pitstop_cleanup_stale(store: SupabaseStore) -> None:
    with playing("cleanup"):
        assert store.cleanup_stale() == {
            "requests_expired": 1,
            "requests_cancelled": 0,
            "sessions_cancelled": 1,
            "orphans_cancelled": 0,
        }


def test_recorded_leases_go_through_the_rpc_wrappers(store: SupabaseStore) -> None:
    from harness.store.interface import RunInfo

    with playing("leases"):
        held = store.hold_run(RunInfo("run-7", "ci-runner-3", 4242, "2/4", "github:o/r/9/e2e", 120))
        assert held["run"] == "run-7"
        [lease] = store.runs()
        assert (lease["alive"], lease["shard"], lease["users"]) == (True, "2/4", 0)
        assert store.end_run("run-7") == {"run": "run-7", "ended": True}


def test_a_rule_the_server_ended_for_a_deadlock_is_sent_again(store: SupabaseStore) -> None:
    with playing("cleanup_deadlock"):  # both exchanges played: the second answers
        assert store.cleanup_stale()["sessions_cancelled"] == 1


def test_recorded_cleanup_dry_run_calls_rpc_pitstop_cleanup_stale_with_p_dry_run(
    store: SupabaseStore,
) -> None:
    with playing("cleanup_dry_run"):
        assert store.cleanup_stale(dry_run=True) == answer("cleanup_dry_run")


def test_recorded_force_cancel_calls_rpc_pitstop_force_cancel(store: SupabaseStore) -> None:
    with playing("force_cancel"):
        result = store.force_cancel(rec.WAITING)
    assert result == {"session_id": str(rec.WAITING), "previous_status": "waiting", "requests_cancelled": 1}


def test_recorded_force_cancel_of_an_ended_session_is_409_pt409_bad_input(store: SupabaseStore) -> None:
    with playing("force_cancel_ended"), pytest.raises(BadInput, match="already ended") as caught:
        store.force_cancel(rec.ENDED)
    assert caught.value.exit_code == ExitCode.USAGE


def test_recorded_force_cancel_of_an_unknown_session_is_404_pt404_bad_input(store: SupabaseStore) -> None:
    with playing("force_cancel_unknown"), pytest.raises(BadInput, match="unknown session") as caught:
        store.force_cancel(rec.UNKNOWN)
    assert caught.value.fix == "check the session id"


def test_recorded_health_calls_rpc_pitstop_health(store: SupabaseStore) -> None:
    with playing("health"):
        health = store.health()
    assert health == answer("health")
    assert health["sessions"]["waiting"] == {"total": 1, "stale": 1, "veryStale": 0}


def test_recorded_health_with_inverted_thresholds_is_400_22023_bad_input(store: SupabaseStore) -> None:
    with playing("health_inverted"), pytest.raises(BadInput, match="very_stale_minutes"):
        store.health(stale_minutes=30, very_stale_minutes=10)


def test_recorded_find_user_calls_rpc_pitstop_find_user(store: SupabaseStore) -> None:
    with playing("find_user"):
        assert store.find_user("customer-gw0-rec@pitstop.test") == rec.CUSTOMER
    with playing("find_user_unknown"):
        assert store.find_user("nobody@pitstop.test") is None


def test_recorded_customer_session_status_calls_rpc_pitstop_customer_session_status(
    store: SupabaseStore,
) -> None:
    with playing("customer_session_status"):
        status = store.customer_session_status(rec.CUSTOMER)
    assert status["cancelled"] == 1 and status["blocked"] is True


def test_recorded_active_sessions_and_user_rows_call_their_rpcs(store: SupabaseStore) -> None:
    with playing("active_sessions"):
        assert [s["id"] for s in store.active_sessions([rec.CUSTOMER])] == [str(rec.WAITING), str(rec.LIVE)]
    with playing("user_rows"):
        rows = store.user_rows([rec.MECHANIC])
    assert {s["id"] for s in rows["sessions"]} == {str(rec.LIVE), str(rec.ENDED)}


def test_recorded_sessions_are_read_by_their_ids_in_one_shape(store: SupabaseStore) -> None:
    with playing("sessions"):
        ended, live = store.sessions([rec.ENDED, rec.LIVE])  # in the order they were made
    assert (ended["id"], ended["status"], live["id"], live["status"]) == (
        str(rec.ENDED),
        "completed",
        str(rec.LIVE),
        "live",
    )
    assert live["mechanic"]["email"] == "mechanic-gw0-rec@pitstop.test"
    assert live["request"]["id"] == live["request_id"] and live["plan"] == live["row"]["plan"] == "Quick Chat"


# -- test users through auth.admin -------------------------------------------------


NEW_USER = NewUser(
    email="customer-gw0-rec@pitstop.test",
    password_hash="$2a$04$abcdefghijklmnopqrstuu5Q0p9b3mQn0k8F9rXo0nZpD2i5x1W6e",
    full_name="Ada Lovelace",
    role="customer",
    metadata={"pitstop": True, "run": "rec", "worker": "gw0", "host": "ci-runner", "pid": 4242},
)


def test_recorded_create_user_posts_auth_v1_admin_users_then_upserts_the_profile(
    store: SupabaseStore,
) -> None:
    with playing("create_user") as player:
        user_id = store.create_test_user(NEW_USER)
    assert str(user_id) == answer("create_user")["id"]
    sent = json.loads(player.requests[0].content)
    assert sent["email_confirm"] is True and sent["user_metadata"]["pitstop"] is True
    assert sent["user_metadata"]["run"] == "rec"


def test_recorded_create_user_of_a_taken_email_updates_the_user_put_auth_v1_admin_users_id(
    store: SupabaseStore,
) -> None:
    with playing("create_user_exists"):
        assert str(store.create_test_user(NEW_USER)) == answer("create_user_exists", 1)


def test_recorded_delete_user_purges_then_deletes_auth_v1_admin_users_id(store: SupabaseStore) -> None:
    with playing("delete_user"):
        counts = store.delete_test_user(rec.CUSTOMER)
    assert counts["users"] == 1 and counts["sessions"] == 3


def test_recorded_delete_of_a_real_user_stops_at_the_purge_and_never_calls_gotrue(
    store: SupabaseStore,
) -> None:
    with playing("delete_user_refused") as player, pytest.raises(Refused):
        store.delete_test_user(rec.REAL_USER)
    assert [r.url.path for r in player.requests] == ["/rest/v1/rpc/pitstop_release_test_user"]


def test_recorded_list_users_gets_auth_v1_admin_users_and_keeps_users_with_both_marks(
    store: SupabaseStore,
) -> None:
    with playing("list_users"):
        users = store.test_users()
    assert [u["email"] for u in users] == ["mechanic-gw0-rec@pitstop.test", "customer-gw0-rec@pitstop.test"]
    assert users[0]["metadata"]["run"] == "rec" and users[0]["created_at"].startswith("2026-01-05T08:00:00")


# -- errors, mapped to exit codes and messages ----------------------------------------


def test_recorded_missing_function_is_404_pgrst202_and_says_how_to_install(store: SupabaseStore) -> None:
    with playing("functions_missing"), pytest.raises(BadInput, match="not installed") as caught:
        store.health()
    assert caught.value.fix is not None
    assert "pitstop sql --supabase-migration supabase/migrations" in caught.value.fix
    assert "supabase db push" in caught.value.fix


def test_recorded_401_invalid_api_key_is_bad_input_naming_the_key(store: SupabaseStore) -> None:
    with playing("bad_key"), pytest.raises(BadInput, match="rejected the key") as caught:
        store.health()
    assert caught.value.fix is not None and "SUPABASE_SERVICE_ROLE_KEY" in caught.value.fix


def test_recorded_gotrue_403_not_admin_is_bad_input_naming_the_key(store: SupabaseStore) -> None:
    with playing("gotrue_not_admin"), pytest.raises(BadInput, match="rejected the key"):
        store.test_users()


@pytest.mark.parametrize("recording", ["server_error", "bad_gateway", "timeout"])
def test_recorded_postgrest_5xx_and_timeouts_are_unreachable_naming_the_url(
    store: SupabaseStore, recording: str
) -> None:
    with playing(recording), pytest.raises(Unreachable) as caught:
        store.health()
    assert caught.value.exit_code == ExitCode.UNREACHABLE and rec.URL in caught.value.message
    if recording == "timeout":
        assert "did not answer in time" in caught.value.message


@pytest.mark.parametrize("recording", ["gotrue_timeout", "gotrue_server_error"])
def test_recorded_gotrue_5xx_and_timeouts_are_unreachable_naming_the_url(
    store: SupabaseStore, recording: str
) -> None:
    with playing(recording), pytest.raises(Unreachable) as caught:
        if recording == "gotrue_timeout":
            store.test_users()
        else:
            store.delete_test_user(rec.CUSTOMER)
    assert rec.URL in caught.value.message and "Supabase" in caught.value.message


# -- through the command line ----------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--supabase-url", rec.URL, "--allow-host", f"{rec.REF}.supabase.co"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def service_key(no_target_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", rec.SERVICE_KEY)


@pytest.mark.usefixtures("service_key")
def test_recorded_cli_health_json_over_supabase(capsys: pytest.CaptureFixture[str]) -> None:
    with playing("health"):
        code, out, _ = cli(capsys, "health", "--json")
    assert code == 0 and json.loads(out)["sessions"]["waiting"]["stale"] == 1


@pytest.mark.usefixtures("service_key")
def test_recorded_cli_reset_by_email_finds_then_purges(capsys: pytest.CaptureFixture[str]) -> None:
    with playing("find_user", "purge"):
        code, out, _ = cli(capsys, "reset", "--user", "customer-gw0-rec@pitstop.test")
    assert code == 0 and "purged test user" in out and "sessions 3" in out


@pytest.mark.usefixtures("service_key")
@pytest.mark.parametrize(
    ("recording", "argv", "code", "says"),
    [
        ("functions_missing", ["health"], 2, "supabase db push"),
        ("bad_key", ["health"], 2, "rejected the key"),
        ("server_error", ["health"], 4, rec.URL),
        ("timeout", ["health"], 4, "did not answer in time"),
        ("purge_refused", ["reset", "--user", str(rec.REAL_USER)], 3, "not a test user"),
        ("force_cancel_ended", ["force-cancel", str(rec.ENDED)], 2, "already ended"),
    ],
)
def test_recorded_cli_errors_exit_with_their_codes(
    capsys: pytest.CaptureFixture[str], recording: str, argv: list[str], code: int, says: str
) -> None:
    with playing(recording):
        got, _, err = cli(capsys, *argv)
    assert got == code and says in err
    assert "fix:" in err or recording == "force_cancel_ended"  # an ended session needs no fix


# -- the recordings agree with the real wrappers ---------------------------------------


RPC_RECORDINGS = [
    name
    for name in rec.names()
    if all(e["request"]["path"].startswith("/rest/v1/rpc/") for e in rec.load(name))
    and all(
        e["response"].get("json", {}) is None or "PGRST" not in str(e["response"].get("json"))
        for e in rec.load(name)
    )
    and all(e["response"].get("status") in (200, 400, 403, 404, 409) for e in rec.load(name))
]


@pytest.mark.parametrize("name", RPC_RECORDINGS)
def test_recorded_rpc_answers_are_what_the_wrappers_answer(name: str, database_url: str) -> None:
    """Replay each recorded rpc against the real public.pitstop_* wrappers on the recordings' world."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        truncate_all(conn)
        rec.seed_world(conn)
        for exchange in rec.load(name):
            request, response = exchange["request"], exchange["response"]
            function = request["path"].removeprefix("/rest/v1/rpc/")
            params: dict[str, Any] = request["json"]
            types = dict(
                conn.execute(
                    "select unnest(proargnames), unnest(proargtypes::regtype[]::text[]) from pg_proc"
                    " where proname = %s and pronamespace = 'public'::regnamespace",
                    (function,),
                ).fetchall()
            )
            args = ", ".join(f"{k} => %({k})s::{types[k]}" for k in params)
            try:
                value = conn.execute(f"select public.{function}({args})", params).fetchone()
            except psycopg.Error as exc:
                assert response["json"]["code"] == exc.sqlstate, f"{name}: recorded {response}"
                continue
            assert value is not None and response["status"] == 200, f"{name}: the wrapper answered {value}"
            if function == "pitstop_installed":  # the rules' hash depends on the database's foreign keys
                value[0]["sql_hash"] = response["json"]["sql_hash"]
            assert _timeless(json.loads(json.dumps(value[0], default=str))) == _timeless(response["json"])
    assert RPC_RECORDINGS  # the filter above keeps the rule recordings


def _timeless(data: Any) -> Any:
    """The JSON without its clock readings (they differ between the recording and now).

    Lists compare as multisets: some aggregates (participants, files) have no order.
    """
    if isinstance(data, dict):
        return {k: _timeless(v) for k, v in data.items() if not k.endswith("_at")}
    if isinstance(data, list):
        return sorted((_timeless(v) for v in data), key=lambda v: json.dumps(v, sort_keys=True))
    return data


def test_recorded_exchanges_cover_every_store_verb() -> None:
    paths = {e["request"]["path"] for name in rec.names() for e in rec.load(name)}
    for verb in ("purge_user", "purge_users", "cleanup_stale", "force_cancel", "health", "find_user"):
        assert f"/rest/v1/rpc/pitstop_{verb}" in paths
    assert {"/auth/v1/admin/users", f"/auth/v1/admin/users/{rec.CUSTOMER}"} <= paths


def test_errors_are_pitstop_errors_never_library_ones(store: SupabaseStore) -> None:
    for name in ("bad_gateway", "bad_key", "functions_missing"):
        with playing(name), pytest.raises(PitstopError):
            store.health()


def test_the_player_fails_on_a_request_that_differs_and_on_one_left_unplayed(store: SupabaseStore) -> None:
    with pytest.raises(AssertionError, match="differs from the recording"), playing("purge"):
        store.purge_user(rec.MECHANIC)  # another user than recorded
    with pytest.raises(AssertionError, match="0 of 1 recorded requests"), playing("purge"):
        pass


def test_only_service_role_may_call_the_wrappers(postgres_db_url: str) -> None:
    """As on Supabase: anon and authenticated exist and get every new public function by default."""
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        for role in ("anon", "authenticated", "service_role"):
            conn.execute(
                f"do $$ begin create role {role} nologin; exception when duplicate_object then null; end $$"
            )
        conn.execute(
            "alter default privileges in schema public grant execute on functions to anon, authenticated"
        )
    from harness.store.postgres import PostgresStore

    with PostgresStore(database_url=postgres_db_url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        rows = store.connection.execute(
            "select p.oid::regprocedure::text, has_function_privilege('anon', p.oid, 'execute'),"
            " has_function_privilege('authenticated', p.oid, 'execute'),"
            " has_function_privilege('service_role', p.oid, 'execute')"
            " from pg_proc p where p.proname like 'pitstop\\_%' and p.pronamespace = 'public'::regnamespace"
        ).fetchall()
    assert len(rows) == 15
    assert all(row[1:] == (False, False, True) for row in rows), rows
