"""Queues (``[tool.pitstop.model.queues.<name>]``) on two schemas of our own, with real PostgreSQL.

- tests/schemas/concierge.sql: the app of the issue. No requests table; the mechanics' queue is
  ``concierge.assignments``, keyed by session (no customer column). Bookings for later
  (scheduled_for, and the word 'scheduled', active but never open), assigned sessions never
  touched by the stale cleanup (cancel_assigned = false), one active session per customer (a
  partial unique index), a trigger that fills the cancellation columns, required columns without
  defaults on both tables.
- tests/schemas/relay.sql: two queues. The legacy requests (tickets, linked by customer, holding
  every open job) and ``offers``, keyed by job (no customer column, holding none); mechanics are
  rows of relay.crew linked to sign-in users; children of the jobs and of the offers.

The rules at their boundaries (expiry, orphans, cancellation from every path, protection, health,
purge), then properties with oracles written from the rules' text (harness/rules/sql/pitstop.sql.j2):
a cleanup changes exactly the rows its rules name across the sessions and every queue; a purge
changes exactly its user's footprint, never a non-test user's row. Then every named state seeded on
both schemas, the one-active-session index after cleanups and purges, and the plugin's per-test
resets on the concierge.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from psycopg import sql

from harness.config.settings import RunConfig, Settings
from harness.engine.data import load
from harness.engine.handle import Pitstop
from harness.engine.personas import TestUser
from harness.engine.run import Run
from harness.engine.run import Target as RunTarget
from harness.errors import BadInput, Refused
from harness.rules.model import Model
from harness.rules.model.declaration import Queue
from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.model_worlds import (
    AGES,
    DOMAIN,
    SCHEMAS,
    THRESHOLDS,
    Target,
    World,
    create_database,
    drop_database,
    ident,
    keyof,
    model_of,
    opened,
    primary_keys,
    truncate,
)

NAMES = ("concierge", "relay")
STATES: dict[str, Any] = load("states")
EXAMPLES = Path(__file__).parent / "examples"

# What each table needs beyond the model's columns (NOT NULL, no default), as the app writes it.
REQUIRED: dict[str, Callable[[], dict[str, Any]]] = {
    "concierge.help_sessions": lambda: {"payment_ref": f"pi_{uuid4().hex}", "session_type": "video"},
    "concierge.assignments": lambda: {"channel": "sms"},
    "relay.offers": lambda: {"region": "north"},
}
# The children of each schema: (table, the column referring to the owner, the owner: the sessions
# or a queue by name, what a purge of the owner does: "delete" or "null").
CHILD_TABLES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "concierge": (
        ("concierge.session_notes", "session_id", "sessions", "delete"),
        ("concierge.receipts", "session_id", "sessions", "null"),
        ("concierge.assignment_replies", "assignment_id", "assignments", "delete"),
    ),
    "relay": (
        ("relay.job_log", "job", "sessions", "delete"),
        ("relay.offer_views", "offer", "offers", "delete"),
        ("relay.payouts", "offer", "offers", "null"),
    ),
}


def queues(model: Model) -> dict[str, Queue]:
    return dict(model.all_queues)


# -- rows, written through the model's names ---------------------------------------------------------


@dataclass
class Child:
    table: str
    key: str  # the snapshot's key of the row
    owner: UUID  # a session's or a queue row's id
    column: str
    effect: str  # "delete" or "null"


@dataclass
class Rows:
    """Sessions, queue rows and children of one schema, written as its app would (``REQUIRED``),
    at ages relative to the database clock; remembers the children it wrote."""

    target: Target
    children: list[Child] = field(default_factory=list)

    @property
    def conn(self) -> psycopg.Connection[Any]:
        return self.target.world.conn

    @property
    def model(self) -> Model:
        return self.target.model

    def insert(self, table: str, values: dict[str, Any], ages: dict[str, float], key: str) -> UUID:
        """One row; ``ages``: time columns, in minutes before now."""
        values = {**REQUIRED.get(table, dict)(), **values}
        names = [*values, *ages]
        query = sql.SQL("insert into {} ({}) values ({}) returning {}").format(
            ident(table),
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(
                [sql.Placeholder()] * len(values) + [sql.SQL("now() - make_interval(secs => %s)")] * len(ages)
            ),
            sql.Identifier(key),
        )
        row = self.conn.execute(query, [*values.values(), *(a * 60 for a in ages.values())]).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    def session(
        self,
        customer: UUID,
        *,
        status: str | None = None,
        age: float = 0,
        mechanic: UUID | None = None,
        scheduled: float | None = None,
    ) -> UUID:
        """A session (``status``: the last open word, as a waiting one), scheduled ``scheduled``
        minutes from now (negative: in the past) where the model keeps a booked time."""
        s = self.model.sessions
        values: dict[str, Any] = {s.customer: customer, s.status: status or s.open[-1]}
        if mechanic is not None:
            values[s.mechanic] = mechanic
        session = self.insert(s.table, values, {s.created_at: age}, s.id)
        if scheduled is not None:
            self.conn.execute(
                sql.SQL("update {} set {} = now() + make_interval(secs => %s) where {} = %s").format(
                    ident(s.table), sql.Identifier(s.scheduled_for), sql.Identifier(s.id)
                ),
                (scheduled * 60, session),
            )
        return session

    def row(
        self,
        name: str,
        *,
        status: str | None = None,
        age: float = 0,
        session: UUID | None = None,
        customer: UUID | None = None,
        mechanic: UUID | None = None,
    ) -> UUID:
        """A row of queue ``name`` (``status``: its first open word), linked as the queue links."""
        q = queues(self.model)[name]
        values: dict[str, Any] = {q.status: status or q.open[0]}
        if q.session:
            assert session is not None
            values[q.session] = session
        if q.customer:
            assert customer is not None
            values[q.customer] = customer
        if mechanic is not None:
            values[q.mechanic] = mechanic
        times = {q.created_at: age} | ({q.updated_at: age} if q.updated_at else {})
        return self.insert(q.table, values, times, q.id)

    def child(self, table: str, column: str, owner: UUID, effect: str) -> None:
        query = sql.SQL("insert into {} ({}) values (%s) returning to_jsonb({}.*)").format(
            ident(table), sql.Identifier(column), sql.Identifier(table.split(".")[1])
        )
        found = self.conn.execute(query, (owner,)).fetchone()
        assert found is not None
        key = json.dumps([found[0][k] for k in primary_keys(self.conn)[table]])
        self.children.append(Child(table, key, owner, column, effect))

    def children_of(self, owner: str, owner_id: UUID) -> None:
        """One row in every child table of ``owner`` (the sessions, or a queue by name)."""
        for table, column, of, effect in CHILD_TABLES[self.target.name]:
            if of == owner:
                self.child(table, column, owner_id, effect)

    # -- reading ---------------------------------------------------------------------------------

    def status(self, table: str, key: str, value: UUID, column: str) -> str:
        found = self.conn.execute(
            sql.SQL("select {}::text from {} where {} = %s").format(
                sql.Identifier(column), ident(table), sql.Identifier(key)
            ),
            (value,),
        ).fetchone()
        assert found is not None, f"no row {value} in {table}"
        return str(found[0])

    def session_status(self, session: UUID) -> str:
        s = self.model.sessions
        return self.status(s.table, s.id, session, s.status)

    def row_status(self, name: str, row: UUID) -> str:
        q = queues(self.model)[name]
        return self.status(q.table, q.id, row, q.status)

    def count(self, table: str) -> int:
        found = self.conn.execute(sql.SQL("select count(*) from {}").format(ident(table))).fetchone()
        assert found is not None
        return int(found[0])

    def read(self) -> tuple[dict[UUID, dict[str, Any]], dict[str, dict[UUID, dict[str, Any]]]]:
        """Sessions, and each queue's rows, by id, as the rules see them: who, linked to what,
        status, age in minutes (and a session's minutes until its booked time, ``until``)."""
        s = self.model.sessions
        until = (
            sql.SQL("extract(epoch from {} - now()) / 60").format(sql.Identifier(s.scheduled_for))
            if s.scheduled_for
            else sql.NULL
        )
        sessions = {
            UUID(str(sid)): {
                "customer": customer,
                "mechanic": mechanic,
                "status": status,
                "age": age,
                "until": until_,
            }
            for sid, customer, mechanic, status, age, until_ in self.conn.execute(
                sql.SQL(
                    "select {}, {}, {}, {}::text, extract(epoch from now() - {}) / 60, {} from {}"
                ).format(
                    sql.Identifier(s.id),
                    sql.Identifier(s.customer),
                    sql.Identifier(s.mechanic) if s.mechanic else sql.NULL,
                    sql.Identifier(s.status),
                    sql.Identifier(s.created_at),
                    until,
                    ident(s.table),
                )
            ).fetchall()
        }
        rows: dict[str, dict[UUID, dict[str, Any]]] = {}
        for name, q in self.model.all_queues:
            query = sql.SQL(
                "select {}, {}, {}, {}, {}::text, extract(epoch from now() - {}) / 60 from {}"
            ).format(
                *(sql.Identifier(c) if c else sql.NULL for c in (q.id, q.session, q.customer, q.mechanic)),
                sql.Identifier(q.status),
                sql.Identifier(q.created_at),
                ident(q.table),
            )
            rows[name] = {
                UUID(str(rid)): {
                    "session": sid,
                    "customer": customer,
                    "mechanic": mechanic,
                    "status": status,
                    "age": age,
                }
                for rid, sid, customer, mechanic, status, age in self.conn.execute(query).fetchall()
            }
        return sessions, rows


@pytest.fixture(scope="module", params=NAMES)
def target(request: pytest.FixtureRequest, postgres: LocalPostgres) -> Iterator[Target]:
    """Each schema's database with the rules installed for its model (made once per worker)."""
    with opened(postgres.url(), request.param) as found:
        yield found


@pytest.fixture
def rows(target: Target) -> Rows:
    truncate(target.world.conn)
    return Rows(target)


@pytest.fixture
def concierge(postgres: LocalPostgres) -> Iterator[Rows]:
    with opened(postgres.url(), "concierge") as found:
        yield Rows(found)


@pytest.fixture
def relay(postgres: LocalPostgres) -> Iterator[Rows]:
    with opened(postgres.url(), "relay") as found:
        yield Rows(found)


def mechanic_of(rows: Rows, *, test: bool = True) -> UUID:
    """A mechanic: a sign-in user (concierge), a registered crew row (relay)."""
    return rows.target.world.mechanic(test=test)


def queue_of(rows: Rows) -> str:
    """The schema's queue keyed by session."""
    return next(name for name, q in rows.model.all_queues if q.link == "session")


# -- expiry, at the threshold -------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "expires"), [(15.1, True), (14.9, False)])
def test_an_open_row_expires_just_over_the_waiting_threshold_and_its_session_with_it(
    rows: Rows, age: float, expires: bool
) -> None:
    model, w = rows.model, rows.target.world
    s = model.sessions
    name = queue_of(rows)
    q = queues(model)[name]
    customer = w.user()
    session = rows.session(customer)  # fresh: only its row is as old
    row = rows.row(name, status=q.open[-1], age=age, session=session)
    if "requests" in queues(model):  # relay: a fresh ticket holds the job (no orphan)
        rows.row("requests", age=1, customer=customer)

    answer = rows.target.store.cleanup_stale(waiting_minutes=15, orphan_minutes=20)

    assert answer["queues"][name] == {"expired": int(expires), "cancelled": 0}
    assert answer["sessions_cancelled"] == int(expires)
    assert answer["orphans_cancelled"] == 0
    assert rows.row_status(name, row) == (q.expired if expires else q.open[-1])
    assert rows.session_status(session) == (s.cancelled if expires else s.open[-1])


@pytest.mark.parametrize(("age", "expires"), [(15.1, True), (14.9, False)])
def test_a_ticket_by_customer_expires_at_the_threshold_and_leaves_the_jobs_to_their_own_age(
    relay: Rows, age: float, expires: bool
) -> None:
    w = relay.target.world
    customer = w.user()
    job = relay.session(customer, age=1)
    ticket = relay.row("requests", age=age, customer=customer)
    fresh = relay.row("requests", age=1, customer=customer)  # holds the job: no orphan

    answer = relay.target.store.cleanup_stale(waiting_minutes=15, orphan_minutes=20)

    assert answer == {
        "requests_expired": int(expires),
        "requests_cancelled": 0,
        "sessions_cancelled": 0,
        "orphans_cancelled": 0,
        "queues": {"offers": {"expired": 0, "cancelled": 0}},
    }
    assert relay.row_status("requests", ticket) == ("timed_out" if expires else "new")
    assert relay.row_status("requests", fresh) == "new"
    assert relay.session_status(job) == "posted"


@pytest.mark.parametrize(("age", "cancelled"), [(20.1, True), (19.9, False)])
def test_an_orphan_is_cancelled_just_over_the_orphan_threshold(
    rows: Rows, age: float, cancelled: bool
) -> None:
    s = rows.model.sessions
    w = rows.target.world
    customer = w.user()
    orphan = rows.session(customer, age=age)  # in no holding queue
    answer = rows.target.store.cleanup_stale(waiting_minutes=30, orphan_minutes=20)
    assert (answer["sessions_cancelled"], answer["orphans_cancelled"]) == (int(cancelled), int(cancelled))
    assert rows.session_status(orphan) == (s.cancelled if cancelled else s.open[-1])


def test_a_session_a_holding_queue_holds_is_no_orphan_whatever_its_rows_word(concierge: Rows) -> None:
    w = concierge.target.world
    held = {}
    for word in ("queued", "accepted", "completed", "declined", "expired", "cancelled"):
        session = concierge.session(w.user(), age=25)
        concierge.row("assignments", status=word, age=1, session=session)
        held[word] = session
    orphan = concierge.session(w.user(), age=25)
    assert concierge.target.store.health()["orphans"] == 1
    answer = concierge.target.store.cleanup_stale(waiting_minutes=30, orphan_minutes=20)
    assert (answer["sessions_cancelled"], answer["orphans_cancelled"]) == (1, 1)
    assert concierge.session_status(orphan) == "cancelled"
    assert {concierge.session_status(s) for s in held.values()} == {"matching"}


def test_offers_hold_no_job_the_tickets_do(relay: Rows) -> None:
    w, store = relay.target.world, relay.target.store
    offered = w.user()
    job = relay.session(offered, age=25)
    relay.row("offers", status="seen", age=1, session=job)  # offers hold nothing: still an orphan
    ticketed = w.user()
    held = relay.session(ticketed, age=25)
    relay.row("requests", age=1, customer=ticketed)
    health = store.health()
    assert health["orphans"] == 1
    [problem] = [p for p in health["problems"] if p["code"] == "orphaned_sessions"]
    assert problem["message"] == "1 draft/posted sessions have no request, so no mechanic can accept them"

    answer = store.cleanup_stale(waiting_minutes=30, orphan_minutes=20)
    assert answer == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 1,
        "queues": {"offers": {"expired": 0, "cancelled": 1}},  # the orphan's seen offer
    }
    assert (relay.session_status(job), relay.session_status(held)) == ("void", "posted")


# -- a cancelled session leaves no open or taken row, from every path ---------------------------------


def _every_word(rows: Rows, name: str, session: UUID, mechanic: UUID) -> dict[str, UUID]:
    """One row of the session in every word of queue ``name`` (fresh: none expires)."""
    q = queues(rows.model)[name]
    return {
        word: rows.row(
            name, status=word, age=1, session=session, mechanic=mechanic if word not in q.open else None
        )
        for word in q.statuses
    }


@pytest.mark.parametrize("path", ["cleanup", "force_cancel", "customer_session_status"])
def test_a_cancelled_session_leaves_no_open_or_taken_row_and_done_rows_stay(rows: Rows, path: str) -> None:
    model, w, store = rows.model, rows.target.world, rows.target.store
    s = model.sessions
    name = queue_of(rows)
    q = queues(model)[name]
    customer, mechanic = w.user(), mechanic_of(rows)
    session = rows.session(customer, age=40)  # no mechanic: the concierge protects an assigned one
    words = _every_word(rows, name, session, mechanic)
    other = rows.session(w.user(), age=1)  # another customer's: untouched
    others = _every_word(rows, name, other, mechanic)
    tickets = {}
    if "requests" in queues(model):  # relay: the customer's tickets, by customer
        tickets = {
            word: rows.row("requests", status=word, age=1, customer=customer)
            for word in queues(model)["requests"].statuses
        }

    if path == "cleanup":
        answer = store.cleanup_stale(waiting_minutes=30, orphan_minutes=60)
        assert answer["sessions_cancelled"] == 1
        assert answer["queues"][name] == {"expired": 0, "cancelled": len(q.open) + len(q.taken)}
        assert answer["requests_cancelled"] == 0
    elif path == "force_cancel":
        answer = store.force_cancel(session)
        assert answer["previous_status"] == s.open[-1]
        assert answer["queues"] == {name: len(q.open) + len(q.taken)}
        assert answer["requests_cancelled"] == (1 if tickets else 0)
    else:
        answer = store.customer_session_status(customer, minutes=30)
        assert (answer["cancelled"], answer["blocked"]) == (1, False)

    assert rows.session_status(session) == s.cancelled
    after = {word: rows.row_status(name, row) for word, row in words.items()}
    assert after == {w_: q.cancelled if w_ in (*q.open, *q.taken) else w_ for w_ in words}
    assert {word: rows.row_status(name, row) for word, row in others.items()} == {w_: w_ for w_ in others}
    assert rows.session_status(other) == s.open[-1]
    if tickets:
        # The cleanup leaves rows linked by customer alone; a cancel that names the session (force,
        # the payment's cleanup point) cancels the customer's new tickets with it.
        pending = "new" if path == "cleanup" else "withdrawn"
        assert {word: rows.row_status("requests", t) for word, t in tickets.items()} == {
            "new": pending,
            "taken": "taken",
            "timed_out": "timed_out",
            "withdrawn": "withdrawn",
        }


def test_a_cancelled_concierge_session_gets_its_cancellation_columns_from_the_apps_trigger(
    concierge: Rows,
) -> None:
    w = concierge.target.world
    session = concierge.session(w.user(), age=40)
    concierge.target.store.cleanup_stale()
    row = w.session_row(session)
    assert row is not None
    assert row["state"] == "cancelled" and row["cancel_reason"] == "system"
    assert row["cancelled_at"] == row["closed_at"] == row["touched_at"]


# -- protected: a booking for later, an assigned session ----------------------------------------------


def test_a_booking_and_an_assigned_session_are_protected_with_their_rows(concierge: Rows) -> None:
    w, store = concierge.target.world, concierge.target.store
    booked_customer, assigned_customer, lapsed_customer = w.user(), w.user(), w.user()
    mechanic = w.user()
    booked = concierge.session(booked_customer, age=50, scheduled=60)
    booked_row = concierge.row("assignments", age=30, session=booked)
    assigned = concierge.session(assigned_customer, age=50, mechanic=mechanic)
    assigned_row = concierge.row("assignments", status="offered", age=30, session=assigned, mechanic=mechanic)
    lapsed = concierge.session(lapsed_customer, age=50, scheduled=-60)  # its time passed an hour ago
    lapsed_row = concierge.row("assignments", age=30, session=lapsed)
    later = concierge.session(w.user(), status="scheduled", age=600)  # scheduled: never open
    # A booking for tomorrow in the app's own 'scheduled' word, made 40 minutes ago: its row stays too.
    tomorrow = concierge.session(w.user(), status="scheduled", age=40, scheduled=24 * 60)
    tomorrow_row = concierge.row("assignments", age=40, session=tomorrow)

    health = store.health()
    assert health["protected"] == {"scheduled": 1, "assigned": 1}
    assert health["queues"]["assignments"]["queued"] == {"total": 3, "stale": 1}
    assert health["queues"]["assignments"]["offered"] == {"total": 1, "stale": 0}
    assert health["sessions"]["matching"] == {"total": 3, "stale": 1, "veryStale": 0}
    assert health["orphans"] == 0

    for customer in (booked_customer, assigned_customer):
        assert store.customer_session_status(customer, minutes=15)["cancelled"] == 0
    answer = store.cleanup_stale(waiting_minutes=15, orphan_minutes=20)
    assert answer == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
        "queues": {"assignments": {"expired": 1, "cancelled": 0}},
        "protected": {"scheduled": 1, "assigned": 1, "requests": 3},
    }
    assert [concierge.session_status(x) for x in (booked, assigned, lapsed, later, tomorrow)] == [
        "matching",
        "matching",
        "cancelled",
        "scheduled",
        "scheduled",
    ]
    kept = (booked_row, assigned_row, lapsed_row, tomorrow_row)
    assert [concierge.row_status("assignments", r) for r in kept] == [
        "queued",
        "offered",
        "expired",
        "queued",
    ]
    # Still blocking a payment (the booking and the assignment are active), and force_cancel ends them.
    assert store.customer_session_status(booked_customer)["blocked"] is True
    assert store.force_cancel(assigned)["queues"] == {"assignments": 1}
    assert concierge.row_status("assignments", assigned_row) == "cancelled"


# -- health --------------------------------------------------------------------------------------------


def test_health_counts_each_queue_by_its_words_and_names_the_queue_of_stale_rows(rows: Rows) -> None:
    model, w, store = rows.model, rows.target.world, rows.target.store
    name = queue_of(rows)
    q = queues(model)[name]
    customer, mechanic = w.user(), mechanic_of(rows)
    session = rows.session(customer, age=1)
    expected: dict[str, dict[str, int]] = {}
    for n, word in enumerate(q.statuses):  # 1, 2, 3 … rows; of an open word, the first is stale
        for k in range(n + 1):
            rows.row(
                name,
                status=word,
                age=20 if k == 0 else 1,
                session=session,
                mechanic=None if word in q.open else mechanic,
            )
        expected[word] = {"total": n + 1, **({"stale": 1} if word in q.open else {})}
    if "requests" in queues(model):
        rows.row("requests", age=1, customer=customer)  # holds the job

    health = store.health(stale_minutes=15)

    assert health["queues"] == {name: expected}
    stale = [p for p in health["problems"] if p["code"] == "stale_pending_requests"]
    assert stale == [
        {
            "code": "stale_pending_requests",
            "count": len(q.open),
            "queue": name,
            "message": f"{len(q.open)} {'/'.join(q.open)} rows of {q.table} older than 15 minutes are "
            "still shown to mechanics; run pitstop cleanup",
        }
    ]
    assert health["orphans"] == 0


def test_health_names_no_queue_for_the_requests(relay: Rows) -> None:
    w = relay.target.world
    customer = w.user()
    relay.session(customer, age=1)
    relay.row("requests", age=20, customer=customer)
    relay.row("requests", age=1, customer=customer)
    health = relay.target.store.health()
    assert health["requests"]["new"] == {"total": 2, "stale": 1}
    stale = [p for p in health["problems"] if p["code"] == "stale_pending_requests"]
    assert stale == [
        {
            "code": "stale_pending_requests",
            "count": 1,
            "message": "1 new requests older than 15 minutes are still shown to mechanics; "
            "run pitstop cleanup",
        }
    ]


def test_orphans_are_open_sessions_no_holding_queue_holds(concierge: Rows) -> None:
    w, store = concierge.target.world, concierge.target.store
    held = concierge.session(w.user())
    concierge.row("assignments", session=held)
    concierge.session(w.user())  # fresh, and in no queue: an orphan already
    concierge.session(w.user(), scheduled=60)  # booked for later: in no queue yet, no orphan
    concierge.session(w.user(), scheduled=-5)  # its time has come: an orphan
    concierge.session(w.user(), status="scheduled")  # not open
    concierge.session(w.user(), status="in_progress", mechanic=w.user())  # live
    # Waiting with a mechanic assigned (protected: the cleanup keeps it): it has its mechanic, no orphan.
    concierge.session(w.user(), mechanic=w.user())
    health = store.health()
    assert health["orphans"] == 2
    [problem] = [p for p in health["problems"] if p["code"] == "orphaned_sessions"]
    assert problem == {
        "code": "orphaned_sessions",
        "count": 2,
        "message": "2 requested/matching sessions have no row in assignments, so no mechanic can accept them",
    }


# -- purge ---------------------------------------------------------------------------------------------


def test_a_purge_removes_a_test_users_queue_rows_and_children_never_a_real_users(rows: Rows) -> None:
    model, w, store = rows.model, rows.target.world, rows.target.store
    name = queue_of(rows)
    customer, real = w.user(), w.user(test=False)
    mechanic = mechanic_of(rows)
    mine = rows.session(customer, status=model.sessions.live[0], mechanic=mechanic)
    theirs = rows.session(real, status=model.sessions.live[0], mechanic=mechanic)
    for session in (mine, theirs):
        rows.children_of("sessions", session)
        row = rows.row(name, status=queues(model)[name].taken[0], session=session, mechanic=mechanic)
        rows.children_of(name, row)
    if "requests" in queues(model):
        for who in (customer, real):
            rows.row("requests", status="taken", customer=who, mechanic=mechanic)
    before = w.snapshot()

    with pytest.raises(Refused, match="not a test user"):
        store.purge_user(real)
    assert w.snapshot() == before

    answer = store.purge_user(customer)
    assert (answer["sessions"], answer["kept"]) == (1, 0)
    assert answer["tables"][queues(model)[name].table] == 1
    assert answer["session_requests"] == (1 if "requests" in queues(model) else 0)
    after = w.snapshot()
    assert set(after[model.sessions.table]) == {keyof(theirs)}
    assert [r[queues(model)[name].session] for r in after[queues(model)[name].table].values()] == [
        str(theirs)
    ]
    for table, column, _, effect in CHILD_TABLES[rows.target.name]:
        left = [r[column] for r in after[table].values()]
        assert len(left) == (2 if effect == "null" else 1), table
    # The mechanic (a test one) serves a real customer's session: purging it keeps that session, and
    # every row of it (its queue rows, its children, the real customer's ticket the mechanic took).
    answer = store.purge_user(mechanic)
    assert (answer["sessions"], answer["kept"]) == (0, 1)
    assert w.snapshot() == after


def test_purging_a_test_mechanic_takes_its_rows_in_test_customers_sessions_not_in_real_ones(
    rows: Rows,
) -> None:
    """A mechanic's offered and declined rows sit in sessions it does not serve: its purge takes
    those of test customers (as its sessions of test customers), so that deleting it then works."""
    model, w, store = rows.model, rows.target.world, rows.target.store
    name = queue_of(rows)
    q = queues(model)[name]
    mechanic = mechanic_of(rows)
    tested = rows.session(w.user())
    declined = rows.row(name, status=q.done[-1], session=tested, mechanic=mechanic)
    rows.children_of(name, declined)
    kept = rows.row(name, session=tested)  # nobody's: stays
    real = rows.session(w.user(test=False))
    theirs = rows.row(name, status=q.done[-1], session=real, mechanic=mechanic)

    answer = store.purge_user(mechanic)
    assert answer["sessions"] == 0 and answer["tables"][q.table] == 1
    left = set(w.snapshot()[q.table])
    assert left == {keyof(kept), keyof(theirs)}
    # Deleting it is refused while a real customer's row names it; once that row is gone, it works.
    delete = store.delete_test_mechanic if model.has_mechanics_table else store.delete_test_user
    with pytest.raises(BadInput, match="not test users"):
        delete(mechanic)
    w.conn.execute(
        sql.SQL("delete from {} where {} = %s").format(ident(q.table), sql.Identifier(q.id)), (theirs,)
    )
    assert delete(mechanic)["sessions"] == 0
    assert rows.session_status(tested) == model.sessions.open[-1]


def test_the_evidence_of_a_failed_test_holds_its_users_rows_in_every_queue(rows: Rows) -> None:
    model, w, store = rows.model, rows.target.world, rows.target.store
    name = queue_of(rows)
    q = queues(model)[name]
    customer, mechanic = w.user(), mechanic_of(rows)
    live = rows.session(customer, status=model.sessions.live[0], mechanic=mechanic)
    taken = rows.row(name, status=q.taken[0], session=live, mechanic=mechanic)
    rows.children_of("sessions", live)
    rows.children_of(name, taken)
    if "requests" in queues(model):
        rows.row("requests", status="taken", customer=customer, mechanic=mechanic)
    declined = rows.row(name, status=q.done[-1], session=rows.session(w.user()), mechanic=mechanic)

    found = store.user_rows([customer])
    assert {table: len(found[table]) for table in model.tables if table in found} == {
        table: 1 for table in model.roots
    }
    for table, _, _, _ in CHILD_TABLES[rows.target.name]:
        assert len(found[table]) == 1, table
    assert [r[q.id] for r in found[q.table]] == [str(taken)]
    if not model.has_mechanics_table:  # a mechanic's own rows, where mechanics are sign-in users
        assert {r[q.id] for r in store.user_rows([mechanic])[q.table]} == {str(taken), str(declined)}


# -- properties -----------------------------------------------------------------------------------------

USER_KINDS = ("test", "test", "real", "email_only", "metadata_only")
MECHANIC_KINDS = ("test", "test", "unregistered", "real")  # crew rows (relay)
SCHEDULES = (None, -240.0, -25.0, -12.0, -0.5, 5.0, 24 * 60.0)


@dataclass(frozen=True)
class RowSpec:
    status: str
    age: float
    mechanic: int | None
    child: bool


@dataclass(frozen=True)
class SessionSpec:
    customer: int
    mechanic: int | None
    status: str
    fallback: str  # its word when its customer has an active session already (one per customer)
    age: float
    scheduled: float | None
    child: bool
    rows: tuple[tuple[RowSpec, ...], ...]  # per queue keyed by session, in the model's order


@dataclass(frozen=True)
class MechanicSpec:
    kind: str
    user: int | None


@dataclass(frozen=True)
class State:
    users: tuple[str, ...]
    mechanics: tuple[MechanicSpec, ...]
    sessions: tuple[SessionSpec, ...]
    by_customer: tuple[tuple[tuple[RowSpec, ...], ...], ...]  # per user, per queue linked by customer


def states(model: Model) -> st.SearchStrategy[State]:
    s = model.sessions
    ages = st.sampled_from(AGES)
    by_session = [q for _, q in model.all_queues if q.link == "session"]
    by_customer = [q for _, q in model.all_queues if q.link == "customer"]
    resting = [w for w in s.statuses if w not in s.active]

    def build(users: tuple[str, ...], mechanics: tuple[MechanicSpec, ...]) -> st.SearchStrategy[State]:
        count = len(mechanics) if model.has_mechanics_table else len(users)
        mechanic = (st.none() | st.integers(0, count - 1)) if count else st.none()

        def rows(q: Queue, size: int) -> st.SearchStrategy[tuple[RowSpec, ...]]:
            spec = st.builds(
                RowSpec,
                st.sampled_from(q.statuses),
                ages,
                mechanic if q.mechanic else st.none(),
                st.booleans(),
            )
            return st.lists(spec, max_size=size).map(tuple)

        session = st.builds(
            SessionSpec,
            customer=st.integers(0, len(users) - 1),
            mechanic=mechanic,
            status=st.sampled_from(s.open) | st.sampled_from(s.statuses),  # open ones, mostly
            fallback=st.sampled_from(resting),
            age=ages,
            scheduled=st.sampled_from(SCHEDULES) if s.scheduled_for else st.none(),
            child=st.booleans(),
            rows=st.tuples(*(rows(q, 2) for q in by_session)),
        )
        strays = st.tuples(*(rows(q, 2) for q in by_customer))
        return st.builds(
            State,
            users=st.just(users),
            mechanics=st.just(mechanics),
            sessions=st.lists(session, max_size=6).map(tuple),
            by_customer=st.lists(strays, min_size=len(users), max_size=len(users)).map(tuple),
        )

    def with_users(users: tuple[str, ...]) -> st.SearchStrategy[State]:
        links = st.none() | st.integers(0, len(users) - 1)
        mechanics = (
            st.lists(st.builds(MechanicSpec, st.sampled_from(MECHANIC_KINDS), links), max_size=3).map(tuple)
            if model.has_mechanics_table
            else st.just(())
        )
        return mechanics.flatmap(lambda found: build(users, found))

    return st.lists(st.sampled_from(USER_KINDS), min_size=2, max_size=4).map(tuple).flatmap(with_users)


@dataclass
class Built:
    rows: Rows
    users: list[UUID]
    kinds: dict[UUID, str]
    mechanics: list[UUID]
    mechanic_specs: dict[UUID, MechanicSpec]


def build(target: Target, state: State) -> Built:
    w, model = target.world, target.model
    s = model.sessions
    truncate(w.conn)
    out = Rows(target)
    users = []
    for n, kind in enumerate(state.users):
        domain = DOMAIN if kind in ("test", "email_only") else "example.com"
        meta = {"pitstop": True} if kind in ("test", "metadata_only") else {}
        users.append(w.user(email=f"user{n}@{domain}", metadata=meta))
    if model.has_mechanics_table:
        mechanics = [
            w.mechanic(
                test=m.kind != "real",
                registered=m.kind == "test",
                user=None if m.user is None else users[m.user],
            )
            for m in state.mechanics
        ]
    else:
        mechanics = users
    by_session = [name for name, q in model.all_queues if q.link == "session"]
    by_customer = [name for name, q in model.all_queues if q.link == "customer"]

    def write(name: str, spec: RowSpec, **link: UUID) -> None:
        row = out.row(
            name,
            status=spec.status,
            age=spec.age,
            mechanic=None if spec.mechanic is None else mechanics[spec.mechanic],
            **link,
        )
        if spec.child:
            out.children_of(name, row)

    busy: set[int] = set()  # customers with an active session: the app allows one
    for spec in state.sessions:
        status = spec.status
        if status in s.active:
            status = spec.fallback if spec.customer in busy else status
            busy.add(spec.customer)
        session = out.session(
            users[spec.customer],
            status=status,
            age=spec.age,
            mechanic=None if spec.mechanic is None else mechanics[spec.mechanic],
            scheduled=spec.scheduled,
        )
        if spec.child:
            out.children_of("sessions", session)
        for name, specs in zip(by_session, spec.rows, strict=True):
            for row in specs:
                write(name, row, session=session)
    for user, strays in zip(users, state.by_customer, strict=True):
        for name, specs in zip(by_customer, strays, strict=True):
            for row in specs:
                write(name, row, customer=user)
    specs = dict(zip(mechanics, state.mechanics, strict=True)) if model.has_mechanics_table else {}
    return Built(out, users, dict(zip(users, state.users, strict=True)), mechanics, specs)


PROPERTY = settings(max_examples=75)


@PROPERTY
@given(data=st.data(), waiting=st.sampled_from(THRESHOLDS), orphan=st.sampled_from(THRESHOLDS))
def test_the_cleanup_changes_exactly_what_its_rules_name(
    target: Target, data: Any, waiting: int, orphan: int
) -> None:
    model = target.model
    s, all_queues = model.sessions, model.all_queues
    built = build(target, data.draw(states(model), label="state"))
    sessions, found = built.rows.read()
    before = target.world.snapshot()

    answer = target.store.cleanup_stale(waiting_minutes=waiting, orphan_minutes=orphan)

    # The oracle, from the rules' text: the statements in their order.
    protect_assigned = bool(s.mechanic) and not s.cancel_assigned
    protecting = bool(s.scheduled_for) or protect_assigned
    status = {name: {rid: r["status"] for rid, r in found[name].items()} for name, _ in all_queues}

    def is_open(x: dict[str, Any]) -> bool:
        return x["status"] in s.open

    def scheduled(x: dict[str, Any], cut: float) -> bool:  # booked for no earlier than the cut
        return x["until"] is not None and x["until"] > -cut

    def assigned(x: dict[str, Any]) -> bool:
        return protect_assigned and x["mechanic"] is not None

    def linked(q: Queue, r: dict[str, Any], sid: UUID) -> bool:
        return r["session"] == sid if q.link == "session" else r["customer"] == sessions[sid]["customer"]

    # Each queue's open rows older than the waiting cut expire, unless an active session they link to
    # is protected; a row keyed by session takes its session with it.
    expired: dict[str, set[UUID]] = {}
    by_expiry: set[UUID] = set()
    kept_rows = 0
    for name, q in all_queues:
        expired[name] = {
            rid
            for rid, r in found[name].items()
            if r["status"] in q.open
            and r["age"] > waiting
            and not (
                protecting
                and any(
                    # an active session in any word (a booking in its own word keeps its row); by
                    # customer, an open one
                    x["status"] in (s.active if q.link == "session" else s.open)
                    and linked(q, r, sid)
                    and (scheduled(x, waiting) or assigned(x))
                    for sid, x in sessions.items()
                )
            )
        }
        for rid in expired[name]:
            status[name][rid] = q.expired
            if q.link == "session":
                by_expiry.add(found[name][rid]["session"])
        kept_rows += sum(
            1 for rid, r in found[name].items() if status[name][rid] in q.open and r["age"] > waiting
        )

    holding = [(name, q) for name, q in all_queues if q.holds]

    def holds(name: str, q: Queue, sid: UUID, recent: bool) -> bool:
        if q.link == "session":  # any row of the session, in any word
            return any(r["session"] == sid for r in found[name].values())
        return any(  # an open row of its customer (``recent``: one younger than the waiting cut)
            r["customer"] == sessions[sid]["customer"]
            and status[name][rid] in q.open
            and (not recent or r["age"] <= waiting)
            for rid, r in found[name].items()
        )

    def orphan_(sid: UUID, recent: bool = False) -> bool:
        return bool(holding) and not any(holds(name, q, sid, recent) for name, q in holding)

    cancelled = {
        sid
        for sid, x in sessions.items()
        if is_open(x)
        and not assigned(x)
        and (
            sid in by_expiry
            or (x["age"] > waiting and not scheduled(x, waiting))
            or (x["age"] > orphan and not scheduled(x, orphan) and orphan_(sid))
        )
    }
    dropped: dict[str, set[UUID]] = {}
    for name, q in all_queues:  # a cancelled session's open and taken rows (keyed by session)
        dropped[name] = {
            rid
            for rid, r in found[name].items()
            if q.link == "session" and r["session"] in cancelled and status[name][rid] in (*q.open, *q.taken)
        }
        for rid in dropped[name]:
            status[name][rid] = q.cancelled
    expected_answer: dict[str, Any] = {
        "requests_expired": len(expired.get("requests", ())),
        "requests_cancelled": len(dropped.get("requests", ())),
        "sessions_cancelled": len(cancelled),
        "orphans_cancelled": sum(1 for sid in cancelled if orphan_(sid)),
    }
    if model.queues:
        expected_answer["queues"] = {
            name: {"expired": len(expired[name]), "cancelled": len(dropped[name])} for name, _ in model.queues
        }
    if protecting:
        cut = max(waiting, orphan)
        kept = {
            sid
            for sid, x in sessions.items()
            if is_open(x)
            and sid not in cancelled
            and (scheduled(x, cut) or assigned(x))
            and (
                any(
                    q.link == "session"
                    and r["session"] == sid
                    and status[name][rid] in q.open
                    and r["age"] > waiting
                    for name, q in all_queues
                    for rid, r in found[name].items()
                )
                or x["age"] > waiting
                or (x["age"] > orphan and orphan_(sid, recent=True))
            )
        }
        on_time = {sid for sid in kept if scheduled(sessions[sid], cut)}
        expected_answer["protected"] = {
            "scheduled": len(on_time),
            "assigned": len(kept - on_time),
            "requests": kept_rows,
        }
    event(
        f"expired: {min(sum(map(len, expired.values())), 2)}+, cancelled: {min(len(cancelled), 2)}+, "
        f"dropped: {min(sum(map(len, dropped.values())), 1)}+"
        + (f", protected: {min(len(kept), 1)}+" if protecting else "")
    )
    assert answer == expected_answer

    after = target.world.snapshot()
    expected = copy.deepcopy(before)
    for name, q in all_queues:
        for rid in expired[name] | dropped[name]:
            row, now = expected[q.table][keyof(rid)], after[q.table][keyof(rid)]
            row[q.status] = status[name][rid]
            if q.updated_at:
                assert now[q.updated_at] != row[q.updated_at]
                row[q.updated_at] = now[q.updated_at]
    for sid in cancelled:
        row, now = expected[s.table][keyof(sid)], after[s.table][keyof(sid)]
        assert now[s.ended_at] is not None
        row.update({s.status: s.cancelled, s.ended_at: now[s.ended_at]})
        if s.updated_at:
            assert now[s.updated_at] != row[s.updated_at]
            row[s.updated_at] = now[s.updated_at]
        if target.name == "concierge":  # the app's trigger
            assert now["cancelled_at"] == now[s.ended_at]
            row.update(cancelled_at=now["cancelled_at"], cancel_reason="system")
    assert after == expected


@PROPERTY
@given(data=st.data(), pick=st.integers(0, 7))
def test_a_purge_changes_exactly_its_users_footprint(target: Target, data: Any, pick: int) -> None:
    model = target.model
    s, all_queues = model.sessions, model.all_queues
    built = build(target, data.draw(states(model), label="state"))
    w = target.world
    people = built.users + (built.mechanics if model.has_mechanics_table else [])
    purged = people[pick % len(people)]
    test_users = {u for u, kind in built.kinds.items() if kind == "test"}
    sessions, found = built.rows.read()
    before = w.snapshot()

    if model.has_mechanics_table:

        def login(m: UUID) -> UUID | None:
            spec = built.mechanic_specs[m]
            return None if spec.user is None else built.users[spec.user]

        test_mechanics = {
            m for m, spec in built.mechanic_specs.items() if spec.kind == "test" or login(m) in test_users
        }
        allowed = purged in test_users or purged in test_mechanics
        mechanic_ids = {m for m in built.mechanics if m == purged or login(m) == purged}
    else:
        allowed = purged in test_users
        mechanic_ids = {purged}

    if not allowed:
        event("refused: not a test user")
        with pytest.raises(Refused, match="not a test user"):
            target.store.purge_user(purged)
        assert w.snapshot() == before
        return

    answer = target.store.purge_user(purged)

    # The footprint, from the rules' text: the user's sessions, the sessions it serves of test
    # customers; each queue's rows of those sessions (or, by customer, the user's), and the rows
    # naming it as mechanic in test customers' sessions (by customer: of test customers).
    doomed = {
        sid
        for sid, x in sessions.items()
        if x["customer"] == purged or (x["mechanic"] in mechanic_ids and x["customer"] in test_users)
    }
    kept = sum(
        1 for x in sessions.values() if x["mechanic"] in mechanic_ids and x["customer"] not in test_users
    )
    gone: dict[str, set[UUID]] = {}
    for name, q in all_queues:
        if q.link == "session":
            gone[name] = {
                rid
                for rid, r in found[name].items()
                if r["session"] in doomed
                or (r["mechanic"] in mechanic_ids and sessions[r["session"]]["customer"] in test_users)
            }
        else:
            gone[name] = {
                rid
                for rid, r in found[name].items()
                if r["customer"] == purged or (r["mechanic"] in mechanic_ids and r["customer"] in test_users)
            }
    expected = copy.deepcopy(before)
    tables: dict[str, int] = {s.table: len(doomed)}
    for sid in doomed:
        del expected[s.table][keyof(sid)]
    for name, q in all_queues:
        tables[q.table] = len(gone[name])
        for rid in gone[name]:
            del expected[q.table][keyof(rid)]
    owners = doomed.union(*gone.values())
    for table, _, _, _ in CHILD_TABLES[target.name]:
        tables[table] = 0
    for child in built.rows.children:
        if child.owner in owners:
            tables[child.table] += 1
            if child.effect == "delete":
                del expected[child.table][child.key]
            else:
                expected[child.table][child.key][child.column] = None
    event(f"purged sessions: {min(len(doomed), 2)}+, rows: {min(sum(map(len, gone.values())), 2)}+")
    assert answer == {
        "user_id": str(purged),
        "kept": kept,
        "sessions": len(doomed),
        "session_requests": len(gone.get("requests", ())),
        "tables": tables,
    }
    assert w.snapshot() == expected


# -- seeding every named state ----------------------------------------------------------------------

# Per schema and state: (session word, mechanic kept, {queue: (word, mechanic kept)}).
SEEDED: dict[str, dict[str, tuple[str, bool, dict[str, tuple[str, bool]]]]] = {
    "concierge": {
        "waiting_session": ("matching", False, {"assignments": ("queued", False)}),
        "pending_request": ("requested", False, {"assignments": ("queued", False)}),
        "orphaned_session": ("matching", False, {}),
        "live_session": ("in_progress", True, {"assignments": ("accepted", True)}),
        "expired_request": ("cancelled", False, {"assignments": ("expired", False)}),
        "completed_session": ("finished", True, {"assignments": ("completed", True)}),
    },
    "relay": {
        "waiting_session": ("posted", False, {"requests": ("new", False), "offers": ("posted", False)}),
        "pending_request": ("draft", False, {"requests": ("new", False), "offers": ("posted", False)}),
        "orphaned_session": ("posted", False, {}),
        "live_session": ("working", True, {"requests": ("taken", True), "offers": ("claimed", True)}),
        "expired_request": ("void", False, {"requests": ("timed_out", False), "offers": ("lapsed", False)}),
        "completed_session": ("done", True, {"requests": ("taken", True), "offers": ("finished", True)}),
    },
}


@contextmanager
def running(store: PostgresStore) -> Iterator[Run]:
    settings_ = Settings.load(
        database_url=store.connection.info.dsn, model=store.model, app_url="http://127.0.0.1:9", env={}
    )
    run = Run(
        RunConfig(settings=settings_, sweep_minutes=30),
        run_id="queuerun",
        target=RunTarget(settings_, "given"),
    )
    try:
        yield run
    finally:
        run.close(delete_users=True)


def customer_of(w: World) -> TestUser:
    """Another test customer (a run has one): both marks, as pitstop makes them."""
    email = f"customer-{uuid4().hex[:10]}@{DOMAIN}"
    return TestUser(w.user(email=email), email, "unused", "Another Customer", "customer")


def test_every_named_state_seeds_its_rows_in_every_queue_with_every_required_column(rows: Rows) -> None:
    model, w, store = rows.model, rows.target.world, rows.target.store
    s = model.sessions
    assert set(SEEDED[rows.target.name]) == set(STATES)
    with running(store) as run:
        mechanic = run.user("mechanic")
        seeded = {}
        for state, spec in STATES.items():  # one customer each: the concierge allows one active session
            customer = customer_of(w)
            helper = {"mechanic": mechanic} if spec.get("mechanic") else {}
            seeded[state] = (customer, Pitstop(run).seed(state, customer, **helper))
        snapshot = w.snapshot()
        for state, (customer, ids) in seeded.items():
            word, served, in_queues = SEEDED[rows.target.name][state]
            session = snapshot[s.table][keyof(UUID(ids["session_id"]))]
            assert session[s.status] == word, state
            assert session[s.customer] == str(customer.id), state
            assert session[s.mechanic] == (str(mechanic.id) if served else None), state
            assert (session[s.ended_at] is not None) == (word in (*s.done, s.cancelled)), state
            for name, q in model.all_queues:
                linked = [
                    r
                    for r in snapshot[q.table].values()
                    if r[q.session or q.customer] == (ids["session_id"] if q.session else str(customer.id))
                ]
                if name not in in_queues:
                    assert linked == [], (state, name)
                    continue
                [row] = linked
                assert (row[q.status], row[q.mechanic]) == (
                    in_queues[name][0],
                    str(mechanic.id) if in_queues[name][1] else None,
                ), (state, name)
                if name == "requests":
                    assert ids["request_id"] == row[q.id], state
        if rows.target.name == "concierge":
            sessions = snapshot["concierge.help_sessions"].values()
            assert all(
                x["payment_ref"].startswith("pitstop-") and x["session_type"] == "chat" for x in sessions
            )
            assert len({x["payment_ref"] for x in sessions}) == len(STATES)
            assert {x["channel"] for x in snapshot["concierge.assignments"].values()} == {"push"}  # declared
            [cancelled] = [x for x in sessions if x["state"] == "cancelled"]
            assert cancelled["cancel_reason"] == "system" and cancelled["cancelled_at"] is not None
        else:
            assert all(x["region"].startswith("pitstop-") for x in snapshot["relay.offers"].values())
        health = store.health()
        assert health["orphans"] == 1  # the orphaned session's, in no queue
        assert [p["code"] for p in health["problems"]] == ["orphaned_sessions"]
        run.release_users()


def test_one_active_session_per_customer_after_every_cleanup_and_purge(concierge: Rows) -> None:
    w, store = concierge.target.world, concierge.target.store
    with running(store) as run:
        customer = run.user("customer")
        pitstop = Pitstop(run)

        def again() -> UUID:
            return UUID(pitstop.seed("waiting_session", customer)["session_id"])

        def refused() -> None:
            with pytest.raises(BadInput, match=r"cannot seed into concierge\.help_sessions") as caught:
                again()
            assert "the app allows one such row (requester): reset the user" in (caught.value.fix or "")

        stale = UUID(pitstop.seed("waiting_session", customer, age_minutes=20)["session_id"])
        refused()
        answer = store.cleanup_stale()  # its queued row expires, and the session with it
        assert answer["queues"] == {"assignments": {"expired": 1, "cancelled": 0}}
        assert concierge.session_status(stale) == "cancelled"
        fresh = again()
        refused()
        # The payment's cleanup point cancels the open session (older than 0 minutes).
        assert store.customer_session_status(customer.id, minutes=0)["cancelled"] == 1
        assert concierge.session_status(fresh) == "cancelled"
        forced = again()
        assert store.force_cancel(forced)["queues"] == {"assignments": 1}
        again()
        assert store.purge_user(customer.id)["tables"]["concierge.assignments"] == 4
        booked = concierge.session(customer.id, status="scheduled", age=600)  # active, never open
        store.cleanup_stale()
        assert concierge.session_status(booked) == "scheduled"
        refused()
        store.purge_user(customer.id)
        again()
        assert concierge.count("concierge.help_sessions") == 1
        run.release_users()
    assert w.snapshot()["auth.users"] == {}


# -- the plugin's per-test resets ----------------------------------------------------------------------


@pytest.fixture
def concierge_url(postgres: LocalPostgres) -> Iterator[str]:
    url = create_database(postgres.url(), "concierge")
    with PostgresStore(database_url=url, model=model_of("concierge")) as store:
        store.install(test_domain=DOMAIN)
    yield url
    drop_database(postgres.url(), url)


def test_the_plugin_resets_the_concierge_before_every_test(
    pytester: pytest.Pytester, concierge_url: str, no_target_environment: None
) -> None:
    shutil.copy(EXAMPLES / "test_concierge_reset.py", pytester.path / "test_concierge_reset.py")
    report = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(
        "--base-url", "http://127.0.0.1:9",  # no app: these tests write and read the database only
        "--pitstop-database-url", concierge_url,
        "--pitstop-config", str(SCHEMAS / "concierge.toml"),
        f"--pitstop-health={report}",
        "--pitstop-leaks=fail",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        timeout=180,
    )  # fmt: skip
    result.assert_outcomes(passed=3)
    data = json.loads(report.read_text())
    assert data["run"]["resets"]["count"] == 3
    assert data["run"]["leaks"] == []
    assert set(data["health"]["queues"]["assignments"]) == {
        "queued",
        "offered",
        "accepted",
        "completed",
        "declined",
        "expired",
        "cancelled",
    }
    assert data["health"]["problems"] == []
    with psycopg.connect(concierge_url) as conn:
        # The run deleted its users at its end; the receipt (no key to them) stays, its session nulled.
        assert conn.execute("select count(*) from auth.users").fetchone() == (0,)
        assert conn.execute("select count(*) from concierge.help_sessions").fetchone() == (0,)
        assert conn.execute("select count(*) from concierge.assignments").fetchone() == (0,)
        assert conn.execute("select session_id from concierge.receipts").fetchall() == [(None,)]


# -- the command line ----------------------------------------------------------------------------------


def test_the_commands_speak_of_the_queue_where_the_app_keeps_no_requests(
    concierge: Rows, capsys: pytest.CaptureFixture[str], no_target_environment: None
) -> None:
    from tests.conftest import run_cli

    w = concierge.target.world
    url = concierge.target.store.connection.info.dsn
    config = ("--config", str(SCHEMAS / "concierge.toml"), "--database-url", url)
    stale = concierge.session(w.user(test=False), age=40)
    concierge.row("assignments", age=40, session=stale)
    assigned = concierge.session(w.user(test=False), age=40, mechanic=w.user())
    concierge.row("assignments", status="offered", age=40, session=assigned)

    code, out, _ = run_cli(capsys, "cleanup", "--dry-run", *config)
    assert code == 0
    assert out.splitlines() == [
        "would cancel 1 sessions (0 orphaned)",
        "assignments: would expire 1 open rows older than 15 min, would cancel the open and taken rows (0) "
        "of the sessions cancelled",
        "would change: concierge.help_sessions 1, concierge.assignments 1",
        "protected: 1 session (1 with a mechanic assigned); kept 1 of their open queue rows",
        "dry run: nothing was changed",
    ]
    code, out, _ = run_cli(capsys, "force-cancel", str(assigned), *config)
    assert (code, out) == (
        0,
        f"cancelled session {assigned} (was matching); 1 rows of assignments cancelled\n",
    )


def test_a_session_linked_to_its_request_by_customer_gets_its_own_request(relay: Rows) -> None:
    """Requests linked only by customer: each session's is the customer's row made with it (within a
    minute), not the customer's newest; a session with none made near it has none."""
    world = relay.target.world
    customer = world.user()
    stale = relay.session(customer, age=16)
    stale_ticket = relay.row("requests", age=16, customer=customer)
    fresh = relay.session(customer, age=1)
    fresh_ticket = relay.row("requests", age=1, customer=customer)
    orphan = relay.session(customer, age=40)
    found = {s["id"]: s for s in relay.target.store.sessions([stale, fresh, orphan])}
    assert found[str(stale)]["request_id"] == str(stale_ticket)
    assert found[str(fresh)]["request_id"] == str(fresh_ticket)
    assert found[str(orphan)]["request_id"] is None and found[str(orphan)]["request"] is None


def test_sessions_are_read_for_test_users_only(relay: Rows) -> None:
    world = relay.target.world
    real, test = world.user(test=False), world.user()
    sessions = [relay.session(real), relay.session(test)]
    assert [s["id"] for s in relay.target.store.sessions(sessions)] == [str(sessions[1])]
