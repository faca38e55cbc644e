"""Mechanics in a table of their own, and named states written through any model.

An app of its own ("the garage"): jobs (sessions) and job requests in its own
words, mechanics in ``public."Garage Mechanics"`` (a name that must be quoted),
with and without a link to auth.users.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from harness.cli.serve import _demo_users
from harness.config.settings import RunConfig, Settings
from harness.engine.data import load
from harness.engine.handle import Pitstop, state_words
from harness.engine.mechanics import NewMechanic, default_factory, load_factory, make_mechanic
from harness.engine.personas import Personas
from harness.engine.run import Run, Target
from harness.errors import BadInput, PitstopError, Refused
from harness.rules import sql as migrations
from harness.rules.model import Model, load_model
from harness.stack.embedded import StackInfo
from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli

MECHANICS = '"public"."Garage Mechanics"'
SCHEMA = """
create table public.profiles (
    id uuid primary key references auth.users on delete cascade,
    role text not null,
    full_name text not null
);
create table public."Garage Mechanics" (
    id uuid primary key default gen_random_uuid(),
    email text not null unique,
    {link}
    licence text
);
create table public.jobs (
    job_id uuid primary key default gen_random_uuid(),
    client uuid not null references auth.users,
    mechanic uuid references public."Garage Mechanics",
    state text not null check (state in ('queued', 'open', 'on_air', 'done', 'dropped')),
    opened_at timestamptz not null default now(),
    closed_at timestamptz
);
create table public.job_requests (
    id uuid primary key default gen_random_uuid(),
    job uuid references public.jobs on delete cascade,
    client uuid not null references auth.users,
    taken_by uuid references public."Garage Mechanics",
    state text not null check (state in ('new', 'taken', 'lapsed', 'withdrawn')),
    opened_at timestamptz not null default now()
);
"""
LINK = "user_id uuid references auth.users,"
TABLES = f"auth.users, public.profiles, public.jobs, public.job_requests, {MECHANICS}, pitstop.registry"


def garage_model(*, linked: bool) -> Model:
    return load_model(
        {
            "sessions": {
                "table": "public.jobs", "id": "job_id", "customer": "client", "mechanic": "mechanic",
                "status": "state", "created_at": "opened_at", "ended_at": "closed_at",
                "open": ["queued", "open"], "active": ["queued", "open", "on_air"], "live": ["on_air"],
                "done": ["done"], "cancelled": "dropped",
            },
            "requests": {
                "table": "public.job_requests", "customer": "client", "mechanic": "taken_by",
                "session": "job", "status": "state", "created_at": "opened_at",
                "pending": "new", "accepted": "taken", "expired": "lapsed", "cancelled": "withdrawn",
            },
            "mechanics": {"table": "public.Garage Mechanics", "user": "user_id" if linked else ""},
        }
    )  # fmt: skip


@contextmanager
def _garage(postgres: LocalPostgres, *, linked: bool) -> Iterator[str]:
    """A database of its own with the platform, the garage's tables and pitstop for its model."""
    name = f"garage_{'linked' if linked else 'plain'}_{uuid4().hex[:10]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = postgres.url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(migrations.platform().encode())
            conn.execute(SCHEMA.format(link=LINK if linked else "").encode())
        with PostgresStore(database_url=url, model=garage_model(linked=linked)) as store:
            store.install(test_domain="pitstop.test")
        yield url
    finally:
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute(f"drop database {name} with (force)")


@pytest.fixture(scope="module")
def plain_url(postgres: LocalPostgres) -> Iterator[str]:
    with _garage(postgres, linked=False) as url:
        yield url


@pytest.fixture(scope="module")
def linked_url(postgres: LocalPostgres) -> Iterator[str]:
    with _garage(postgres, linked=True) as url:
        yield url


def _emptied(url: str, model: Model) -> Iterator[PostgresStore]:
    with PostgresStore(database_url=url, model=model) as store:
        store.connection.execute(f"truncate {TABLES} cascade")
        store.connection.execute(f"alter table {MECHANICS} alter column licence drop not null")
        yield store


@pytest.fixture(params=["plain", "linked"])
def garage(request: pytest.FixtureRequest) -> Iterator[PostgresStore]:
    """A store on the garage, emptied, with or without the mechanics' link to auth.users."""
    linked = request.param == "linked"
    url = request.getfixturevalue(f"{request.param}_url")
    yield from _emptied(url, garage_model(linked=linked))


@pytest.fixture
def plain(plain_url: str) -> Iterator[PostgresStore]:
    yield from _emptied(plain_url, garage_model(linked=False))


def _run_on(store: PostgresStore, run_id: str = "thisrun") -> Run:
    url = store.connection.info.dsn
    settings = Settings.load(database_url=url, model=store.model, app_url="http://127.0.0.1:9", env={})
    config = RunConfig(settings=settings, sweep_minutes=30)
    return Run(config, run_id=run_id, target=Target(settings, "given"))


@contextmanager
def _running(store: PostgresStore) -> Iterator[Run]:
    run = _run_on(store)
    try:
        yield run
    finally:
        run.close(delete_users=True)


def _rows(store: PostgresStore, query: str, *params: Any) -> list[tuple[Any, ...]]:
    return store.connection.execute(query.encode(), params).fetchall()


def _count(store: PostgresStore, table: str) -> int:
    return int(_rows(store, f"select count(*) from {table}")[0][0])


# -- test mechanics ------------------------------------------------------------------------


def test_a_registered_test_mechanic_is_purged_and_deleted_at_the_end_of_the_run(
    garage: PostgresStore,
) -> None:
    with _running(garage) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        rows = _rows(garage, f"select id, email from {MECHANICS}")
        assert rows == [(mechanic.id, mechanic.email)]
        [registered] = garage.test_mechanics()
        assert registered["id"] == str(mechanic.id) and registered["email"] == mechanic.email
        assert (registered["run"], registered["worker"], registered["pid"]) == (
            "thisrun",
            "main",
            os.getpid(),
        )
        assert registered["host"] == socket.gethostname()
        if garage.model.mechanics.user:  # linked to a test user of the same email
            [(user_id,)] = _rows(garage, f"select user_id from {MECHANICS}")
            assert _rows(garage, "select email from auth.users where id = %s", user_id) == [(mechanic.email,)]

        pitstop = Pitstop(run)
        pitstop.seed("live_session", customer, mechanic=mechanic)
        counts = garage.purge_user(mechanic.id)
        assert (counts["sessions"], counts["session_requests"], counts["kept"]) == (1, 1, 0)
        pitstop.seed("live_session", customer, mechanic=mechanic)
        assert [s["mechanic_id"] for s in garage.active_sessions([mechanic.id])] == [str(mechanic.id)]

        assert run.release_users() == []
    assert _count(garage, MECHANICS) == _count(garage, "pitstop.registry") == 0
    assert _count(garage, "auth.users") == _count(garage, "public.jobs") == 0


def test_a_worker_deletes_its_own_mechanics_as_it_closes(garage: PostgresStore) -> None:
    run = _run_on(garage)
    run.user("mechanic"), run.user("second_mechanic")
    assert _count(garage, MECHANICS) == 2
    run.close(delete_users=True)
    assert (
        _count(garage, MECHANICS) == _count(garage, "pitstop.registry") == _count(garage, "auth.users") == 0
    )


def test_an_unregistered_row_with_a_test_domain_email_is_refused(garage: PostgresStore) -> None:
    stranger = uuid4()
    garage.connection.execute(
        f"insert into {MECHANICS} (id, email) values (%s, 'someone@pitstop.test')".encode(), (stranger,)
    )
    with pytest.raises(Refused, match="not a test user"):
        garage.purge_user(stranger)
    with pytest.raises(Refused, match=r"not a test mechanic of public\.Garage Mechanics"):
        garage.delete_test_mechanic(stranger)
    assert _count(garage, MECHANICS) == 1


def test_a_row_linked_to_a_test_user_is_a_test_mechanic(linked_url: str) -> None:
    for store in _emptied(linked_url, garage_model(linked=True)):
        user = Personas(run_id="r1").create(store, "mechanic", "mechanic")
        linked, real = uuid4(), uuid4()
        store.connection.execute(
            f"insert into {MECHANICS} (id, email, user_id)"
            " values (%s, %s, %s), (%s, 'real@example.com', null)".encode(),
            (linked, user.email, user.id, real),
        )
        assert store.purge_user(linked)["sessions"] == 0
        with pytest.raises(Refused):
            store.purge_user(real)
        assert store.delete_test_mechanic(linked)["mechanics"] == 1


def test_a_factory_that_writes_an_email_outside_the_test_domain_is_refused_and_nothing_stays(
    plain: PostgresStore,
) -> None:
    def make(conn: psycopg.Connection[Any], mechanic: NewMechanic) -> UUID:
        row = conn.execute(
            f"insert into {MECHANICS} (email) values ('real@example.com') returning id"
        ).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    mechanic = NewMechanic("m@pitstop.test", "M", "pw", "mechanic", "r1", "main")
    with pytest.raises(Refused, match="not one in the test domain"):
        make_mechanic(plain, make, mechanic, host=None, pid=None, origin="the test's factory")
    assert _count(plain, MECHANICS) == _count(plain, "pitstop.registry") == 0


def test_the_default_factory_names_the_override_point_when_the_table_requires_more(
    plain: PostgresStore,
) -> None:
    plain.connection.execute(f"alter table {MECHANICS} alter column licence set not null")
    with _running(plain) as run, pytest.raises(BadInput, match="requires licence") as refused:
        run.user("mechanic")
    assert "pitstop_make_mechanic" in (refused.value.fix or "")
    assert "public.Garage Mechanics" in refused.value.message
    assert _count(plain, MECHANICS) == _count(plain, "pitstop.registry") == 0


def test_a_mechanic_still_serving_a_real_customer_is_left_and_the_report_says_why(
    plain: PostgresStore,
) -> None:
    with _running(plain) as run:
        mechanic = run.user("mechanic")
        real = _rows(
            plain,
            "insert into auth.users (id, email) values (gen_random_uuid(), 'real@example.com') returning id",
        )[0][0]
        plain.connection.execute(
            "insert into public.jobs (client, mechanic, state) values (%s, %s, 'on_air')", (real, mechanic.id)
        )
        left = run.release_users()
        assert [(u["email"], u["mechanic"]) for u in left] == [(mechanic.email, str(mechanic.id))]
        assert "still serves sessions" in left[0]["reason"]
        assert _count(plain, MECHANICS) == 1
        plain.connection.execute("delete from public.jobs")
        plain.connection.execute("delete from auth.users where id = %s", (real,))


def test_a_dead_runs_mechanics_are_swept_and_a_live_runs_are_not(plain: PostgresStore) -> None:
    host = socket.gethostname()
    made = {}
    for run_id, pid in (("deadrun", 2**22 + 7), ("liverun", os.getpid())):
        mechanic = NewMechanic(f"mechanic-{run_id}@pitstop.test", "M", "pw", "mechanic", run_id, "gw0")
        made[run_id] = make_mechanic(
            plain, default_factory(plain.model), mechanic, host=host, pid=pid, origin="the default"
        )
    plain.connection.execute("update pitstop.registry set created_at = now() - interval '1 hour'")
    run = _run_on(plain)
    try:
        swept = run.sweep()
    finally:
        run.close(delete_users=False)
    assert swept == ["mechanic-deadrun@pitstop.test"]
    assert [r[0] for r in _rows(plain, f"select id from {MECHANICS}")] == [made["liverun"]]


def test_a_registry_entry_whose_row_is_gone_is_dropped(plain: PostgresStore) -> None:
    mechanic = NewMechanic("gone@pitstop.test", "M", "pw", "mechanic", "r1", "main")
    mechanic_id = make_mechanic(
        plain, default_factory(plain.model), mechanic, host=None, pid=None, origin="x"
    )
    plain.connection.execute(f"delete from {MECHANICS}")
    assert plain.test_mechanics()[0]["exists"] is False
    assert plain.delete_test_mechanic(mechanic_id) == {"mechanics": 0, "registry": 1}
    assert plain.test_mechanics() == []


# -- named states through the model ------------------------------------------------------------

GARAGE_WORDS = {
    # state: (job state, request state, mechanic on the job, request taken by the mechanic, closed)
    "waiting_session": ("open", "new", False, False, False),
    "pending_request": ("queued", "new", False, False, False),
    "orphaned_session": ("open", None, False, False, False),
    "live_session": ("on_air", "taken", True, True, False),
    "completed_session": ("done", "taken", True, True, True),
    "expired_request": ("dropped", "lapsed", False, False, True),
}


def test_named_states_are_written_in_the_models_words(garage: PostgresStore) -> None:
    with _running(garage) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        pitstop = Pitstop(run)
        for state, (word, request, served, taken, closed) in GARAGE_WORDS.items():
            helper = {"mechanic": mechanic} if served else {}
            seeded = pitstop.seed(state, customer, **helper, age_minutes=5)
            [job] = _rows(
                garage,
                "select state, mechanic, closed_at is not null, now() - opened_at > interval '299 seconds'"
                " from public.jobs where job_id = %s",
                UUID(seeded["session_id"]),
            )
            assert job == (word, mechanic.id if served else None, closed, True), state
            requests = _rows(
                garage,
                "select id, state, taken_by from public.job_requests where job = %s",
                job_id := seeded["session_id"],
            )
            expected = (
                []
                if request is None
                else [(UUID(seeded["request_id"]), request, mechanic.id if taken else None)]
            )
            assert requests == expected, (state, job_id)
        run.release_users()


def test_seeding_writes_nothing_unless_every_user_is_a_test_user(plain: PostgresStore) -> None:
    with _running(plain) as run:
        customer = run.user("customer")
        stranger = uuid4()  # a row of the mechanics table that pitstop did not register
        plain.connection.execute(
            f"insert into {MECHANICS} (id, email) values (%s, 'stranger@pitstop.test')".encode(), (stranger,)
        )
        impostor = type(customer)(stranger, "stranger@pitstop.test", "", "", "mechanic")
        with pytest.raises(PitstopError, match="must be test users"):
            Pitstop(run).seed("live_session", customer, mechanic=impostor)
        assert _count(plain, "public.jobs") == _count(plain, "public.job_requests") == 0
        run.release_users()
        plain.connection.execute(f"delete from {MECHANICS}")


DEFAULT_WORDS = {
    # state: (session status, request status, mechanic, participants)
    "waiting_session": ("waiting", "pending", None, 0),
    "pending_request": ("pending", "pending", None, 0),
    "orphaned_session": ("waiting", None, None, 0),
    "live_session": ("live", "accepted", "mechanic", 2),
    "completed_session": ("completed", "accepted", "mechanic", 2),
    "expired_request": ("cancelled", "expired", None, 0),
}


def test_named_states_on_the_default_model(store: PostgresStore) -> None:
    with _running(store) as run:
        customer, mechanic = run.user("customer"), run.user("mechanic")
        pitstop = Pitstop(run)
        for state, (status, request, served, participants) in DEFAULT_WORDS.items():
            helper = {"mechanic": mechanic} if served else {}
            seeded = pitstop.seed(state, customer, **helper, plan="Full Diagnosis")
            session_id = UUID(seeded["session_id"])
            [(word, mechanic_id, plan, started)] = _rows(
                store,
                "select status, mechanic_id, plan, started_at is not null from public.sessions where id = %s",
                session_id,
            )
            assert (word, plan, started) == (status, "Full Diagnosis", status in ("live", "completed")), state
            assert mechanic_id == (mechanic.id if served else None), state
            requests = _rows(
                store,
                "select status, accepted_by, vehicle from public.session_requests where session_id = %s",
                session_id,
            )
            vehicle = load("vehicles")[0]
            expected = [] if request is None else [(request, mechanic.id if served else None, vehicle)]
            assert requests == expected, state
            count = _rows(
                store, "select count(*) from public.session_participants where session_id = %s", session_id
            )
            assert count == [(participants,)], state
        run.release_users()


@pytest.mark.parametrize(
    ("state", "model", "key"),
    [
        ("live_session", {"sessions": {"mechanic": ""}}, "sessions.mechanic"),
        ("completed_session", {"sessions": {"mechanic": ""}}, "sessions.mechanic"),
        ("live_session", {"sessions": {"live": []}}, "sessions.live"),
        ("waiting_session", {"requests": {"table": ""}}, "requests.table"),
        ("expired_request", {"requests": {"table": ""}}, "requests.table"),
    ],
)
def test_a_state_the_model_cannot_hold_names_the_key_it_needs(state: str, model: Any, key: str) -> None:
    declared = {
        "sessions": {"active": ["pending", "waiting"], **model.get("sessions", {})}
        if "live" in model.get("sessions", {})
        else model.get("sessions", {}),
        "requests": model.get("requests", {}),
    }
    with pytest.raises(BadInput, match=f"state {state} needs {key} in") as refused:
        state_words(load_model(declared), state, load("states")[state])
    assert "declare" in (refused.value.fix or "")


def test_orphaned_session_needs_no_requests_table() -> None:
    words = state_words(
        load_model({"requests": {"table": ""}}), "orphaned_session", load("states")["orphaned_session"]
    )
    assert words == ("waiting", None)


# -- the override points: the fixture, and serve's hook --------------------------------------

CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def pitstop_make_mechanic():
    def make(conn, mechanic):
        row = conn.execute(
            'insert into public."Garage Mechanics" (email, licence) values (%s, %s) returning id',
            (mechanic.email, "LIC-" + mechanic.label),
        ).fetchone()
        return row[0]

    return make
"""

EXAMPLE = """
def test_a_mechanic_of_the_garage(pitstop, customer, mechanic):
    conn = pitstop.store.connection
    licence = conn.execute(
        'select licence from public."Garage Mechanics" where id = %s', (mechanic.id,)
    ).fetchone()
    assert licence == ("LIC-mechanic",)
    live = pitstop.seed("live_session", customer, mechanic=mechanic)
    assert [s["id"] for s in pitstop.store.active_sessions([mechanic.id])] == [live["session_id"]]
    pitstop.cleanup.force_cancel(live["session_id"])
"""


def _inner_run(pytester: pytest.Pytester, store: PostgresStore) -> pytest.RunResult:
    config = pytester.path / "pitstop.toml"
    config.write_text(store.model.to_toml())
    return pytester.runpytest_subprocess(
        "--base-url", "http://127.0.0.1:9",
        "--pitstop-database-url", store.connection.info.dsn,
        f"--pitstop-config={config}",
        f"--pitstop-health={pytester.path / 'r.json'}",
        "-p", "no:cacheprovider", "-p", "no:randomly",
        timeout=180,
    )  # fmt: skip


def test_the_fixture_override_makes_the_apps_own_row_and_the_run_deletes_it(
    pytester: pytest.Pytester, plain: PostgresStore
) -> None:
    plain.connection.execute(f"alter table {MECHANICS} alter column licence set not null")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_garage=EXAMPLE)
    result = _inner_run(pytester, plain)
    result.assert_outcomes(passed=1)
    assert _count(plain, MECHANICS) == _count(plain, "pitstop.registry") == _count(plain, "auth.users") == 0
    assert _count(plain, "public.jobs") == 0


def test_without_an_override_a_required_column_is_a_message_naming_the_fixture(
    pytester: pytest.Pytester, plain: PostgresStore
) -> None:
    plain.connection.execute(f"alter table {MECHANICS} alter column licence set not null")
    pytester.makepyfile(test_garage=EXAMPLE)
    result = _inner_run(pytester, plain)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*requires licence*", "*fix: define a `pitstop_make_mechanic` fixture*"])
    assert "Traceback" not in result.stdout.str()
    assert _count(plain, MECHANICS) == _count(plain, "auth.users") == 0


FACTORY = """
def make(conn, mechanic):
    return conn.execute(
        'insert into public."Garage Mechanics" (email, licence) values (%s, %s) returning id',
        (mechanic.email, "serve"),
    ).fetchone()[0]
"""


def test_serve_makes_its_demo_mechanic_with_the_given_factory(
    plain: PostgresStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain.connection.execute(f"alter table {MECHANICS} alter column licence set not null")
    (tmp_path / "garage_factory.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    factory = load_factory("garage_factory:make")
    settings = Settings.load(database_url=plain.connection.info.dsn, model=plain.model, env={})
    app = "http://127.0.0.1:9"
    info = StackInfo(app, plain.connection.info.dsn, app, "token", app, "a JWT secret")
    lines = _demo_users(info, settings, factory, origin="--mechanic-factory garage_factory:make")
    assert [line.split()[0] for line in lines] == ["customer", "mechanic", "admin"]
    [registered] = plain.test_mechanics()
    assert (registered["run"], registered["worker"]) == ("demo", "serve")
    assert _rows(plain, f"select licence from {MECHANICS}") == [("serve",)]
    plain.delete_test_mechanic(UUID(registered["id"]))


def test_serve_refuses_a_mechanic_factory_without_a_mechanics_table(
    capsys: pytest.CaptureFixture[str],
    no_target_environment: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "serve", "--mechanic-factory", "garage_factory:make")
    assert code == 2 and "the model has none" in err


def test_a_factory_spec_that_is_not_module_function_is_bad_input() -> None:
    with pytest.raises(BadInput, match="not module:function"):
        load_factory("garage_factory")
    with pytest.raises(BadInput, match="cannot import"):
        load_factory("no_such_module_here:make")
