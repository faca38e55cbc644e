"""Schemas we did not design (tests/schemas/<name>.sql and their models in <name>.toml), and rows
for them written through each model's names.

``World`` seeds users, mechanics, sessions and requests by the model alone;
``CHILDREN`` seeds each schema's child tables (the purge's footprint) and says
what a purge must do to every row it writes. ``snapshot`` reads every row of
every table (auth.users, the app's tables, pitstop's registry) keyed by its
primary key, so a test can say exactly which rows a rule may change.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from harness.rules import sql as migrations
from harness.rules.model import Model, load_model
from harness.store import auth_users
from harness.store.postgres import PostgresStore

SCHEMAS = Path(__file__).parent / "schemas"
NAMES = ("garage", "workshop", "helpdesk")
DOMAIN = "pitstop.test"

# Ages (minutes) kept clear of every threshold the properties use, so that the
# milliseconds between seeding and the rule cannot move a row across one.
AGES = (0.5, 9.5, 12.0, 14.5, 16.0, 19.5, 21.0, 25.0, 29.5, 31.0, 61.0, 240.0)
THRESHOLDS = (10, 15, 20, 30)


def model_of(name: str) -> Model:
    data = tomllib.loads((SCHEMAS / f"{name}.toml").read_text(encoding="utf-8"))
    return load_model(data["tool"]["pitstop"]["model"], source=f"tests/schemas/{name}.toml")


def link(model: Model) -> str:
    """How requests belong to sessions: "request" (requests.session), "session" (sessions.request)
    or "customer" (neither)."""
    if model.requests.session:
        return "request"
    return "session" if model.sessions.request else "customer"


def create_database(postgres_url: str, name: str) -> str:
    """A database of its own with Supabase's auth schema and ``name``'s tables (pitstop not installed)."""
    return database_with(postgres_url, (SCHEMAS / f"{name}.sql").read_text(), prefix=f"model_{name}")


def database_with(postgres_url: str, ddl: str, *, prefix: str) -> str:
    """A new database (named ``prefix`` and a random tail) with Supabase's auth schema, then ``ddl``."""
    dbname = f"{prefix}_{uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    url = postgres_url.rsplit("/", 1)[0] + f"/{dbname}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(migrations.platform().encode())
        conn.execute(ddl.encode())
    return url


def has_pitstop(url: str) -> bool:
    """Whether pitstop's schema is in the database (an install wrote something)."""
    with psycopg.connect(url) as conn:
        return conn.execute("select to_regnamespace('pitstop')").fetchone() != (None,)


def drop_database(postgres_url: str, url: str) -> None:
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))


def ident(name: str) -> sql.Composable:
    """``schema.table`` or a column, quoted."""
    return sql.Identifier(*name.split("."))


@dataclass(frozen=True)
class Seeded:
    session: UUID
    request: UUID | None


class World:
    """Rows for one schema, written through its model's names (ages relative to the database clock)."""

    def __init__(self, conn: psycopg.Connection[Any], model: Model) -> None:
        self.conn = conn
        self.model = model
        self.link = link(model)
        self._user_sql: sql.Composed | None = None

    # -- people ----------------------------------------------------------------------

    def user(
        self, *, test: bool = True, email: str | None = None, metadata: dict[str, Any] | None = None
    ) -> UUID:
        """A user as Supabase Auth writes one; ``test`` gives it both test marks."""
        if email is None:
            email = f"user-{uuid4().hex[:10]}@{DOMAIN if test else 'example.com'}"
        if metadata is None:
            metadata = {"pitstop": True} if test else {}
        if self._user_sql is None:
            self._user_sql = auth_users.create_user_statement(auth_users.read_shape(self.conn))
        params = {"email": email, "password_hash": None, "metadata": Jsonb(metadata), "id": None}
        return self._one(self._user_sql, params)

    def mechanic(
        self, *, test: bool = True, registered: bool | None = None, user: UUID | None = None
    ) -> UUID:
        """A mechanic: a user (mechanics as users), else a row of the mechanics table.

        A row's email is in the test domain when ``test``; it is in pitstop's
        registry when ``registered`` (default: ``test``); ``user`` links it
        to a sign-in user where the table has a user column.
        """
        m = self.model.mechanics
        if not m.table:
            return self.user(test=test)
        email = f"mechanic-{uuid4().hex[:10]}@{DOMAIN if test else 'example.com'}"
        columns: list[str] = [m.email]
        values: list[str | None] = [email]
        if m.user:
            columns.append(m.user)
            values.append(str(user) if user else None)
        mechanic = self._one(
            sql.SQL("insert into {} ({}) values ({}) returning {}").format(
                ident(m.table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(values)),
                sql.Identifier(m.id),
            ),
            values,
        )
        if test if registered is None else registered:  # the second mark of a test mechanic
            self.register(mechanic)
        return mechanic

    def register(self, mechanic: UUID) -> None:
        """What pitstop writes when it makes a test mechanic: its registry row."""
        self.conn.execute(
            "insert into pitstop.registry (table_name, id) values (%s, %s)",
            (self.model.mechanics.table, str(mechanic)),
        )

    # -- sessions and requests --------------------------------------------------------

    def session(
        self,
        customer: UUID,
        *,
        status: str | None = None,
        age_minutes: float = 0,
        mechanic: UUID | None = None,
        request: str | None = "",
        request_age_minutes: float | None = None,
        scheduled_in_minutes: float | None = None,
    ) -> Seeded:
        """A session (``status``: the first open word) and its request (``request``: its status,
        "" for the pending word, None for none), linked as the model links them; scheduled
        ``scheduled_in_minutes`` from now (negative: in the past), where the model has the column."""
        s = self.model.sessions
        status = status or s.open[0]
        request_status = self.model.requests.pending if request == "" else request
        request_age = age_minutes if request_age_minutes is None else request_age_minutes
        request_id = None
        if request_status is not None and self.link != "request":
            request_id = self.request(
                customer, status=request_status, age_minutes=request_age, mechanic=mechanic
            )
        values: dict[str, Any] = {s.customer: customer, s.status: status}
        if s.mechanic:
            values[s.mechanic] = mechanic
        if self.link == "session":
            values[s.request] = request_id
        session = self._insert(s.table, values, s.created_at, age_minutes, s.id)
        if scheduled_in_minutes is not None:
            assert s.scheduled_for, "the model has no scheduled time"
            self.conn.execute(
                sql.SQL("update {} set {} = now() + make_interval(secs => %s) where {} = %s").format(
                    ident(s.table), sql.Identifier(s.scheduled_for), sql.Identifier(s.id)
                ),
                (scheduled_in_minutes * 60, session),
            )
        if request_status is not None and self.link == "request":
            request_id = self.request(
                customer, status=request_status, age_minutes=request_age, session=session, mechanic=mechanic
            )
        return Seeded(session, request_id)

    def request(
        self,
        customer: UUID,
        *,
        status: str | None = None,
        age_minutes: float = 0,
        session: UUID | None = None,
        mechanic: UUID | None = None,
    ) -> UUID:
        r = self.model.requests
        status = status or r.pending
        values: dict[str, Any] = {r.customer: customer, r.status: status}
        if r.session:
            values[r.session] = session
        if r.mechanic and status == r.accepted:
            values[r.mechanic] = mechanic
        return self._insert(r.table, values, r.created_at, age_minutes, r.id)

    def _insert(
        self, table: str, values: dict[str, Any], created_at: str, age_minutes: float, key: str
    ) -> UUID:
        names = [*values, created_at]
        query = sql.SQL(
            "insert into {} ({}) values ({}, now() - make_interval(secs => %s)) returning {}"
        ).format(
            ident(table),
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)),
            sql.Identifier(key),
        )
        return self._one(query, [*values.values(), age_minutes * 60])

    # -- reading -------------------------------------------------------------------------

    def status(self, session: UUID) -> str:
        s = self.model.sessions
        return str(self.value(sql.SQL("select {}::text from {} where {} = %s").format(
            sql.Identifier(s.status), ident(s.table), sql.Identifier(s.id)), (session,)))  # fmt: skip

    def request_status(self, request: UUID) -> str:
        r = self.model.requests
        return str(self.value(sql.SQL("select {}::text from {} where {} = %s").format(
            sql.Identifier(r.status), ident(r.table), sql.Identifier(r.id)), (request,)))  # fmt: skip

    def session_row(self, session: UUID) -> dict[str, Any] | None:
        s = self.model.sessions
        return self.row(s.table, s.id, session)

    def row(self, table: str, key: str, value: Any) -> dict[str, Any] | None:
        found = self.value(
            sql.SQL("select to_jsonb(t) from {} t where {} = %s").format(ident(table), sql.Identifier(key)),
            (value,),
        )
        return None if found is None else dict(found)

    def count(self, table: str, where: str = "true", params: tuple[Any, ...] = ()) -> int:
        query = sql.SQL("select count(*) from {} where ").format(ident(table)) + sql.SQL(where)
        return int(self.value(query, params))

    def catalog_tables(self) -> list[str]:
        """The app's tables (outside auth and pitstop)."""
        return [t for t in primary_keys(self.conn) if t.split(".")[0] not in ("auth", "pitstop")]

    def value(self, query: sql.Composed | str, params: Any = ()) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return None if row is None else row[0]

    def _one(self, query: sql.Composed, params: Any) -> UUID:
        row = self.conn.execute(query, params).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every row of every table that matters, per table, keyed by its primary key."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for table, key in primary_keys(self.conn).items():
            rows = self.conn.execute(sql.SQL("select to_jsonb(t) from {} t").format(ident(table))).fetchall()
            out[table] = {json.dumps([r[0][k] for k in key]): r[0] for r in rows}
        return out


def primary_keys(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, ...]]:
    """Every table outside the database's own schemas (auth.users the only one of auth), with its key."""
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname,
               array(select a.attname::text from unnest(i.indkey) with ordinality k(num, o)
                     join pg_attribute a on a.attrelid = c.oid and a.attnum = k.num order by k.o)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_index i on i.indrelid = c.oid and i.indisprimary
        where c.relkind = 'r'
          and (n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'auth', 'pitstop')
               or (n.nspname, c.relname) in (('auth', 'users'), ('pitstop', 'registry')))
        order by 1
        """
    ).fetchall()
    return {table: tuple(key) for table, key in rows}


def truncate(conn: psycopg.Connection[Any]) -> None:
    """Empty auth.users, every app table and pitstop's registry."""
    tables = [ident(t) for t in primary_keys(conn)]
    conn.execute(sql.SQL("truncate {} cascade").format(sql.SQL(", ").join(tables)))


# -- children: each schema's footprint tables, and what a purge does to each row -----------------


@dataclass(frozen=True)
class Child:
    """A row a purge reaches when ``owner`` (a session or a request id) goes."""

    table: str
    key: str  # the snapshot's key of the row
    owner: UUID
    effect: str  # "delete", "keep", or "null:<column>" (a set-null key, nulled)


@dataclass
class Children:
    rows: list[Child] = field(default_factory=list)

    def add(self, world: World, table: str, values: dict[str, Any], owner: UUID, effect: str) -> UUID | None:
        """Insert one row; its key column is the first of ``values`` named *_id, or made here."""
        query = sql.SQL("insert into {} ({}) values ({}) returning to_jsonb({}.*)").format(
            ident(table),
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(sql.Placeholder() * len(values)),
            sql.Identifier(table.split(".")[1]),
        )
        row = world.conn.execute(query, list(values.values())).fetchone()
        assert row is not None
        key = primary_keys(world.conn)[table]
        self.rows.append(Child(table, json.dumps([row[0][k] for k in key]), owner, effect))
        first = row[0].get(key[0])
        return UUID(first) if len(key) == 1 and isinstance(first, str) else None


def garage_children(
    world: World, seeded: Seeded, customer: UUID, mechanic: UUID | None, out: Children
) -> None:
    session = seeded.session
    message = out.add(
        world, "public.chat_messages", {"session_id": session, "sender_id": customer}, session, "delete"
    )
    out.add(
        world,
        "public.message_reads",
        {"message_id": message, "reader_id": mechanic or customer},
        session,
        "delete",
    )
    out.add(
        world,
        "public.session_payments",
        {"session_id": session, "customer_user_id": customer},
        session,
        "null:session_id",
    )
    if seeded.request is not None and mechanic is not None:
        out.add(world, "public.request_offers", {"request_id": seeded.request, "mechanic_id": mechanic},
                seeded.request, "delete")  # fmt: skip


def workshop_children(
    world: World, seeded: Seeded, customer: UUID, mechanic: UUID | None, out: Children
) -> None:
    job = seeded.session
    event = out.add(world, "shop.job_events", {"job": job, "author": customer}, job, "delete")
    out.add(world, "shop.event_attachments", {"event": event, "job": job}, job, "delete")
    out.add(world, "shop.event_attachments", {"event": event}, job, "delete")  # only through its event
    invoice = out.add(world, "billing.invoices", {"job": job, "billed_to": customer}, job, "null:job")
    out.add(world, "billing.invoice_lines", {"invoice": invoice}, job, "keep")  # its invoice stays
    if seeded.request is not None:
        out.add(world, "shop.ticket_notes", {"ticket": seeded.request}, seeded.request, "delete")


def helpdesk_children(
    world: World, seeded: Seeded, customer: UUID, mechanic: UUID | None, out: Children
) -> None:
    call = seeded.session
    transcript = out.add(world, "desk.transcripts", {"call": call}, call, "delete")
    first = out.add(world, "desk.transcript_lines", {"transcript": transcript}, call, "delete")
    out.add(world, "desk.transcript_lines", {"transcript": transcript, "reply_to": first}, call, "delete")
    out.add(world, "desk.ratings", {"call": call, "rated_by": customer}, call, "null:call")
    if seeded.request is not None:
        escalation = out.add(world, "desk.escalations", {"request": seeded.request}, seeded.request, "delete")
        out.add(
            world, "desk.escalation_followups", {"escalation": escalation}, seeded.request, "null:escalation"
        )


CHILDREN: dict[str, Callable[[World, Seeded, UUID, UUID | None, Children], None]] = {
    "garage": garage_children,
    "workshop": workshop_children,
    "helpdesk": helpdesk_children,
    "bookings": lambda *_: None,  # no child tables
}


# -- databases: one per schema and test worker, installed once ------------------------------------

_INSTALLED: dict[tuple[str, str, str], str] = {}


def installed_database(postgres_url: str, name: str, model: Model | None = None) -> str:
    """A database of ``name``'s schema with the rules installed for its model (or ``model``), made
    once per server and model."""
    model = model or model_of(name)
    key = (postgres_url, name, model.digest())
    if key not in _INSTALLED:
        url = create_database(postgres_url, name)
        with PostgresStore(database_url=url, model=model) as store:
            store.install(test_domain=DOMAIN)
        _INSTALLED[key] = url
    return _INSTALLED[key]


@dataclass(frozen=True)
class Target:
    """One schema's database, emptied, with a store configured for its model and a world to seed it."""

    name: str
    model: Model
    store: PostgresStore
    world: World


@contextmanager
def opened(postgres_url: str, name: str, model: Model | None = None) -> Iterator[Target]:
    """``name``'s database, emptied, with the rules of its model (or ``model``, a variant of it)."""
    model = model or model_of(name)
    url = installed_database(postgres_url, name, model)
    with PostgresStore(database_url=url, model=model) as store:
        truncate(store.connection)
        yield Target(name, model, store, World(store.connection, model))


def keyof(value: UUID) -> str:
    """The snapshot's key of a row whose primary key is one uuid."""
    return json.dumps([str(value)])


def expected_after(
    before: dict[str, dict[str, dict[str, Any]]],
    model: Model,
    sessions: Iterable[UUID],
    requests: Iterable[UUID | None],
    children: Children,
) -> dict[str, dict[str, dict[str, Any]]]:
    """What a purge of ``sessions`` and ``requests`` leaves: every other row as it was, the
    children of what went deleted or (set-null keys) nulled."""
    out = copy.deepcopy(before)
    gone: set[UUID] = set()
    for session in sessions:
        del out[model.sessions.table][keyof(session)]
        gone.add(session)
    for request in requests:
        assert request is not None
        del out[model.requests.table][keyof(request)]
        gone.add(request)
    for child in children.rows:
        if child.owner not in gone or child.effect == "keep":
            continue
        if child.effect == "delete":
            del out[child.table][child.key]
        else:
            out[child.table][child.key][child.effect.removeprefix("null:")] = None
    return out
