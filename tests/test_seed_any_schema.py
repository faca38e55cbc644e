"""Named states on an app whose tables need more than the model names, and the summaries of what
``reset`` and ``cleanup`` changed.

tests/schemas/dispatch.sql: visits and callouts with NOT NULL columns without a default of many
types, a depot both refer to (a row pitstop cannot make, declared in dispatch.toml), fleet
mechanics linked to sign-in users, a participants table, a queue keyed by visit and an events
table a trigger fills.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from harness.config.settings import RunConfig, Settings
from harness.engine.data import load
from harness.engine.handle import Pitstop
from harness.engine.run import Run, Target
from harness.errors import BadInput
from harness.rules import sql as migrations
from harness.rules.model import Model, load_model
from harness.rules.model.catalog import read_catalog
from harness.rules.model.seeding import value_misfits
from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli
from tests.model_worlds import DOMAIN, create_database, database_with, drop_database

SCHEMAS = Path(__file__).parent / "schemas"
CONFIG = str(SCHEMAS / "dispatch.toml")
DEPOT = "0d0e0000-0000-4000-8000-000000000001"
STATES: dict[str, Any] = load("states")
# The tables a test writes (the depot the migration made stays).
TABLES = (
    "auth.users, dispatch.fleet, dispatch.visits, dispatch.callouts, dispatch.visit_crew, "
    "dispatch.assignments, dispatch.visit_events, pitstop.registry"
)


def declared() -> dict[str, Any]:
    return tomllib.loads(Path(CONFIG).read_text(encoding="utf-8"))["tool"]["pitstop"]["model"]


def dispatch_model(*, values: bool = True) -> Model:
    data = declared()
    if not values:
        for part in ("sessions", "requests"):
            data[part].pop("values")
    return load_model(data, source="tests/schemas/dispatch.toml")


@pytest.fixture(scope="module")
def dispatch_url(postgres: LocalPostgres) -> Iterator[str]:
    url = create_database(postgres.url(), "dispatch")
    try:
        with PostgresStore(database_url=url, model=dispatch_model()) as store:
            store.install(test_domain=DOMAIN)
        yield url
    finally:
        drop_database(postgres.url(), url)


def _emptied(url: str, model: Model) -> Iterator[PostgresStore]:
    with PostgresStore(database_url=url, model=model) as store:
        store.connection.execute(f"truncate {TABLES} cascade")
        yield store


@pytest.fixture
def dispatch(dispatch_url: str) -> Iterator[PostgresStore]:
    yield from _emptied(dispatch_url, dispatch_model())


@pytest.fixture
def undeclared(dispatch_url: str) -> Iterator[PostgresStore]:
    """The dispatch database with a store whose model declares no values."""
    yield from _emptied(dispatch_url, dispatch_model(values=False))


@contextmanager
def running(store: PostgresStore) -> Iterator[Run]:
    settings = Settings.load(
        database_url=store.connection.info.dsn, model=store.model, app_url="http://127.0.0.1:9", env={}
    )
    run = Run(
        RunConfig(settings=settings, sweep_minutes=30), run_id="seedrun", target=Target(settings, "given")
    )
    try:
        yield run
    finally:
        run.close(delete_users=True)


def rows(store: PostgresStore, query: str, *params: Any) -> list[tuple[Any, ...]]:
    return store.connection.execute(query.encode(), params).fetchall()


def count(store: PostgresStore, table: str) -> int:
    return int(rows(store, f"select count(*) from {table}")[0][0])


def seed_all(pitstop: Pitstop, customer: Any, mechanic: Any) -> dict[str, Any]:
    out = {}
    for state, spec in STATES.items():
        helper = {"mechanic": mechanic} if spec.get("mechanic") else {}
        out[state] = pitstop.seed(state, customer, **helper)
    return out


# -- every named state, with only the model -----------------------------------------------------


def test_every_named_state_seeds_and_fills_every_required_column(dispatch: PostgresStore) -> None:
    with running(dispatch) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        [(account,)] = rows(dispatch, "select account from dispatch.fleet where fleet_id = %s", mechanic.id)
        assert account is not None  # the fleet row is linked to a sign-in user
        seeded = seed_all(Pitstop(run), customer, mechanic)
        assert set(seeded) == set(STATES)

        visits = rows(
            dispatch,
            "select visit_id, stage, driver, payment_ref, kind::text, priority, details, fee_cents, tip,"
            " window_start is not null, length(ref_code), depot from dispatch.visits",
        )
        assert len(visits) == len(STATES)
        words = {"waiting": "booked", "pending": "quoted", "live": "on_site", "completed": "closed",
                 "cancelled": "scrapped"}  # fmt: skip
        by_id = {str(v[0]): v for v in visits}
        for state, spec in STATES.items():
            visit = by_id[seeded[state]["session_id"]]
            assert visit[1] == words[spec["session"]], state
            assert visit[2] == (mechanic.id if spec.get("mechanic") else None), state
            assert visit[4:] == ("remote", "normal", {}, 0, 0, True, 10, UUID(DEPOT)), state
            assert visit[3].startswith("pitstop-"), state
        assert len({v[3] for v in visits}) == len(visits)  # unique (as is ref_code: the database says)

        callouts = rows(
            dispatch,
            "select visit, phase::text, taken_by, channel, region like 'pitstop-%%', distance_km, attempts,"
            " urgent, wanted_on = current_date, tags, requested_by, depot from dispatch.callouts",
        )
        assert len(callouts) == sum(1 for spec in STATES.values() if spec["request"] is not None)
        for callout in callouts:
            assert callout[3:] == ("app", True, 0, 0, False, True, [], customer.id, UUID(DEPOT))

        for state, spec in STATES.items():
            crew = rows(
                dispatch,
                "select person, role, joined_at is not null, seat from dispatch.visit_crew where visit = %s"
                " order by role",
                UUID(seeded[state]["session_id"]),
            )
            both = [(customer.id, "customer", True, 0), (account, "mechanic", True, 0)]
            assert crew == (both if spec.get("mechanic") else []), state
        run.release_users()


def test_every_session_pitstop_gives_carries_what_a_page_shows_in_one_shape(dispatch: PostgresStore) -> None:
    """Seeded, looked up and active sessions: the same keys, read through the store on the app's own
    tables (visits, callouts, fleet mechanics linked to sign-in users)."""
    with running(dispatch) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        pitstop = Pitstop(run)
        live = pitstop.seed("live_session", customer, mechanic=mechanic)
        assert live == pitstop.session(live["id"]) == pitstop.active_session(customer)
        [(visit_logged, fleet_email)] = rows(
            dispatch,
            "select v.logged_at, f.email from dispatch.visits v"
            " join dispatch.fleet f on f.fleet_id = v.driver where v.visit_id = %s",
            UUID(live["id"]),
        )
        assert (live["session_id"], live["status"], live["row"]["stage"]) == (
            live["id"],
            "on_site",
            "on_site",
        )
        assert datetime.fromisoformat(live["created_at"]) == visit_logged  # JSON drops trailing zeros
        assert live["customer_id"] == str(customer.id)
        assert live["customer"] == {"id": str(customer.id), "email": customer.email, "name": customer.name}
        # The mechanic as the fleet table keeps it, named as its sign-in user.
        assert live["mechanic_id"] == str(mechanic.id)
        assert live["mechanic"] == {"id": str(mechanic.id), "email": fleet_email, "name": mechanic.name}
        # The request is the callout of the visit; no plan column in this app's sessions.
        assert live["request"]["visit"] == live["id"] and live["request"]["phase"] == "taken"
        assert live["request_id"] == live["request"]["callout_id"]
        assert live["plan"] is None and "plan" not in live["row"]

        completed = pitstop.seed("completed_session", customer, mechanic=mechanic)
        assert set(completed) == set(live) and completed["status"] == "closed"
        with pytest.raises(Exception, match="no session 00000000-0000-4000-8000-000000000000"):
            pitstop.session("00000000-0000-4000-8000-000000000000")
        run.release_users()


def test_a_mechanic_without_a_sign_in_user_is_no_participant(dispatch: PostgresStore) -> None:
    with running(dispatch) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        dispatch.connection.execute(
            "update dispatch.fleet set account = null where fleet_id = %s", (mechanic.id,)
        )
        live = Pitstop(run).seed("live_session", customer, mechanic=mechanic)
        crew = rows(
            dispatch, "select person, role from dispatch.visit_crew where visit = %s", live["session_id"]
        )
        assert crew == [(customer.id, "customer")]
        run.release_users()


# -- what pitstop cannot make: one error naming every column -----------------------------------


@pytest.mark.parametrize("state", ["waiting_session", "orphaned_session", "live_session"])
def test_one_error_names_every_column_that_needs_a_value_and_nothing_is_written(
    undeclared: PostgresStore, state: str
) -> None:
    with running(undeclared) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        helper = {"mechanic": mechanic} if STATES[state].get("mechanic") else {}
        with pytest.raises(BadInput) as refused:
            Pitstop(run).seed(state, customer, **helper)
        message, fix = refused.value.message, refused.value.fix or ""
        assert "2 required columns" in message
        assert "dispatch.visits.depot: references dispatch.depots(depot_id)" in message
        assert "declare sessions.values.depot" in message
        assert "dispatch.callouts.depot: references dispatch.depots(depot_id)" in message
        assert "declare requests.values.depot" in message
        assert 'declare [tool.pitstop.model.sessions.values] depot = "<an id of dispatch.depots>"' in fix
        assert '[tool.pitstop.model.requests.values] depot = "<an id of dispatch.depots>"' in fix
        assert "Traceback" not in str(refused.value)
        assert count(undeclared, "dispatch.visits") == count(undeclared, "dispatch.callouts") == 0
        run.release_users()


def test_declaring_the_sessions_value_seeds_a_state_without_a_request(dispatch_url: str) -> None:
    data = declared()
    data["requests"].pop("values")
    for store in _emptied(dispatch_url, load_model(data)):
        with running(store) as run:
            customer = run.user("customer")
            pitstop = Pitstop(run)
            assert pitstop.seed("orphaned_session", customer)["request_id"] is None
            with pytest.raises(BadInput, match="1 required column ") as refused:
                pitstop.seed("waiting_session", customer)
            assert "dispatch.callouts.depot" in refused.value.message
            assert "dispatch.visits.depot" not in refused.value.message
            run.release_users()


def test_a_declared_value_that_does_not_fit_is_named_with_its_fix(dispatch_url: str) -> None:
    data = declared()
    data["sessions"]["values"] |= {"priority": "vip", "depto": "x"}
    model = load_model(data)
    with PostgresStore(database_url=dispatch_url, model=model) as store:
        found = {m.key: m for m in value_misfits(model, read_catalog(store.connection))}
    assert set(found) == {"sessions.values.priority", "sessions.values.depto"}
    assert "does not allow 'vip'" in found["sessions.values.priority"].message
    assert "'normal', 'urgent'" in found["sessions.values.priority"].fix
    assert found["sessions.values.depto"].fix.startswith("did you mean depot")
    for store in _emptied(dispatch_url, model):
        with running(store) as run, pytest.raises(BadInput) as refused:
            Pitstop(run).seed("orphaned_session", run.user("customer"))
        message = refused.value.message
        assert message.startswith("cannot seed a state: 2 declared values do not fit:")
        assert "sessions.values.priority: dispatch.visits.priority does not allow 'vip'" in message
        assert "sessions.values.depto: dispatch.visits has no column depto (did you mean depot" in message
        assert count(store, "dispatch.visits") == 0


def test_install_refuses_a_declared_value_that_does_not_fit_and_writes_nothing(dispatch_url: str) -> None:
    data = declared()
    data["sessions"]["values"] |= {"depto": "x"}
    with PostgresStore(database_url=dispatch_url, model=load_model(data)) as store:
        before = store.installed()
        with pytest.raises(BadInput, match=r"sessions\.values\.depto: dispatch\.visits has no column depto"):
            store.install(test_domain=DOMAIN)
        assert store.installed() == before


def test_a_value_the_database_refuses_names_the_column_and_the_key(dispatch_url: str) -> None:
    data = declared()
    data["sessions"]["values"]["fee_cents"] = -5  # the check constraint says no
    for store in _emptied(dispatch_url, load_model(data)):
        with running(store) as run, pytest.raises(BadInput) as refused:
            Pitstop(run).seed("orphaned_session", run.user("customer"))
        assert "cannot seed into dispatch.visits" in refused.value.message
        assert "fee_cents in [tool.pitstop.model.sessions.values]" in (refused.value.fix or "")
        assert count(store, "dispatch.visits") == 0


def test_a_declared_value_that_repeats_in_a_unique_column_says_to_leave_it_to_pitstop(
    dispatch_url: str,
) -> None:
    data = declared()
    data["sessions"]["values"]["payment_ref"] = "pi_same"
    for store in _emptied(dispatch_url, load_model(data)):
        with running(store) as run:
            customer = run.user("customer")
            Pitstop(run).seed("orphaned_session", customer)
            with pytest.raises(BadInput, match=r"cannot seed into dispatch\.visits") as refused:
                Pitstop(run).seed("orphaned_session", customer)
            assert "leave payment_ref undeclared" in (refused.value.fix or "")
            assert count(store, "dispatch.visits") == 1
            run.release_users()


def test_a_unique_index_on_the_models_columns_says_to_reset_first(dispatch: PostgresStore) -> None:
    dispatch.connection.execute(
        "create unique index one_open_visit on dispatch.visits (client) where stage in ('quoted', 'booked')"
    )
    try:
        with running(dispatch) as run:
            customer = run.user("customer")
            Pitstop(run).seed("waiting_session", customer)
            with pytest.raises(BadInput, match=r"cannot seed into dispatch\.visits") as refused:
                Pitstop(run).seed("waiting_session", customer)
            assert "the app allows one such row (client): reset the user" in (refused.value.fix or "")
            assert count(dispatch, "dispatch.visits") == count(dispatch, "dispatch.callouts") == 1
            run.release_users()
    finally:
        dispatch.connection.execute("drop index dispatch.one_open_visit")


# -- the declaration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "part", "match"),
    [
        ("nope", "sessions", "must be a table of column = value"),
        ({"tags": ["a"]}, "sessions", "must be a string, a number or a boolean"),
        ({"status": "live"}, "sessions", "sessions.status of the model, which pitstop writes itself"),
        ({"customer_id": "x"}, "requests", "requests.customer of the model"),
        ({" ": 1}, "sessions", "empty column name"),
        ({"fee": float("nan")}, "sessions", "is nan"),
    ],
)
def test_declared_values_are_checked_up_front(values: Any, part: str, match: str) -> None:
    with pytest.raises(BadInput, match=match) as refused:
        load_model({part: {"values": values}})
    assert refused.value.fix


def test_values_for_a_model_without_requests_are_refused() -> None:
    with pytest.raises(BadInput, match="has no requests table"):
        load_model({"requests": {"table": "", "values": {"depot": "x"}}})


def test_declared_values_round_trip_and_leave_the_rules_hash_alone() -> None:
    model = dispatch_model()
    assert model.values_for("dispatch.visits") == {"depot": DEPOT}
    assert model.values_for("dispatch.fleet") == {}
    again = load_model(tomllib.loads(model.to_toml())["tool"]["pitstop"]["model"])
    assert again == model
    assert model.digest() == dispatch_model(values=False).digest()
    assert model.to_json()["sessions"]["values"] == {"depot": DEPOT}
    assert "values" not in Model().to_json()["sessions"]
    dated = load_model(tomllib.loads("[sessions.values]\nwindow_start = 2025-01-02T03:04:05Z\nflag = true"))
    assert dict(dated.values.sessions) == {"window_start": "2025-01-02T03:04:05+00:00", "flag": True}


# -- what reset and cleanup say they changed -------------------------------------------------------


def pitstop_cli(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, *argv, "--config", CONFIG, "--database-url", url)


def test_reset_names_every_table_it_changed_and_a_uuid_once(
    dispatch: PostgresStore, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    url = dispatch.connection.info.dsn
    with running(dispatch) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        pitstop = Pitstop(run)
        live = pitstop.seed("live_session", customer, mechanic=mechanic)
        pitstop.seed("waiting_session", customer)
        dispatch.connection.execute(
            "insert into dispatch.assignments (visit_id) values (%s)", (UUID(live["session_id"]),)
        )
        expected = (
            "dispatch.visits 2, dispatch.callouts 2, dispatch.assignments 1, dispatch.visit_crew 2, "
            "dispatch.visit_events 2"
        )
        before = count(dispatch, "dispatch.visit_events")
        code, out, err = pitstop_cli(capsys, url, "reset", "--user", customer.email, "--dry-run")
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            f"would purge test user {customer.email} ({customer.id}): {expected}",
            "dry run: nothing was changed",
        ]
        assert count(dispatch, "dispatch.visit_events") == before == 2

        code, out, _ = pitstop_cli(capsys, url, "reset", "--user", customer.email, "--json", "--dry-run")
        answer = json.loads(out)
        assert {"user_id", "kept", "sessions", "session_requests", "tables", "dry_run"} <= set(answer)
        assert answer["tables"]["dispatch.visit_events"] == 2

        code, out, _ = pitstop_cli(capsys, url, "reset", "--user", customer.email)
        assert code == 0 and out.strip() == f"purged test user {customer.email} ({customer.id}): {expected}"
        assert count(dispatch, "dispatch.visits") == count(dispatch, "dispatch.visit_events") == 0

        pitstop.seed("completed_session", customer, mechanic=mechanic)
        code, out, _ = pitstop_cli(capsys, url, "reset", "--user", str(mechanic.id).upper())
        assert code == 0
        assert out.count(str(mechanic.id)) == 1
        assert out.strip() == (
            f"purged test user {mechanic.id}: dispatch.visits 1, dispatch.callouts 1, "
            "dispatch.assignments 0, dispatch.visit_crew 2, dispatch.visit_events 1"
        )
        run.release_users()


def test_cleanup_names_every_table_it_changed(
    dispatch: PostgresStore, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    url = dispatch.connection.info.dsn
    with running(dispatch) as run:
        customer = run.user("customer")
        pitstop = Pitstop(run)
        pitstop.seed("waiting_session", customer, age_minutes=20)  # a stale callout: expired, visit scrapped
        pitstop.seed("orphaned_session", customer, age_minutes=30)  # a stale orphan: scrapped
        pitstop.seed("waiting_session", customer)  # fresh: kept

        code, out, _ = pitstop_cli(capsys, url, "cleanup", "--dry-run")
        assert code == 0
        assert out.splitlines() == [
            "would expire 1 pending requests older than 15 min; would cancel 2 sessions (1 orphaned)",
            "would change: dispatch.visits 2, dispatch.callouts 1",
            "dry run: nothing was changed",
        ]
        code, out, _ = pitstop_cli(capsys, url, "cleanup", "--json")
        assert json.loads(out) == {
            "requests_expired": 1,
            "requests_cancelled": 0,
            "sessions_cancelled": 2,
            "orphans_cancelled": 1,
            "dry_run": False,
        }
        code, out, _ = pitstop_cli(capsys, url, "cleanup")
        assert out.splitlines()[1] == "changed: dispatch.visits 0, dispatch.callouts 0"
        assert rows(dispatch, "select stage, count(*) from dispatch.visits group by 1 order by 1") == [
            ("booked", 1),
            ("scrapped", 2),
        ]
        run.release_users()


# -- the reference app's names, with tables of the app's own beside them ---------------------------

EXTRA = """
create table public.session_events (
    id bigint generated always as identity primary key,
    session_id uuid not null references public.sessions on delete cascade,
    what text not null
);
create table public.mechanic_queue (
    session_id uuid primary key references public.sessions on delete cascade,
    queued_at timestamptz not null default now()
);
alter table public.sessions add column payment_reference text not null unique;
alter table public.sessions add column session_type text not null check (session_type in ('chat', 'video'));
"""


def test_the_reference_names_with_the_apps_own_tables(
    postgres: LocalPostgres, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    url = database_with(postgres.url(), migrations.app_schema() + EXTRA, prefix="reference_plus")
    try:
        with PostgresStore(database_url=url) as store:
            store.install(test_domain=DOMAIN)
            with running(store) as run:
                customer, mechanic = run.user("customer"), run.user("mechanic")
                live = Pitstop(run).seed("live_session", customer, mechanic=mechanic)
                [(reference, kind)] = rows(
                    store, "select payment_reference, session_type from public.sessions"
                )
                assert reference.startswith("pitstop-") and kind == "chat"
                crew = rows(store, "select user_id, role from public.session_participants order by role")
                assert crew == [(customer.id, "customer"), (mechanic.id, "mechanic")]
                session = UUID(live["session_id"])
                store.connection.execute(
                    "insert into public.session_events (session_id, what) values (%s, 'paid')", (session,)
                )
                store.connection.execute(
                    "insert into public.mechanic_queue (session_id) values (%s)", (session,)
                )
                code, out, _ = run_cli(capsys, "reset", "--user", customer.email, "--database-url", url)
                assert code == 0
                assert out.strip() == (
                    f"purged test user {customer.email} ({customer.id}): sessions 1, session_requests 1, "
                    "chat_messages 0, mechanic_queue 1, session_events 1, session_files 0, "
                    "session_participants 2"
                )
                run.release_users()
    finally:
        drop_database(postgres.url(), url)
