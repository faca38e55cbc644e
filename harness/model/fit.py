"""Whether a declared model fits a database: every table and column there, types that fit,
every status word allowed. Each misfit names what is missing and the candidates."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from harness.errors import BadInput
from harness.model.catalog import Catalog, Column
from harness.model.declaration import Model

UUID, TIME, STATUS = "uuid", "timestamptz", "status"


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
                   ("updated_at", s.updated_at, TIME)]  # fmt: skip
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
    if model.has_mechanics_table:
        found = _table("mechanics", m.table, catalog)
        out += found
        if not found:
            columns = [("id", m.id, UUID), ("email", m.email, "text"), ("user", m.user, UUID)]
            out += _columns("mechanics", m.table, columns, catalog)
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
