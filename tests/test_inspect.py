"""``pitstop inspect``: the footprint, the model's fit and a proposed model, on the reference schema and
on schemas of our own (renamed tables and columns, an enum, a check constraint, free text, a mechanics
table, requests linked by customer), each in a blank database of its own."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.rules import sql
from harness.rules.model import Model, load_model
from harness.rules.model.catalog import Catalog, Column, ForeignKey
from harness.rules.model.propose import propose
from harness.stack.postgres import free_port
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli as run

pytestmark = pytest.mark.usefixtures("no_target_environment")

# Renamed everything: an enum for sessions, a check constraint for requests (called tickets), a
# mechanics table of its own, the link kept on the session, a footprint two deep.
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
    assert proposed(report) == Model()
    assert proposal["model"] == json.loads(json.dumps(Model().to_json()))


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
    assert proposed(report) == Model()


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
    assert (s.open, s.active, s.live, s.done, s.cancelled) == (
        ("requested", "scheduled"), ("requested", "scheduled", "in_progress"), ("in_progress",),
        ("finished",), "canceled",
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
    assert 'open = ["waiting"]  # waiting-like words from the values present (free text)' in toml
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


def test_free_text_without_rows_proposes_the_reference_words_and_says_so() -> None:
    proposal = propose(catalog_of(Column("status", "text")), lambda table, column: [])
    assert proposal.ok
    assert proposal.model.sessions.statuses == Model().sessions.statuses
    assert proposal.model.requests.table == ""
    assert any("free text, no rows" in n for n in proposal.notes)
    assert proposal.comments["sessions.open"] == "free text, no rows: the reference app's words, check them"


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
