"""``pitstop inspect``: the footprint, the model's fit and a proposed model, on the reference schema and
on schemas of our own (renamed tables and columns, an enum, a check constraint, free text, a mechanics
table, requests linked by customer), each in a blank database of its own.

A proposal cannot hurt (tests/schemas/bookings.sql): a word goes into ``open`` only on evidence, a
link column is chosen by its name and key with every other one named, thin evidence is NOT FOUND,
and the first cleanup is tried in a transaction rolled back, its rows of non-test users counted."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.cli.inspection import first_cleanup
from harness.rules import sql
from harness.rules.model import Model, load_model
from harness.rules.model.catalog import Catalog, Column, ForeignKey
from harness.rules.model.fit import Misfit, misfits
from harness.rules.model.propose import propose
from harness.stack.postgres import LocalPostgres, free_port
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli as run
from tests.model_worlds import SCHEMAS, create_database, drop_database, has_pitstop, model_of, primary_keys

pytestmark = pytest.mark.usefixtures("no_target_environment")

# Renamed everything: an enum for sessions, a check constraint for requests (called tickets), a
# mechanics table of its own, the link kept on the session, a footprint two deep.
# The reference schema's proposal: the reference model, but for assigned sessions, which a
# proposal always protects (the catalog cannot say that the app's own cleanup cancels them).
PROPOSED_REFERENCE = dataclasses.replace(
    Model(), sessions=dataclasses.replace(Model().sessions, cancel_assigned=False)
)

HELPDESK = """
create type public.call_state as enum ('requested', 'scheduled', 'in_progress', 'finished', 'canceled');
create table public.technicians (
    tech_id uuid primary key default gen_random_uuid(),
    contact_email text not null,
    account_id uuid references auth.users on delete set null,
    display_name text
);
create table public.help_tickets (
    id uuid primary key default gen_random_uuid(),
    client_id uuid not null references auth.users,
    assigned_tech uuid references public.technicians,
    state text not null check (state in ('open', 'taken', 'timed_out', 'withdrawn')),
    inserted_at timestamptz not null default now()
);
create table public.help_sessions (
    id uuid primary key default gen_random_uuid(),
    client_id uuid not null references auth.users,
    technician_id uuid references public.technicians,
    ticket_id uuid references public.help_tickets on delete set null,
    state public.call_state not null default 'requested',
    inserted_at timestamptz not null default now(),
    finished_at timestamptz,
    modified_at timestamptz
);
create table public.session_notes (
    id uuid primary key default gen_random_uuid(),
    session_ref uuid not null references public.help_sessions on delete cascade,
    body text
);
create table public.note_attachments (
    id uuid primary key default gen_random_uuid(),
    note_id uuid references public.session_notes on delete cascade
);
"""

# Another schema than public, free-text session statuses with rows present, a request check
# constraint without "expired", requests tied to sessions only by their customer, mechanics as users.
GARAGE = """
create schema shop;
create table shop.service_requests (
    id uuid primary key default gen_random_uuid(),
    driver_id uuid not null references auth.users on delete cascade,
    mechanic_user uuid references auth.users,
    status varchar(20) not null check (status in ('pending', 'accepted', 'cancelled')),
    created timestamptz not null default now()
);
create table shop.repair_sessions (
    repair_session_id uuid primary key default gen_random_uuid(),
    driver_id uuid not null references auth.users,
    mechanic_user uuid references auth.users,
    status text not null,
    created_at timestamptz not null default now()
);
create table shop.repair_photos (
    id uuid primary key default gen_random_uuid(),
    repair_session uuid references shop.repair_sessions on delete restrict
);
insert into auth.users (id, email) values ('00000000-0000-0000-0000-00000000000a', 'a@example.com');
insert into shop.repair_sessions (driver_id, status)
select '00000000-0000-0000-0000-00000000000a', s
from unnest(array['waiting', 'live', 'done', 'cancelled', 'waiting']) s;
"""

# Mechanics are sign-in users whose columns are not named like a mechanic (claimed_by).
DISPATCH = """
create table public.jobs (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    claimed_by uuid references auth.users,
    status text not null check (status in ('waiting', 'live', 'completed', 'cancelled')),
    created_at timestamptz not null default now()
);
create table public.job_requests (
    id uuid primary key default gen_random_uuid(),
    job_id uuid references public.jobs on delete cascade,
    customer_id uuid not null references auth.users,
    claimed_by uuid references auth.users,
    status text not null check (status in ('pending', 'accepted', 'expired', 'cancelled')),
    created_at timestamptz not null default now()
);
"""

# Nothing here is a session.
SHOP = """
create table public.orders (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid references auth.users,
    status text not null,
    created_at timestamptz not null default now()
);
create table public.products (id uuid primary key default gen_random_uuid(), name text);
"""


def schema(url: str, ddl: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.platform().encode())
        conn.execute(ddl.encode())
    return url


def inspect(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, "inspect", "--json", *argv)
    assert code == 0, err
    return code, json.loads(out)


def proposed(report: dict[str, Any]) -> Model:
    """The proposal as install would read it: its TOML through load_model."""
    toml = report["proposal"]["toml"]
    return load_model(tomllib.loads(toml)["tool"]["pitstop"]["model"])


def installs(url: str, model: Model) -> None:
    with PostgresStore(database_url=url, model=model) as store:
        store.install(test_domain="pitstop.test")
        assert store.installed()["model_hash"] == model.digest()


@pytest.fixture
def blank_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without pyproject.toml: no model is declared."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- the reference schema ----------------------------------------------------------------


def test_reference_footprint_fit_and_proposal(
    capsys: pytest.CaptureFixture[str], database_url: str, blank_config: Path
) -> None:
    code, report = inspect(capsys, "--database-url", database_url)
    assert code == 0
    assert list(report) == ["target", "footprint", "footprint_of", "footprint_problem", "model", "proposal"]
    rows = {
        (r["table"], r["column"], r["parent"], r["parent_column"], r["on_delete"], r["depth"])
        for r in report["footprint"]
    }
    assert rows == {
        (f"public.{t}", "session_id", "public.sessions", "id", "cascade", 1)
        for t in ("session_participants", "session_files", "chat_messages")
    }
    assert report["footprint_of"] == "model" and report["footprint_problem"] is None
    assert report["model"] == {"declared": False, "source": None, "ok": True, "misfits": []}
    # No model is declared: one is proposed, and it is the reference app's.
    proposal = report["proposal"]
    assert proposal["ok"] is True and proposal["missing"] == [] and proposal["misfits"] == []
    assert proposed(report) == PROPOSED_REFERENCE
    assert proposal["model"] == json.loads(json.dumps(PROPOSED_REFERENCE.to_json()))


def test_reference_text(capsys: pytest.CaptureFixture[str], database_url: str, blank_config: Path) -> None:
    code, out, _ = run(capsys, "inspect", "--database-url", database_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("pitstop inspect: postgres ")
    assert "model: the reference app's (no [tool.pitstop.model] configured)" in lines
    assert "  ok: it fits (public.sessions, public.session_requests)" in lines
    assert "  depth 1  public.chat_messages.session_id -> public.sessions.id  on delete cascade" in lines
    assert not any("session_requests.session_id" in line for line in lines)  # a root, not a child
    assert "proposal: install accepts it; put it in pyproject.toml (or the --config file):" in lines
    assert "[tool.pitstop.model.sessions]" in lines
    assert 'table = "public.sessions"  # named like sessions, with a status column' in lines


def test_a_declared_model_is_checked_and_proposed_only_when_asked(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "pitstop.toml"
    config.write_text('[tool.pitstop.model.sessions]\ndone = ["completed", "archived"]\n')
    code, report = inspect(capsys, "--database-url", database_url, "--config", str(config))
    assert report["model"]["declared"] is True and report["model"]["source"] == str(config)
    assert report["model"]["ok"] is False
    assert report["model"]["misfits"] == [
        {
            "key": "sessions.status",
            "message": "public.sessions.status does not allow 'archived' (its check constraint)",
            "fix": "use the words it allows: 'pending', 'waiting', 'live', 'completed', 'cancelled'",
        }
    ]
    assert report["proposal"] is None
    assert report["footprint_of"] == "model" and len(report["footprint"]) == 3  # its tables are there
    code, out, _ = run(capsys, "inspect", "--database-url", database_url, "--config", str(config))
    assert code == 0 and "`pitstop inspect --propose` proposes a model from the database" in out
    assert (
        "    sessions.status: public.sessions.status does not allow 'archived' (its check constraint)" in out
    )
    _, report = inspect(capsys, "--database-url", database_url, "--config", str(config), "--propose")
    assert proposed(report) == PROPOSED_REFERENCE


# -- schemas of our own --------------------------------------------------------------------


def test_helpdesk_enum_check_constraint_and_mechanics_table(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str, blank_config: Path
) -> None:
    url = schema(postgres_db_url, HELPDESK)
    _, report = inspect(capsys, "--database-url", url)
    assert report["model"]["ok"] is False  # the reference app's tables are not there
    assert report["model"]["misfits"][0]["key"] == "sessions.table"
    assert report["proposal"]["ok"] is True, report["proposal"]
    model = proposed(report)
    s, r, m = model.sessions, model.requests, model.mechanics
    assert (s.table, s.id, s.customer, s.mechanic, s.request, s.status) == (
        "public.help_sessions", "id", "client_id", "technician_id", "ticket_id", "state",
    )  # fmt: skip
    assert (s.created_at, s.ended_at, s.updated_at) == ("inserted_at", "finished_at", "modified_at")
    # scheduled (a booking for later) blocks a payment but is never open: no cleanup cancels it.
    assert (s.open, s.active, s.live, s.done, s.cancelled) == (
        ("requested",), ("requested", "scheduled", "in_progress"), ("in_progress",), ("finished",),
        "canceled",
    )  # fmt: skip
    assert (r.table, r.customer, r.mechanic, r.session, r.status, r.created_at) == (
        "public.help_tickets", "client_id", "assigned_tech", "", "state", "inserted_at",
    )  # fmt: skip
    assert (r.pending, r.accepted, r.expired, r.cancelled) == ("open", "taken", "timed_out", "withdrawn")
    assert (m.table, m.id, m.email, m.user) == (
        "public.technicians",
        "tech_id",
        "contact_email",
        "account_id",
    )
    # The footprint is the proposal's (the configured model does not fit): two deep, the mechanics left out.
    assert report["footprint_of"] == "proposal"
    assert [(f["table"], f["column"], f["parent"], f["depth"]) for f in report["footprint"]] == [
        ("public.session_notes", "session_ref", "public.help_sessions", 1),
        ("public.note_attachments", "note_id", "public.session_notes", 2),
    ]
    toml = report["proposal"]["toml"]
    assert 'status = "state"  # enum call_state' in toml
    assert 'mechanic = "technician_id"  # references public.technicians (mechanics.table)' in toml
    installs(url, model)


def test_garage_free_text_check_constraint_and_link_by_customer(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str, blank_config: Path
) -> None:
    url = schema(postgres_db_url, GARAGE)
    _, report = inspect(capsys, "--database-url", url)
    assert report["proposal"]["ok"] is True, report["proposal"]
    model = proposed(report)
    s, r, m = model.sessions, model.requests, model.mechanics
    assert (s.table, s.id, s.customer, s.mechanic, s.request, s.status, s.created_at) == (
        "shop.repair_sessions", "repair_session_id", "driver_id", "mechanic_user", "", "status", "created_at",
    )  # fmt: skip
    assert (s.ended_at, s.updated_at) == ("", "")
    # Read from the rows: the distinct values present, in order.
    assert (s.open, s.active, s.live, s.done, s.cancelled) == (
        ("waiting",), ("waiting", "live"), ("live",), ("done",), "cancelled",
    )  # fmt: skip
    assert (r.table, r.id, r.customer, r.mechanic, r.session, r.created_at) == (
        "shop.service_requests", "id", "driver_id", "mechanic_user", "", "created",
    )  # fmt: skip
    # No "expired" in the check constraint: a stale request is written as cancelled.
    assert (r.pending, r.accepted, r.expired, r.cancelled) == (
        "pending",
        "accepted",
        "cancelled",
        "cancelled",
    )
    assert m == Model().mechanics
    notes = report["proposal"]["notes"]
    assert any("linked by customer" in n for n in notes)
    toml = report["proposal"]["toml"]
    assert 'open = ["waiting"]  # waiting words from the values present (free text); never open: live' in toml
    assert (
        'expired = "cancelled"  # no expired word from its check constraint\'s words: the cancelled word'
        in toml
    )
    assert [(f["table"], f["on_delete"]) for f in report["footprint"]] == [("shop.repair_photos", "restrict")]
    installs(url, model)


def test_a_user_column_not_named_like_a_mechanic_is_named_not_taken(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str, blank_config: Path
) -> None:
    url = schema(postgres_db_url, DISPATCH)
    _, report = inspect(capsys, "--database-url", url, "--propose")
    model = proposed(report)
    assert (model.sessions.table, model.requests.table) == ("public.jobs", "public.job_requests")
    assert model.sessions.mechanic == model.requests.mechanic == ""  # not taken: the user chooses
    code, out, _ = run(capsys, "inspect", "--database-url", url, "--propose")
    assert code == 0
    said = "# none: no column named like a mechanic; claimed_by references auth.users"
    assert out.count(f'mechanic = ""  {said}') == 2, out  # sessions and requests
    assert "no column references" not in out  # what it said before: claimed_by does
    for part, table in (("sessions", "public.jobs"), ("requests", "public.job_requests")):
        assert (
            f"{part}.mechanic: {table}.claimed_by references auth.users but is not named like a mechanic: "
            f'set {part}.mechanic = "claimed_by" if it holds the mechanic\'s user id'
        ) in report["proposal"]["notes"]


def test_nothing_looks_like_sessions(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str, blank_config: Path
) -> None:
    url = schema(postgres_db_url, SHOP)
    code, report = inspect(capsys, "--database-url", url)
    assert code == 0
    proposal = report["proposal"]
    assert proposal["ok"] is False and proposal["model"] is None
    assert "sessions.table" in proposal["missing"]
    assert any(
        n.startswith("sessions.table: not found: no table is named like sessions") for n in proposal["notes"]
    )
    assert any(m["key"] == "sessions.table" for m in proposal["misfits"])
    assert report["footprint"] == [] and report["footprint_of"] is None
    code, out, _ = run(capsys, "inspect", "--database-url", url)
    assert code == 0
    assert "proposal: incomplete: fill in what is marked NOT FOUND, then check it again:" in out
    assert 'table = "public.sessions"  # NOT FOUND: no table is named like sessions' in out
    assert "footprint of a purge: unknown (the model's tables are not in the database)" in out


# -- the proposal on its own -------------------------------------------------------------------


def catalog_of(status: Column, *extra: tuple[str, Column]) -> Catalog:
    sessions = {
        "id": Column("id", "uuid"),
        "customer_id": Column("customer_id", "uuid"),
        "status": status,
        "created_at": Column("created_at", "timestamp with time zone"),
    }
    sessions.update(dict(extra))
    fk = ForeignKey("c", "public.sessions", ("customer_id",), "auth.users", ("id",), "no action")
    return Catalog({"public.sessions": sessions, "auth.users": {"id": Column("id", "uuid")}}, (fk,))


def test_free_text_without_rows_proposes_no_words_it_says_not_found() -> None:
    """No word to read is no evidence: the reference app's words are left, marked, never proposed."""
    proposal = propose(catalog_of(Column("status", "text")), lambda table, column: [])
    assert not proposal.ok
    assert proposal.missing == tuple(f"sessions.{k}" for k in ("open", "active", "live", "done", "cancelled"))
    assert proposal.model.sessions.statuses == Model().sessions.statuses
    assert proposal.model.requests.table == ""
    assert any("free text, no rows, so no words to read" in n for n in proposal.notes)
    assert proposal.comments["sessions.open"] == (
        "NOT FOUND: free text, no rows: no words to read; name your app's words"
    )


def test_accepted_like_session_words_block_payments_but_are_neither_open_nor_live() -> None:
    words = ("searching", "assigned", "ongoing", "resolved", "expired", "canceled", "mystery")
    proposal = propose(catalog_of(Column("status", "text", words)))
    s = proposal.model.sessions
    assert (s.open, s.active, s.live, s.done, s.cancelled) == (
        ("searching",), ("searching", "assigned", "ongoing"), ("ongoing",), ("resolved", "expired"),
        "canceled",
    )  # fmt: skip
    assert any("not mapped: mystery" in n for n in proposal.notes)


def test_a_constrained_status_without_a_cancelled_word_is_missing() -> None:
    proposal = propose(catalog_of(Column("status", "text", ("pending", "live", "completed"))))
    assert "sessions.cancelled" in proposal.missing and not proposal.ok
    assert [m.key for m in proposal.misfits] == ["sessions.status"]


# -- targets ---------------------------------------------------------------------------------------


def test_other_stores_need_a_database_url(capsys: pytest.CaptureFixture[str], blank_config: Path) -> None:
    code, out, err = run(
        capsys, "inspect", "--store", "api", "--app-url", "http://127.0.0.1:9", "--admin-token", "t"
    )
    assert code == 2 and out == ""
    assert "inspect reads the database's catalog: it needs a direct database connection" in err
    assert "--database-url" in err


def test_an_unreachable_database_is_exit_4(capsys: pytest.CaptureFixture[str], blank_config: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    code, out, err = run(capsys, "inspect", "--json", "--database-url", url)
    assert code == 4 and out == ""
    assert "could not connect to the database" in err


def test_inspect_never_writes(
    capsys: pytest.CaptureFixture[str],
    postgres_db_url: str,
    blank_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The session is read-only: a write slipped into the proposal's reads would fail, not land."""
    url = schema(postgres_db_url, GARAGE)
    refused: list[psycopg.Error] = []

    def writer(conn: psycopg.Connection[Any]) -> Any:
        def read(table: str, column: str) -> list[str] | None:
            try:
                conn.execute("create table public.written (id int)")
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                refused.append(exc)
            return []

        return read

    monkeypatch.setattr("harness.cli.inspection.value_reader", writer)
    code, _, _ = run(capsys, "inspect", "--database-url", url)
    assert code == 0 and len(refused) == 1
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('public.written')").fetchone() == (None,)


# -- a proposal that cannot hurt: tests/schemas/bookings.sql ------------------------------------------

ANN, BOB, EVE = (f"00000000-0000-0000-0000-00000000000{c}" for c in "abe")
HALF = "00000000-0000-0000-0000-00000000000f"  # an email in the test domain, no pitstop mark
TESTER = "00000000-0000-0000-0000-000000000001"  # both marks: a test user


def visit(name: str) -> str:
    """A session's id, by a name of two hex digits ("a1": Ann's first)."""
    return f"10000000-0000-0000-0000-0000000000{name}"


BOOKING = visit("a1")  # Ann's follow-up, booked 40 minutes ago for tomorrow

# The first cleanup (15 and 20 minutes) changes 3 rows of non-test users, Bob's abandoned session and
# Half's session and request, and 2 of the test user's; never Ann's booking, a live, reconnecting or
# accepted call, or a session that is over.
BOOKINGS_ROWS = f"""
insert into auth.users (id, email, raw_user_meta_data) values
    ('{ANN}', 'ann@example.com', '{{}}'), ('{BOB}', 'bob@example.com', '{{}}'),
    ('{EVE}', 'eve@example.com', '{{}}'), ('{HALF}', 'half@pitstop.test', '{{}}'),
    ('{TESTER}', 'customer-1@pitstop.test', '{{"pitstop": true}}');
insert into care.video_sessions (id, customer_id, expert_id, status, scheduled_for, created_at) values
    ('{visit("a0")}', '{ANN}', '{EVE}', 'completed', null, now() - interval '1 day'),
    ('{BOOKING}', '{ANN}', null, 'scheduled', now() + interval '1 day', now() - interval '40 minutes'),
    ('{visit("b1")}', '{BOB}', null, 'pending', null, now() - interval '3 hours'),
    ('{visit("b2")}', '{BOB}', '{EVE}', 'live', null, now() - interval '3 hours'),
    ('{visit("b3")}', '{BOB}', '{EVE}', 'reconnecting', null, now() - interval '1 hour'),
    ('{visit("b4")}', '{BOB}', '{EVE}', 'accepted', null, now() - interval '30 minutes'),
    ('{visit("f1")}', '{HALF}', null, 'searching', null, now() - interval '1 hour'),
    ('{visit("10")}', '{TESTER}', '{EVE}', 'completed', null, now() - interval '2 days'),
    ('{visit("11")}', '{TESTER}', null, 'searching', null, now() - interval '2 hours');
insert into care.expert_requests (customer_id, expert_id, parent_session_id, session_id, status, created_at)
values
    ('{ANN}', '{EVE}', '{visit("a0")}', '{BOOKING}', 'accepted', now() - interval '40 minutes'),
    ('{BOB}', '{EVE}', null, '{visit("b2")}', 'accepted', now() - interval '3 hours'),
    ('{BOB}', '{EVE}', null, '{visit("b3")}', 'accepted', now() - interval '1 hour'),
    ('{BOB}', '{EVE}', null, '{visit("b4")}', 'accepted', now() - interval '30 minutes'),
    ('{HALF}', null, null, '{visit("f1")}', 'pending', now() - interval '1 hour'),
    ('{TESTER}', null, '{visit("10")}', '{visit("11")}', 'pending', now() - interval '2 hours');
"""
# What the first cleanup changes: sessions, and requests by their session.
CHANGED_SESSIONS = {visit("b1"), visit("f1"), visit("11")}
CHANGED_REQUESTS = {visit("f1"), visit("11")}
SAYS = "would change 3 rows of non-test users (2 sessions, 1 request), and 2 rows of test users"


@pytest.fixture
def bookings(postgres: LocalPostgres) -> Iterator[str]:
    """A database of its own with the bookings' tables and rows, and no pitstop."""
    url = create_database(postgres.url(), "bookings")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BOOKINGS_ROWS.encode())
    yield url
    drop_database(postgres.url(), url)


def database_state(url: str) -> dict[str, Any]:
    """Everything inspect could have left: every row of every table, and every schema, relation,
    function and type with what defines it."""
    with psycopg.connect(url) as conn:
        rows = {
            table: sorted(
                json.dumps(r[0], sort_keys=True)
                for r in conn.execute(
                    sql_text("select to_jsonb(t) from {} t", table)  # every column of every row
                ).fetchall()
            )
            for table in primary_keys(conn)
        }
        catalog = {
            "schemas": conn.execute("select nspname from pg_namespace order by 1").fetchall(),
            "relations": conn.execute(
                "select c.oid::regclass::text, c.relkind from pg_class c order by 1, 2"
            ).fetchall(),
            "functions": conn.execute(
                "select p.oid::regprocedure::text, md5(p.prosrc), p.proacl::text from pg_proc p order by 1"
            ).fetchall(),
            "types": conn.execute("select oid::regtype::text from pg_type order by 1").fetchall(),
            "settings": conn.execute("select count(*) from pg_db_role_setting").fetchall(),
        }
    return {"rows": rows, "catalog": catalog}


def sql_text(template: str, table: str) -> psycopg.sql.Composed:
    return psycopg.sql.SQL(template).format(psycopg.sql.Identifier(*table.split(".", 1)))


def test_bookings_proposal_opens_only_waiting_words_links_the_own_session_and_counts_the_first_cleanup(
    capsys: pytest.CaptureFixture[str], bookings: str, blank_config: Path
) -> None:
    before = database_state(bookings)
    _, report = inspect(capsys, "--database-url", bookings, "--propose")
    proposal = report["proposal"]
    assert proposal["ok"] is True, proposal
    model = proposed(report)
    assert model == model_of("bookings")
    s, r = model.sessions, model.requests
    # Only the waiting words: a booking for later, a taken, a live and a reconnecting call are never open.
    assert s.open == ("pending", "searching")
    assert not {"scheduled", "accepted", "reconnecting", "live"} & set(s.open)
    assert set(s.active) == {"pending", "searching", "scheduled", "accepted", "reconnecting", "live"}
    # The request's own session, not the one a follow-up continues (whose constraint comes first).
    assert r.session == "session_id"
    assert (
        "requests.session: chose care.expert_requests.session_id over care.expert_requests.parent_session_id "
        "(another session's link, a follow-up's parent): set session = \"parent_session_id\" if that column "
        "holds the row's own session"
    ) in proposal["notes"]
    toml = proposal["toml"]
    assert "not parent_session_id (see the notes)" in toml
    assert (
        'open = ["pending", "searching"]  # waiting words from the labels of enum care.visit_status; '
        "searching is the column's default; never open: scheduled, accepted, live, reconnecting"
    ) in toml
    # The first cleanup, tried: 3 rows of non-test users, 2 of the test user.
    assert proposal["first_cleanup"] == {
        "waiting_minutes": 15, "orphan_minutes": 20, "test_domain": "pitstop.test", "sessions": 2,
        "requests": 1, "test_rows": 2, "unmeasured": None, "rows": 3,
    }  # fmt: skip
    header = " ".join(
        line.removeprefix("# ") for line in toml.split("[tool.pitstop.model.sessions]")[0].splitlines()
    )
    assert SAYS in header and "in a transaction that was rolled back" in header
    assert any(
        n.startswith("first cleanup: it would change 3 rows of non-test users") for n in proposal["notes"]
    )
    # Nothing of it stayed: no pitstop schema, every row and every definition as before.
    assert not has_pitstop(bookings)
    assert database_state(bookings) == before
    code, out, _ = run(capsys, "inspect", "--database-url", bookings)
    assert code == 0
    assert "# The first `pitstop cleanup` with this model (open sessions older than 15 min, orphans" in out
    assert SAYS in " ".join(line.removeprefix("# ") for line in out.splitlines() if line.startswith("# "))
    assert database_state(bookings) == before


def test_the_first_cleanup_changes_what_inspect_said_it_would(
    capsys: pytest.CaptureFixture[str], bookings: str, blank_config: Path
) -> None:
    """The proposal, installed as it is, and `pitstop cleanup`: the rows the count named, no other."""
    _, report = inspect(capsys, "--database-url", bookings)
    config = blank_config / "pitstop.toml"
    config.write_text(report["proposal"]["toml"], encoding="utf-8")
    code, _, err = run(capsys, "install", "--config", str(config), "--database-url", bookings)
    assert code == 0, err
    with psycopg.connect(bookings) as conn:
        before = dict(conn.execute("select id::text, status::text from care.video_sessions").fetchall())
        requests = dict(conn.execute("select session_id::text, status from care.expert_requests").fetchall())
    code, _, err = run(capsys, "cleanup", "--config", str(config), "--database-url", bookings)
    assert code == 0, err
    with psycopg.connect(bookings) as conn:
        after = dict(conn.execute("select id::text, status::text from care.video_sessions").fetchall())
        requests_after = dict(
            conn.execute("select session_id::text, status from care.expert_requests").fetchall()
        )
    assert {k for k in before if before[k] != after[k]} == CHANGED_SESSIONS
    assert {k for k in requests if requests[k] != requests_after[k]} == CHANGED_REQUESTS
    assert after[BOOKING] == "scheduled"  # Ann's booking for tomorrow, made 40 minutes ago
    assert {after[k] for k in CHANGED_SESSIONS} == {"cancelled"}


def test_a_destructive_model_is_counted_before_it_is_used(bookings: str) -> None:
    """The guess the issue found (scheduled in open) would cancel Ann's booking: the count says so."""
    with PostgresStore(database_url=bookings) as store:
        catalog = store.catalog()
        proposal = propose(catalog)
        model = proposal.model
        # Without the protection the proposal now adds (the booked time, assigned sessions kept).
        unprotected = dataclasses.replace(model.sessions, scheduled_for="", cancel_assigned=True)
        guessed = dataclasses.replace(
            model,
            sessions=dataclasses.replace(unprotected, open=(*model.sessions.open, "scheduled")),
        )
        tried = first_cleanup(
            store.connection, dataclasses.replace(proposal, model=guessed), catalog, "pitstop.test"
        )
        assert (tried.sessions, tried.requests, tried.test_rows, tried.rows) == (3, 1, 2, 4)
        assert "would change 4 rows of non-test users (3 sessions, 1 request)" in tried.summary()
    assert not has_pitstop(bookings)


@pytest.mark.parametrize(
    ("trigger", "said"),
    [
        ("raise exception 'only the app cancels a visit'", "only the app cancels a visit"),
        # The connection is lost midway: the server ends the transaction, uncommitted.
        ("perform pg_terminate_backend(pg_backend_pid())", "lost the database connection"),
    ],
    ids=["refused", "connection-lost"],
)
def test_a_first_cleanup_that_fails_midway_leaves_nothing_and_says_why(
    capsys: pytest.CaptureFixture[str], bookings: str, blank_config: Path, trigger: str, said: str
) -> None:
    with psycopg.connect(bookings, autocommit=True) as conn:
        conn.execute(
            "create function care.guard() returns trigger language plpgsql as $$ begin "
            + trigger
            + "; return new; end $$;"
            "create trigger guard before update on care.video_sessions"
            " for each row execute function care.guard()"
        )
    before = database_state(bookings)
    _, report = inspect(capsys, "--database-url", bookings)
    tried = report["proposal"]["first_cleanup"]
    assert tried["rows"] is None and tried["sessions"] is None
    assert tried["unmeasured"].startswith("trying it failed, and nothing of it stayed: ")
    assert said in tried["unmeasured"]
    assert report["proposal"]["toml"].startswith(
        "# The first `pitstop cleanup` with this model could not be counted, so its effect on the rows"
    )
    assert report["proposal"]["ok"] is True  # the proposal itself stands
    assert not has_pitstop(bookings)
    assert database_state(bookings) == before


def test_an_incomplete_proposal_is_not_tried(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str, blank_config: Path
) -> None:
    url = schema(postgres_db_url, SHOP)
    _, report = inspect(capsys, "--database-url", url)
    tried = report["proposal"]["first_cleanup"]
    assert tried["rows"] is None
    assert tried["unmeasured"].startswith(
        "the proposal is incomplete (NOT FOUND, or install would refuse it)"
    )
    assert not has_pitstop(url)


# -- the words and links of a proposal, one by one ------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "scheduled",
        "accepted",
        "reconnecting",
        "live",
        "booked",
        "on_hold",
        "in_progress",
        "scheduled_pending",
    ],
)
def test_a_word_of_a_booked_taken_held_or_live_session_is_never_open(word: str) -> None:
    """Not even as the column's default."""
    words = (word, "pending", "completed", "cancelled")
    status = Column("status", "text", words, has_default=True)
    proposal = propose(catalog_of(status), read_default=lambda table, column: word)
    s = proposal.model.sessions
    assert s.open == ("pending",) and word in s.active
    assert f"never open: {word}" in proposal.comments["sessions.open"]
    assert any(n.startswith(f"sessions.open: the column's default is {word!r}") for n in proposal.notes)


def test_the_columns_default_is_evidence_for_an_open_word() -> None:
    status = Column("status", "text", ("draft", "live", "completed", "cancelled"), has_default=True)
    proposal = propose(catalog_of(status), read_default=lambda table, column: "draft")
    assert proposal.ok
    assert proposal.model.sessions.open == ("draft",)
    assert proposal.comments["sessions.open"] == "draft is the column's default; never open: live"
    # Without the default, draft is no evidence: nothing is open, and the proposal says so.
    proposal = propose(catalog_of(dataclasses.replace(status, has_default=False)))
    assert "sessions.open" in proposal.missing and not proposal.ok
    assert proposal.comments["sessions.open"].startswith(
        "NOT FOUND: none of draft, live, completed, cancelled (its check constraint's words) is a known "
        "waiting word (pending, waiting, searching, …) or the column's default; never open: live"
    )


def test_no_waiting_word_is_not_found() -> None:
    words = ("scheduled", "accepted", "live", "reconnecting", "completed", "cancelled")
    proposal = propose(catalog_of(Column("status", "care.visit_status", words, enum=True)))
    assert "sessions.open" in proposal.missing and not proposal.ok
    assert proposal.comments["sessions.open"].startswith("NOT FOUND: ")
    assert "never open: scheduled, accepted, live, reconnecting" in proposal.comments["sessions.open"]


def linked_catalog(*columns: str, sessions: str = "public.sessions", keyed: bool = True) -> Catalog:
    """Sessions, and requests with ``columns`` (uuid), each a key to the sessions when ``keyed``,
    the keys in the order given."""
    base = catalog_of(Column("status", "text", ("pending", "live", "completed", "cancelled")))
    tables = {sessions if t == "public.sessions" else t: c for t, c in base.tables.items()}
    requests = {
        "id": Column("id", "uuid"),
        "customer_id": Column("customer_id", "uuid"),
        "status": Column("status", "text", ("pending", "accepted", "expired", "cancelled")),
        "created_at": Column("created_at", "timestamp with time zone"),
        **{c: Column(c, "uuid") for c in columns},
    }
    tables["public.expert_requests"] = requests
    fks = [dataclasses.replace(fk, table=sessions) for fk in base.foreign_keys]
    fks.append(
        ForeignKey("r", "public.expert_requests", ("customer_id",), "auth.users", ("id",), "no action")
    )
    if keyed:
        fks += [
            ForeignKey(f"a{i}", "public.expert_requests", (c,), sessions, ("id",), "no action")
            for i, c in enumerate(columns)
        ]
    return Catalog(tables, tuple(fks))


@pytest.mark.parametrize("keyed", [True, False], ids=["foreign-keys", "names-only"])
def test_the_link_is_the_own_session_by_name_before_a_follow_ups_parent(keyed: bool) -> None:
    proposal = propose(linked_catalog("parent_session_id", "session_id", keyed=keyed))
    assert proposal.model.requests.session == "session_id"
    assert any("over public.expert_requests.parent_session_id" in n for n in proposal.notes)


def test_the_link_named_after_the_sessions_table_is_exact_and_every_other_key_is_named() -> None:
    catalog = linked_catalog(
        "visit_ref", "rebooked_from_booking_id", "booking_id", sessions="public.bookings"
    )
    proposal = propose(catalog)
    assert proposal.model.requests.session == "booking_id"
    chose = [
        n for n in proposal.notes if n.startswith("requests.session: chose public.expert_requests.booking_id")
    ]
    assert len(chose) == 2  # one note per other key: visit_ref and rebooked_from_booking_id
    assert proposal.comments["requests.session"] == (
        "references public.bookings, named as its link; "
        "not visit_ref, rebooked_from_booking_id (see the notes)"
    )


def test_only_a_follow_ups_parent_is_no_link_it_is_not_found() -> None:
    proposal = propose(linked_catalog("parent_session_id"))
    assert "requests.session" in proposal.missing and not proposal.ok
    assert proposal.comments["requests.session"].startswith(
        "NOT FOUND: public.expert_requests.parent_session_id refers to public.sessions, but named as "
        "another session's link"
    )


# -- queues: an assignment table keyed by session ---------------------------------------------------

# The app whose requests became assignments: keyed by session (NOT NULL, cascading), no customer
# column, words of their own (an enum, queued by default), a follow-up's parent key whose constraint
# comes first, a mechanic. Participants and messages refer to the sessions with a status of their
# own, and are no queue. One waiting session of Ann's is an hour old with its offer: the first
# cleanup cancels it and expires the offer; Bob's live session and his fresh one are left; the test
# user's stale session and its queued row are changed too.
ASSIGNMENTS = f"""
create table public.sessions (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    mechanic_id uuid references auth.users,
    status text not null default 'waiting' check (status in ('waiting', 'live', 'completed', 'cancelled')),
    created_at timestamptz not null default now(),
    ended_at timestamptz
);
create type public.assignment_state as enum
    ('queued', 'offered', 'accepted', 'declined', 'expired', 'cancelled');
create table public.session_assignments (
    id uuid primary key default gen_random_uuid(),
    parent_session_id uuid references public.sessions on delete set null,
    session_id uuid not null references public.sessions on delete cascade,
    mechanic_id uuid references auth.users,
    status public.assignment_state not null default 'queued',
    created_at timestamptz not null default now(),
    updated_at timestamptz
);
create table public.session_participants (
    session_id uuid not null references public.sessions on delete cascade,
    user_id uuid not null references auth.users,
    status text not null default 'invited' check (status in ('invited', 'joined', 'left')),
    primary key (session_id, user_id)
);
create table public.chat_messages (
    id uuid primary key default gen_random_uuid(),
    session_id uuid not null references public.sessions on delete cascade,
    sender_id uuid not null references auth.users,
    status text not null default 'sent' check (status in ('sent', 'read')),
    created_at timestamptz not null default now()
);
insert into auth.users (id, email, raw_user_meta_data) values
    ('{ANN}', 'ann@example.com', '{{}}'), ('{BOB}', 'bob@example.com', '{{}}'),
    ('{EVE}', 'eve@example.com', '{{}}'), ('{TESTER}', 'customer-1@pitstop.test', '{{"pitstop": true}}');
insert into public.sessions (id, customer_id, mechanic_id, status, created_at) values
    ('{visit("a1")}', '{ANN}', null, 'waiting', now() - interval '1 hour'),
    ('{visit("b1")}', '{BOB}', '{EVE}', 'live', now() - interval '1 hour'),
    ('{visit("b2")}', '{BOB}', null, 'waiting', now() - interval '5 minutes'),
    ('{visit("11")}', '{TESTER}', null, 'waiting', now() - interval '2 hours');
insert into public.session_assignments (session_id, parent_session_id, mechanic_id, status, created_at) values
    ('{visit("a1")}', null, '{EVE}', 'offered', now() - interval '1 hour'),
    ('{visit("b1")}', '{visit("a1")}', '{EVE}', 'accepted', now() - interval '1 hour'),
    ('{visit("b2")}', null, null, 'queued', now() - interval '5 minutes'),
    ('{visit("11")}', null, null, 'queued', now() - interval '2 hours');
"""


def test_an_assignment_table_keyed_by_session_without_a_customer_is_proposed_as_a_queue(
    capsys: pytest.CaptureFixture[str], postgres_db_url: str, blank_config: Path
) -> None:
    url = schema(postgres_db_url, ASSIGNMENTS)
    before = database_state(url)
    _, report = inspect(capsys, "--database-url", url)
    proposal = report["proposal"]
    assert proposal["ok"] is True, proposal
    model = proposed(report)
    assert model.requests.table == ""
    assert [name for name, _ in model.queues] == ["session_assignments"]  # not participants, not messages
    [(_, q)] = model.queues
    assert (q.table, q.id, q.session, q.customer, q.mechanic, q.status, q.created_at, q.updated_at) == (
        "public.session_assignments", "id", "session_id", "", "mechanic_id", "status", "created_at",
        "updated_at",
    )  # fmt: skip
    # Open: the waiting words (queued is the default; offered is shown to a mechanic), never accepted.
    assert (q.open, q.taken, q.done, q.expired, q.cancelled) == (
        ("queued", "offered"), ("accepted",), ("declined",), "expired", "cancelled",
    )  # fmt: skip
    # Every row has its session (NOT NULL) and is made queued: it holds every open session.
    assert q.holds is True and q.link == "session"
    assert proposal["model"]["queues"]["session_assignments"]["open"] == ["queued", "offered"]
    toml = proposal["toml"]
    assert "[tool.pitstop.model.queues.session_assignments]" in toml
    for line in (
        'session = "session_id"  # references public.sessions, named as its link; '
        "not parent_session_id (see the notes)",
        'customer = ""  # none: its rows are linked by session',
        'mechanic = "mechanic_id"  # references auth.users, named like a mechanic',
        'open = ["queued", "offered"]  # waiting words from the labels of enum assignment_state; queued is '
        "the column's default; never open: accepted",
        'taken = ["accepted"]  # words of a row a mechanic has, from the labels of enum assignment_state',
        'expired = "expired"  # the expired-like word from the labels of enum assignment_state',
        "holds = true  # every row has its session (session_id: NOT NULL, a key to public.sessions) and is "
        "made queued (the column's default): it holds every open session",
    ):
        assert line in toml.splitlines(), line
    assert "queues.session_participants" not in toml and "queues.chat_messages" not in toml
    # The queue is a root of a purge, as the sessions are; participants and messages are their children.
    assert report["footprint_of"] == "proposal"
    assert [(f["table"], f["parent"], f["depth"]) for f in report["footprint"]] == [
        ("public.chat_messages", "public.sessions", 1),
        ("public.session_participants", "public.sessions", 1),
    ]
    notes = proposal["notes"]
    assert (
        "queues.session_assignments.session: chose public.session_assignments.session_id over "
        "public.session_assignments.parent_session_id (another session's link, a follow-up's parent): set "
        'session = "parent_session_id" if that column holds the row\'s own session'
    ) in notes
    assert any(
        n.startswith("queues.session_assignments.holds: true: an open session without a row") for n in notes
    )
    # The first cleanup, tried: Ann's session and its offer; the test user's session and its row.
    assert proposal["first_cleanup"] == {
        "waiting_minutes": 15, "orphan_minutes": 20, "test_domain": "pitstop.test", "sessions": 1,
        "requests": 0, "test_rows": 2, "unmeasured": None, "rows": 2, "queues": {"session_assignments": 1},
    }  # fmt: skip
    assert "(1 session, 0 requests, 1 row of queue session_assignments)" in " ".join(
        line.removeprefix("# ") for line in toml.split("[tool.pitstop.model.sessions]")[0].splitlines()
    )
    assert any(
        "check sessions.open (waiting) and queues.session_assignments.open (queued, offered)" in n
        for n in notes
    )
    assert not has_pitstop(url) and database_state(url) == before
    # What install reads: the TOML loads back as the proposal, and install takes it on this schema.
    assert load_model(tomllib.loads(toml)["tool"]["pitstop"]["model"]) == model
    installs(url, model)


def queue_catalog(
    status: Column,
    *,
    table: str = "public.session_assignments",
    session: Column | None = None,
    parent: bool = False,
    mechanic: bool = True,
    customer: bool = False,
) -> Catalog:
    """Sessions (catalog_of), and ``table`` keyed by session with ``status``: a follow-up's parent key
    first when ``parent``, a mechanic and a customer column when asked."""
    base = catalog_of(Column("status", "text", ("waiting", "live", "completed", "cancelled")))
    columns = {
        "id": Column("id", "uuid"),
        "session_id": session or Column("session_id", "uuid", not_null=True),
        status.name: status,
        "created_at": Column("created_at", "timestamp with time zone"),
    }
    keys = [("parent_session_id", "public.sessions")] if parent else []
    keys.append(("session_id", "public.sessions"))
    if mechanic:
        keys.append(("mechanic_id", "auth.users"))
    if customer:
        keys.append(("customer_id", "auth.users"))
    for column, _ in keys:
        columns.setdefault(column, Column(column, "uuid"))
    fks = [ForeignKey(f"k{i}", table, (c,), t, ("id",), "no action") for i, (c, t) in enumerate(keys)]
    return Catalog({**base.tables, table: columns}, (*base.foreign_keys, *fks))


QUEUE_WORDS = ("queued", "offered", "accepted", "declined", "expired", "cancelled")


def queued(word: str | None) -> Any:
    """A default reader: the queue's status defaults to ``word``."""
    return lambda table, column: word if table != "public.sessions" else None


def test_a_queue_is_linked_by_its_own_session_not_a_follow_ups_parent() -> None:
    status = Column("status", "text", QUEUE_WORDS, has_default=True)
    proposal = propose(queue_catalog(status, parent=True), read_default=queued("queued"))
    assert proposal.ok, proposal
    [(name, q)] = proposal.model.queues
    assert (name, q.session, q.mechanic, q.customer) == (
        "session_assignments",
        "session_id",
        "mechanic_id",
        "",
    )
    assert (q.open, q.taken, q.done, q.expired, q.cancelled, q.holds) == (
        ("queued", "offered"), ("accepted",), ("declined",), "expired", "cancelled", True,
    )  # fmt: skip
    assert proposal.comments["queues.session_assignments.session"] == (
        "references public.sessions, named as its link; not parent_session_id (see the notes)"
    )
    assert any("over public.session_assignments.parent_session_id" in n for n in proposal.notes)


def test_a_table_keyed_only_by_a_follow_ups_parent_is_no_queue() -> None:
    status = Column("status", "text", QUEUE_WORDS)
    catalog = queue_catalog(status, parent=True)
    catalog = Catalog(
        catalog.tables, tuple(fk for fk in catalog.foreign_keys if fk.columns != ("session_id",))
    )
    proposal = propose(catalog)
    assert proposal.model.queues == ()
    said = "public.session_assignments refers to public.sessions only by parent_session_id, named as another"
    assert any(n.startswith(said) for n in proposal.notes)


def test_a_queue_status_without_known_words_is_not_found_not_guessed() -> None:
    """No waiting word and no default: open is NOT FOUND and left empty, which install refuses."""
    proposal = propose(queue_catalog(Column("status", "text", ("alpha", "beta", "gamma"))))
    [(_, q)] = proposal.model.queues
    assert q.open == () and q.taken == () and q.done == ()
    part = "queues.session_assignments"
    assert {f"{part}.open", f"{part}.expired", f"{part}.cancelled"} <= set(proposal.missing)
    assert not proposal.ok
    assert proposal.comments[f"{part}.open"].startswith(
        "NOT FOUND: none of alpha, beta, gamma (its check constraint's words) is a known waiting word"
    )
    # expired and cancelled keep the defaults, marked, for the fit check to name.
    assert (q.expired, q.cancelled) == ("expired", "cancelled")
    assert proposal.comments[f"{part}.expired"].startswith("NOT FOUND: none of alpha, beta, gamma")
    assert (
        proposal.misfits[0].key == "model" and f"{part}.open may not be empty" in proposal.misfits[0].message
    )
    unmapped = "not mapped: alpha, beta, gamma (add each to the list it belongs to: open, taken or done)"
    assert f"{part}.status: {unmapped}" in proposal.notes
    assert not proposal.model.queues[0][1].holds  # no open default: no evidence


def test_free_text_queue_words_are_not_found_and_open_is_no_more_than_the_default() -> None:
    status = Column("status", "text", has_default=True)
    proposal = propose(queue_catalog(status), lambda table, column: [], queued("queued"))
    [(_, q)] = proposal.model.queues
    part = "queues.session_assignments"
    assert q.open == ("queued",)
    assert set(proposal.missing) >= {f"{part}.{k}" for k in ("open", "taken", "done", "expired", "cancelled")}
    assert proposal.comments[f"{part}.open"] == (
        "NOT FOUND: free text, no rows: no words to read; queued (the column's default) is proposed, and no "
        "other word; name the words of a row waiting for a mechanic"
    )
    assert not proposal.ok


def test_a_queue_without_an_expired_word_says_not_found() -> None:
    status = Column("status", "text", ("queued", "accepted", "cancelled"), has_default=True)
    proposal = propose(queue_catalog(status), read_default=queued("queued"))
    [(_, q)] = proposal.model.queues
    assert (q.open, q.taken, q.cancelled, q.expired) == (("queued",), ("accepted",), "cancelled", "expired")
    assert proposal.missing == ("queues.session_assignments.expired",)
    assert proposal.comments["queues.session_assignments.expired"].startswith(
        "NOT FOUND: none of queued, accepted, cancelled (its check constraint's words) reads as the word of "
        "a row that went stale"
    )
    # Left at the default, which the column does not allow: install's fit check names it too.
    [misfit] = proposal.misfits
    assert misfit.key == "queues.session_assignments.status" and "'expired'" in misfit.message


@pytest.mark.parametrize(
    ("not_null", "default", "holds", "why"),
    [
        (True, "queued", True, ""),
        (False, "queued", False, "session_id may be null"),
        (True, None, False, "no open word is the status column's default"),
        (True, "accepted", False, "no open word is the status column's default"),
    ],
    ids=["not-null-and-made-open", "nullable", "no-default", "made-taken"],
)
def test_a_queue_holds_every_open_session_only_on_evidence(
    not_null: bool, default: str | None, holds: bool, why: str
) -> None:
    status = Column("status", "text", QUEUE_WORDS, has_default=default is not None)
    session = Column("session_id", "uuid", not_null=not_null)
    proposal = propose(queue_catalog(status, session=session), read_default=queued(default))
    [(_, q)] = proposal.model.queues
    assert q.holds is holds
    comment = proposal.comments["queues.session_assignments.holds"]
    if not holds:
        assert comment == (
            f"no evidence that every open session has a row here ({why}): health reports no orphans for it"
        )
    assert "accepted" not in q.open  # a default that reads as taken is no evidence for open


def test_a_queue_beside_kept_requests_does_not_hold_the_sessions() -> None:
    """Where requests are kept, they hold the open sessions: an offer made later holds none (no orphans
    for it). Its status is found by its words, whatever the column's name."""
    words = ("posted", "seen", "claimed", "finished", "passed", "lapsed", "pulled")
    catalog = queue_catalog(Column("word", "text", words, has_default=True), table="public.offers")
    requests = {
        "id": Column("id", "uuid"),
        "customer_id": Column("customer_id", "uuid"),
        "status": Column("status", "text", ("pending", "accepted", "expired", "cancelled")),
        "created_at": Column("created_at", "timestamp with time zone"),
    }
    key = ForeignKey("r", "public.requests", ("customer_id",), "auth.users", ("id",), "no action")
    catalog = Catalog({**catalog.tables, "public.requests": requests}, (*catalog.foreign_keys, key))
    proposal = propose(catalog, read_default=lambda table, column: "posted" if column == "word" else None)
    assert proposal.ok, proposal
    assert proposal.model.requests.table == "public.requests"
    [(name, q)] = proposal.model.queues
    assert (name, q.status, q.open, q.taken, q.done, q.expired, q.cancelled) == (
        "offers", "word", ("posted",), ("claimed",), ("finished", "passed"), "lapsed", "pulled",
    )  # fmt: skip
    assert q.holds is False
    assert proposal.comments["queues.offers.holds"] == (
        "no evidence that every open session has a row here (the requests (public.requests) hold the open "
        "sessions): health reports no orphans for it"
    )
    assert (
        "queues.offers.status: not mapped: seen (add each to the list it belongs to: open, taken or done)"
        in (proposal.notes)
    )


def test_a_sessions_id_named_after_the_last_word_of_its_table_is_its_id() -> None:
    base = catalog_of(Column("status", "text", ("waiting", "live", "completed", "cancelled")))
    sessions = dict(base.tables["public.sessions"])
    del sessions["id"]
    sessions["session_id"] = Column("session_id", "uuid", unique=True)
    keys = tuple(dataclasses.replace(fk, table="public.help_sessions") for fk in base.foreign_keys)
    tables = {"auth.users": base.tables["auth.users"], "public.help_sessions": sessions}
    proposal = propose(Catalog(tables, keys))
    assert proposal.model.sessions.id == "session_id" and proposal.ok


def test_a_requests_table_without_a_customer_is_a_queue_and_one_with_a_customer_stays_requests() -> None:
    status = Column("status", "text", ("pending", "accepted", "expired", "cancelled"))
    proposal = propose(queue_catalog(status, table="public.session_requests"))
    assert proposal.model.requests.table == ""
    assert [(n, q.table, q.open) for n, q in proposal.model.queues] == [
        ("session_requests", "public.session_requests", ("pending",))
    ]
    assert any(
        n.startswith("requests.table: public.session_requests has no customer column") for n in proposal.notes
    )
    proposal = propose(queue_catalog(status, table="public.session_requests", customer=True))
    assert proposal.model.requests.table == "public.session_requests"
    assert proposal.model.requests.session == "session_id" and proposal.model.queues == ()


def test_a_table_with_a_status_that_is_neither_named_like_a_queue_nor_has_a_mechanic_is_named_not_taken() -> (
    None
):
    catalog = queue_catalog(
        Column("status", "text", ("scheduled", "sent")), table="public.reminders", mechanic=False
    )
    proposal = propose(catalog)
    assert proposal.model.queues == ()
    said = "public.reminders refers to public.sessions and has a status column, but is neither named"
    assert any(n.startswith(said) for n in proposal.notes)
    # With a mechanic column it is one (an offer to a mechanic, whatever its name).
    proposal = propose(queue_catalog(Column("status", "text", QUEUE_WORDS), table="public.reminders"))
    assert [n for n, _ in proposal.model.queues] == ["reminders"]


# -- misfits that name the key to change ---------------------------------------------------------


def test_a_mechanics_id_that_is_not_what_the_mechanic_columns_refer_to_is_the_ids_misfit() -> None:
    """``mechanics.id = "user_id"``: the fix is the id (and user), not the sessions' columns."""
    columns = {n: Column(n, "uuid") for n in ("id", "user_id")} | {"email": Column("email", "text")}
    catalog = catalog_of(Column("status", "text", ("pending", "live", "completed", "cancelled")),
                         ("mechanic_id", Column("mechanic_id", "uuid")))  # fmt: skip
    catalog = Catalog(
        {**catalog.tables, "public.mechanics": columns},
        (
            *catalog.foreign_keys,
            ForeignKey("m", "public.sessions", ("mechanic_id",), "public.mechanics", ("id",), "no action"),
            ForeignKey("u", "public.mechanics", ("user_id",), "auth.users", ("id",), "no action"),
        ),
    )
    sessions = {"mechanic": "mechanic_id", "ended_at": "", "open": ["pending"], "active": ["pending", "live"]}
    model = load_model(
        {
            "sessions": sessions,
            "requests": {"table": ""},
            "mechanics": {"table": "public.mechanics", "id": "user_id"},
        }
    )
    assert misfits(model, catalog) == [
        Misfit(
            "mechanics.id",
            "public.sessions.mechanic_id references public.mechanics(id), not public.mechanics(user_id): "
            "mechanics.id is the column the mechanic columns refer to; public.mechanics.user_id references "
            "auth.users, as mechanics.user does",
            'id = "id" and user = "user_id"',
        )
    ]
    fixed = load_model(
        {
            "sessions": sessions,
            "requests": {"table": ""},
            "mechanics": {"table": "public.mechanics", "user": "user_id"},
        }
    )
    assert misfits(fixed, catalog) == []


def test_install_names_the_mechanics_id_on_the_workshop(
    capsys: pytest.CaptureFixture[str], postgres: LocalPostgres, tmp_path: Path
) -> None:
    url = create_database(postgres.url(), "workshop")
    try:
        config = tmp_path / "pitstop.toml"
        text = (SCHEMAS / "workshop.toml").read_text(encoding="utf-8")
        config.write_text(text.replace('id = "tech_id"', 'id = "account"'), encoding="utf-8")
        code, out, err = run(capsys, "install", "--config", str(config), "--database-url", url)
        assert code == 2 and out == ""
        assert (
            "mechanics.id: shop.jobs.tech and shop.tickets.claimed_by reference shop.technicians(tech_id), "
            "not shop.technicians(account)"
        ) in err
        assert 'id = "tech_id"' in err
        assert "name the column of shop.jobs" not in err  # no advice about the sessions' columns
        assert not has_pitstop(url)
    finally:
        drop_database(postgres.url(), url)
