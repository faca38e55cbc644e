"""Whether a declared model fits a database: every table and column there, types that fit,
every status word allowed, and every user and link column referring where the model says it
does. Each misfit names what is missing or wrong and the candidates."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from harness.errors import BadInput
from harness.rules.model import seeding
from harness.rules.model.catalog import Catalog, Column, ForeignKey
from harness.rules.model.declaration import Model

UUID, TIME, STATUS = "uuid", "timestamptz", "status"
# Supabase Auth's sign-in users: what a customer column (and a mechanic's, where mechanics are
# sign-in users) refers to, by its id.
AUTH_USERS = "auth.users"


@dataclass(frozen=True)
class Misfit:
    key: str  # the model's key, e.g. "sessions.customer"
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message} ({self.fix})"


def misfits(model: Model, catalog: Catalog) -> list[Misfit]:
    """Everything about ``model`` that ``catalog`` contradicts (empty: it fits)."""
    out: list[Misfit] = []
    s, r, m = model.sessions, model.requests, model.mechanics
    out += _table("sessions", s.table, catalog)
    if not out:
        columns = [("id", s.id, UUID), ("customer", s.customer, UUID), ("status", s.status, STATUS),
                   ("created_at", s.created_at, TIME), ("mechanic", s.mechanic, UUID),
                   ("request", s.request, UUID), ("ended_at", s.ended_at, TIME),
                   ("updated_at", s.updated_at, TIME), ("scheduled_for", s.scheduled_for, TIME)]  # fmt: skip
        out += _columns("sessions", s.table, columns, catalog)
        out += _words("sessions", s.table, s.status, s.statuses, catalog)
    if model.has_requests:
        found = _table("requests", r.table, catalog)
        out += found
        if not found:
            columns = [("id", r.id, UUID), ("customer", r.customer, UUID), ("status", r.status, STATUS),
                       ("created_at", r.created_at, TIME), ("mechanic", r.mechanic, UUID),
                       ("session", r.session, UUID)]  # fmt: skip
            out += _columns("requests", r.table, columns, catalog)
            out += _words("requests", r.table, r.status, r.statuses, catalog)
    elif s.request:
        out.append(Misfit("sessions.request", "names a request column, but the model has no requests table",
                          'set requests.table, or request = ""'))  # fmt: skip
    for name, q in model.queues:
        part = f"queues.{name}"
        found = _table(part, q.table, catalog)
        out += found
        if not found:
            columns = [("id", q.id, UUID), ("session", q.session, UUID), ("customer", q.customer, UUID),
                       ("mechanic", q.mechanic, UUID), ("status", q.status, STATUS),
                       ("created_at", q.created_at, TIME), ("updated_at", q.updated_at, TIME)]  # fmt: skip
            out += _columns(part, q.table, columns, catalog)
            out += _words(part, q.table, q.status, q.statuses, catalog)
    if model.has_mechanics_table:
        found = _table("mechanics", m.table, catalog)
        out += found
        if not found:
            columns = [("id", m.id, UUID), ("email", m.email, "text"), ("user", m.user, UUID)]
            out += _columns("mechanics", m.table, columns, catalog)
    out += _references(model, catalog, {f.key for f in out})
    out += [Misfit(v.key, v.message, v.fix) for v in seeding.value_misfits(model, catalog)]
    return out


def check(model: Model, catalog: Catalog) -> None:
    """Refuse a model that does not fit, naming every misfit and its fix."""
    found = misfits(model, catalog)
    if found:
        raise BadInput(
            "the model in [tool.pitstop.model] does not fit the database:\n    "
            + "\n    ".join(str(f) for f in found),
            fix="correct [tool.pitstop.model] (`pitstop inspect` proposes one); nothing was written",
        )


def _table(part: str, table: str, catalog: Catalog) -> list[Misfit]:
    if table in catalog.tables:
        return []
    candidates = difflib.get_close_matches(table, catalog.app_tables(), n=3, cutoff=0.5)
    if not candidates:
        bare = table.split(".", 1)[-1]
        candidates = [t for t in catalog.app_tables() if t.split(".", 1)[-1] == bare]
    return [Misfit(f"{part}.table", f"there is no table {table}", _suggest(candidates, catalog.app_tables()))]


def _columns(part: str, table: str, columns: list[tuple[str, str, str]], catalog: Catalog) -> list[Misfit]:
    out = []
    have = catalog.tables[table]
    for key, name, kind in columns:
        if not name:
            continue
        column = have.get(name)
        if column is None:
            close = difflib.get_close_matches(name, list(have), n=3, cutoff=0.4)
            out.append(Misfit(f"{part}.{key}", f"{table} has no column {name}", _suggest(close, list(have))))
        elif not _fits(column, kind):
            out.append(
                Misfit(
                    f"{part}.{key}",
                    f"{table}.{name} is {column.type}, not {_KINDS[kind]}",
                    f"name a {_KINDS[kind]} column of {table}",
                )
            )
    return out


@dataclass(frozen=True)
class _Target:
    """What a user or link column must refer to: ``table(column)``, the key ``part`` declares."""

    part: str  # "users", "sessions", "requests" or "mechanics"
    table: str
    column: str
    # Its ids are the users' ids (a mechanics table keyed by the user's id): what refers to the
    # users holds its ids too.
    users: bool = False

    @property
    def shown(self) -> str:
        where = f"{self.table}({self.column})"
        return where if self.part == "users" else f"{where}, the {self.part} table"


USERS = _Target("users", AUTH_USERS, "id")


def _references(model: Model, catalog: Catalog, wrong: set[str]) -> list[Misfit]:
    """The user and link columns whose foreign keys refer elsewhere than the model says.

    A customer column refers to ``auth.users(id)``; a mechanic column too, or to the model's
    mechanics table when it has one; ``sessions.request`` to the requests table's id and
    ``requests.session`` to the sessions table's. A foreign key to a table keyed by the user's
    id (a profile: its id refers to ``auth.users(id)``) holds user ids too; and where the
    mechanics table is keyed by the user's id (its id refers to the users, or the model's
    ``mechanics.user`` is its id), a mechanic's id is its user's, so a mechanic column may refer
    to the users as well. A column with no foreign key is taken as it is (apps leave some out),
    unless it is the row's own id (``mechanics.user`` may be: it says the table is keyed so).
    Keys already found wrong (``wrong``), and columns of tables not there, are not looked at.
    """
    s, r, m = model.sessions, model.requests, model.mechanics
    users = USERS
    sessions = _Target("sessions", s.table, s.id)
    requests = _Target("requests", r.table, r.id)
    mechanics = users
    out: list[Misfit] = []
    if model.has_mechanics_table:
        keyed = m.user == m.id or any(_refers(fk, users, catalog) for fk in catalog.references(m.table, m.id))
        mechanics = _Target("mechanics", m.table, m.id, users=keyed)
        found = _mechanics_id(model, catalog, wrong)
        if found is not None:  # what the mechanic columns would be told is mechanics.id's to mend
            out.append(found)
            wrong = wrong | {"mechanics.id"}
    # (part, its table, its id, key, column, target) for every column that refers to something.
    columns = [("customer", s.customer, users), ("mechanic", s.mechanic, mechanics)]
    checks = [("sessions", s.table, s.id, key, name, target) for key, name, target in columns]
    if model.has_requests:
        checks.append(("sessions", s.table, s.id, "request", s.request, requests))
        columns = [("customer", r.customer, users), ("mechanic", r.mechanic, mechanics),
                   ("session", r.session, sessions)]  # fmt: skip
        checks += [("requests", r.table, r.id, key, name, target) for key, name, target in columns]
    for queue_name, q in model.queues:
        columns = [("customer", q.customer, users), ("mechanic", q.mechanic, mechanics),
                   ("session", q.session, sessions)]  # fmt: skip
        checks += [
            (f"queues.{queue_name}", q.table, q.id, key, name, target) for key, name, target in columns
        ]
    if model.has_mechanics_table:
        checks.append(("mechanics", m.table, m.id, "user", m.user, users))
    for part, table, own, key, name, target in checks:
        if (
            not name
            or {f"{part}.table", f"{part}.{key}"} & wrong
            or {f"{target.part}.table", f"{target.part}.id"} & wrong
            or catalog.column(target.table, target.column) is None
        ):
            continue
        refs = catalog.references(table, name)
        if any(_refers(fk, target, catalog) for fk in refs):
            continue
        if refs:
            shown = " and ".join(f"{fk.ref_table}({', '.join(fk.ref_columns)})" for fk in refs)
            message = f"{table}.{name} references {shown}, not {target.shown}"
        elif name == own and (part, key) != ("mechanics", "user"):
            message = f"{table}.{name} is the row's own id ({part}.id), not a reference to {target.shown}"
        else:
            continue  # no foreign key: taken as the model says
        # The columns that other keys of this table name, and rightly (they refer to those keys'
        # targets), stay theirs: a customer column is no mechanic's, even where both hold user ids.
        taken = {
            n
            for _, t, _, k, n, g in checks
            if t == table
            and k != key
            and n
            and any(_refers(fk, g, catalog) for fk in catalog.references(t, n))
        }
        candidates = [c for c in _referring(catalog, table, target) if c not in taken and c != name]
        fix = _fix(model, catalog, key, table, target, refs, candidates)
        out.append(Misfit(f"{part}.{key}", message, fix))
    return out


def _mechanics_id(model: Model, catalog: Catalog, wrong: set[str]) -> Misfit | None:
    """``mechanics.id``, when the mechanic columns refer to the mechanics table by another of its columns.

    Its id is the column they refer to: the misfit is the id's, not each mechanic column's (a user
    column declared as the id, ``id = "user_id"``, is the usual slip). None when one of them refers
    to the declared id, or none refers to the table at all (the column checks say what is wrong).
    """
    s, r, m = model.sessions, model.requests, model.mechanics
    if {"mechanics.table", "mechanics.id"} & wrong or catalog.column(m.table, m.id) is None:
        return None
    columns = [("sessions", s.table, s.mechanic)]
    if model.has_requests:
        columns.append(("requests", r.table, r.mechanic))
    columns += [(f"queues.{name}", q.table, q.mechanic) for name, q in model.queues]
    elsewhere: list[tuple[str, str]] = []  # (table.column, the column of the mechanics table it refers to)
    for part, table, name in columns:
        if not name or {f"{part}.table", f"{part}.mechanic"} & wrong:
            continue
        refs = [fk for fk in catalog.references(table, name) if fk.ref_table == m.table]
        if any(fk.ref_columns == (m.id,) for fk in refs):
            return None
        if refs:
            elsewhere.append((f"{table}.{name}", refs[0].ref_columns[0]))
    if not elsewhere:
        return None
    ids = list(dict.fromkeys(column for _, column in elsewhere))
    verb = "references" if len(elsewhere) == 1 else "reference"
    shown = " and ".join(where for where, _ in elsewhere)
    message = (
        f"{shown} {verb} {m.table}({', '.join(ids)}), not {m.table}({m.id}): mechanics.id is the column "
        "the mechanic columns refer to"
    )
    fix = f'id = "{ids[0]}"'
    if m.user != m.id and any(_refers(fk, USERS, catalog) for fk in catalog.references(m.table, m.id)):
        message += f"; {m.table}.{m.id} references auth.users, as mechanics.user does"
        fix += f' and user = "{m.id}"'
    return Misfit("mechanics.id", message, fix)


def _referring(catalog: Catalog, table: str, target: _Target) -> list[str]:
    """The columns of ``table`` that refer to ``target``, those named like its part first."""
    found = {
        fk.columns[0]
        for fk in catalog.foreign_keys
        if fk.table == table and len(fk.columns) == 1 and _refers(fk, target, catalog)
    }
    word = "user" if target.part == "users" else target.part.rstrip("s")
    return sorted(found, key=lambda c: (word not in c.lower(), c))


def _refers(fk: ForeignKey, target: _Target, catalog: Catalog) -> bool:
    """Whether ``fk`` refers to ``target``: directly, or, for the users, to a table keyed by their id;
    for a target keyed by the users' id (``target.users``), to the users as well."""
    if (fk.ref_table, fk.ref_columns) == (target.table, (target.column,)):
        return True
    if target.part == "users":
        return any(
            (k.ref_table, k.ref_columns) == (target.table, (target.column,))
            for k in catalog.references(fk.ref_table, fk.ref_columns[0])
        )
    return target.users and _refers(fk, USERS, catalog)


def _fix(
    model: Model,
    catalog: Catalog,
    key: str,
    table: str,
    target: _Target,
    refs: list[ForeignKey],
    candidates: list[str],
) -> str:
    if candidates:
        return f"did you mean {' or '.join(candidates)}?"
    fixes = [f"name the column of {table} that references {target.table}({target.column})"]
    if key == "mechanic" and refs:
        elsewhere = [fk.ref_table for fk in refs if not _refers(fk, USERS, catalog)]
        if target.part == "mechanics" and not elsewhere:
            fixes.append('mechanics.table = "" if mechanics are sign-in users')
        elif target.part == "users" and elsewhere and elsewhere[0] not in model.tables:
            fixes.append(f'mechanics.table = "{elsewhere[0]}" if mechanics are rows of it')
    if key in ("request", "session"):
        fixes.append(f'{key} = "" to link requests to sessions by customer')
    return "; or ".join(fixes)


def _words(part: str, table: str, name: str, words: tuple[str, ...], catalog: Catalog) -> list[Misfit]:
    column = catalog.column(table, name)
    if column is None or column.allowed is None:
        return []  # free text: any word may be written
    unknown = [w for w in words if w not in column.allowed]
    if not unknown:
        return []
    how = "its enum" if column.enum else "its check constraint"
    return [
        Misfit(
            f"{part}.status",  # the words declared for the status column
            f"{table}.{name} does not allow {', '.join(repr(w) for w in unknown)} ({how})",
            f"use the words it allows: {', '.join(repr(w) for w in column.allowed)}",
        )
    ]


_KINDS = {UUID: "uuid", TIME: "timestamptz", STATUS: "text, varchar or an enum", "text": "text or varchar"}


def _fits(column: Column, kind: str) -> bool:
    if kind == UUID:
        return column.is_uuid
    if kind == TIME:
        return column.is_timestamptz
    if kind == "text":
        return column.type == "text" or column.type.startswith("character varying")
    return column.is_text


def _suggest(candidates: list[str], everything: list[str]) -> str:
    if candidates:
        return "did you mean " + " or ".join(candidates) + "?"
    shown = ", ".join(everything[:12]) + (" …" if len(everything) > 12 else "")
    return f"it has: {shown}" if everything else "nothing is there"
