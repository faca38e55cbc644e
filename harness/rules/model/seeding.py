"""What a seeded row writes beyond the model's own columns, and which tables hold participants.

A named state writes a session, its request and its participants through the model. The app's
tables have more columns than the model names: every one that is NOT NULL without a default gets a
value, from ``[tool.pitstop.model.<part>.values]`` when declared, otherwise one made from its type
and constraints (``required_fills``). A column that needs a row of another table pitstop cannot make
is a ``Need``: seeding lists every one at once, with the key that declares it.

Pure functions of the model and the catalog: the store renders them (``harness.store.postgres``),
and ``install`` checks the declared values with the rest of the model (``value_misfits``).
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal
from uuid import uuid4

from harness.rules.model.catalog import SYSTEM_SCHEMAS, Catalog, Column
from harness.rules.model.declaration import Model, Scalar

AUTH_USERS = ("auth.users", ("id",))
# The words a participant's role column must allow (when it allows only some).
ROLES = ("customer", "mechanic")
TEXT_PREFIX = "pitstop-"

_TEXT = ("text", "character varying", "character", "citext", "name", "bpchar")
_INTEGERS = {"smallint": 32767, "integer": 2**31 - 1, "bigint": 2**31 - 1}
_NUMBERS = ("real", "double precision", "numeric", "decimal", "money")
_TIMES = ("timestamp with time zone", "timestamp without time zone", "date", "time with time zone",
          "time without time zone")  # fmt: skip


@dataclass(frozen=True)
class Fill:
    """One column's value: a literal (its text, read by the column's type), ``now()``, or one of the
    seed statement's parameters (``customer``, ``session_id``, ``request_id``)."""

    kind: Literal["literal", "now", "param"]
    text: str


@dataclass(frozen=True)
class Need:
    """A column that needs a value pitstop cannot make (or a declared value that does not fit)."""

    table: str
    column: str
    why: str
    part: str | None  # the model's part whose ``values`` may declare it; None: not a model table
    fix: str | None = None  # what to change, when it is not to declare a value
    example: str = '"…"'  # a value to declare, as TOML

    @property
    def declared(self) -> bool:
        """Whether this is a declared value that does not fit (not a value pitstop cannot make)."""
        return self.fix is not None

    def __str__(self) -> str:
        if self.fix:
            return f"{self.part}.values.{self.column}: {self.why} ({self.fix})"
        if self.part:
            fix = f"declare {self.part}.values.{self.column}"
        else:
            fix = "give the column a default: pitstop writes this table as the app keeps it"
        return f"{self.table}.{self.column}: {self.why} ({fix})"


@dataclass(frozen=True)
class ValueMisfit:
    """A declared value the catalog contradicts; shaped as ``harness.rules.model.fit.Misfit``."""

    key: str  # e.g. "sessions.values.payment_ref"
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message} ({self.fix})"


@dataclass(frozen=True)
class Participants:
    """A table of a session's participants: one row per user of a session, with its role."""

    table: str
    session: str  # refers to the sessions table's id
    user: str  # refers to auth.users(id)
    role: str  # text or enum; allows "customer" and "mechanic"


def part_of(model: Model, table: str) -> str | None:
    """The model's part (of those that declare values) whose table is ``table``."""
    return next((p for p, t, _, _ in model.value_parts() if table and t == table), None)


def value_misfits(model: Model, catalog: Catalog) -> list[ValueMisfit]:
    """The declared values that do not fit the catalog: a column the table lacks, a word its enum or
    check constraint does not allow. Parts whose table is not there are left to the model's check."""
    out: list[ValueMisfit] = []
    for part, table, _, declared in model.value_parts():
        columns = catalog.tables.get(table) if table else None
        if columns is None:
            continue
        for name, value in declared:
            key = f"{part}.values.{name}"
            column = columns.get(name)
            if column is None:
                close = difflib.get_close_matches(name, list(columns), n=3, cutoff=0.4)
                fix = f"did you mean {' or '.join(close)}?" if close else f"name a column of {table}"
                out.append(ValueMisfit(key, f"{table} has no column {name}", fix))
            elif column.allowed is not None and literal_text(value) not in column.allowed:
                how = "its enum" if column.enum else "its check constraint"
                out.append(
                    ValueMisfit(
                        key,
                        f"{table}.{name} does not allow {literal_text(value)!r} ({how})",
                        f"use one of the words it allows: {', '.join(repr(w) for w in column.allowed)}",
                    )
                )
    return out


def literal_text(value: Scalar) -> str:
    """A declared value as the text of a literal (the column's type reads it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def declared_fills(model: Model, catalog: Catalog, table: str) -> tuple[dict[str, Fill], list[Need]]:
    """The values declared for ``table``'s columns; one it lacks, or a word it does not allow, is a
    ``Need`` naming the key."""
    part = part_of(model, table)
    fills = {column: Fill("literal", literal_text(v)) for column, v in model.values_for(table).items()}
    needs = [
        Need(table, m.key.removeprefix(f"{part}.values."), m.message, part, fix=m.fix)
        for m in value_misfits(model, catalog)
        if part is not None and m.key.startswith(f"{part}.values.")
    ]
    return fills, needs


def required_fills(
    catalog: Catalog,
    table: str,
    written: Collection[str],
    known: Mapping[tuple[str, tuple[str, ...]], str],
    part: str | None,
) -> tuple[dict[str, Fill], list[Need]]:
    """A value for every NOT NULL column of ``table`` without a default that is not ``written``.

    In order: a foreign key to a row the statement has (``known``: the referenced table and columns
    to a parameter's name: the customer for ``auth.users(id)``, the session, the request) takes that
    row's id; any other foreign key is a ``Need``. Then an enum or check-constrained column takes
    its first allowed word; text a ``pitstop-`` value unique to the row (a varchar too short for it
    takes random hex digits);
    json ``{}``; numbers 0 (a unique one a random positive number); booleans false; times now();
    intervals 0; a uuid a new one; arrays empty. A type pitstop knows no value of is a ``Need``.
    """
    fills: dict[str, Fill] = {}
    needs: list[Need] = []
    for name, column in catalog.tables.get(table, {}).items():
        if name in written or not column.not_null or column.has_default:
            continue
        keys = [fk for fk in catalog.foreign_keys if fk.table == table and name in fk.columns]
        if keys:
            fk = keys[0]
            param = known.get((fk.ref_table, fk.ref_columns)) if fk.columns == (name,) else None
            if param is not None:
                fills[name] = Fill("param", param)
            else:
                refers = f"{fk.ref_table}({', '.join(fk.ref_columns)})"
                why = f"references {refers}, a row pitstop cannot make"
                needs.append(Need(table, name, why, part, example=f'"<an id of {fk.ref_table}>"'))
            continue
        fill = type_fill(column)
        if fill is None:
            needs.append(Need(table, name, f"pitstop makes no value of type {column.type}", part))
        else:
            fills[name] = fill
    return fills, needs


def type_fill(column: Column) -> Fill | None:
    """A value for ``column`` made from its type and constraints; None for a type pitstop does not know."""
    if column.allowed:
        return Fill("literal", column.allowed[0])
    stored = column.stored_type
    if stored.endswith("]"):
        return Fill("literal", "{}")
    kind = re.sub(r"\(.*?\)", "", stored).strip()
    if kind in _TEXT:
        length = re.search(r"\((\d+)\)", stored)
        text = TEXT_PREFIX + uuid4().hex[:12]
        if length and int(length[1]) < len(text):  # too short for the prefix: as unique as it fits
            text = (uuid4().hex * 2)[: int(length[1])]
        return Fill("literal", text)
    if kind in ("json", "jsonb"):
        return Fill("literal", "{}")
    if kind in _INTEGERS or kind in _NUMBERS:
        top = _INTEGERS.get(kind, 2**31 - 1)
        return Fill("literal", str(random.randint(1, top) if column.unique else 0))
    if kind == "boolean":
        return Fill("literal", "false")
    if kind in _TIMES:
        return Fill("now", "now()")
    if kind == "interval":
        return Fill("literal", "0")
    if kind == "uuid":
        return Fill("literal", str(uuid4()))
    if kind == "bytea":
        return Fill("literal", "\\x" + uuid4().hex)
    return None


def participants(model: Model, catalog: Catalog) -> list[Participants]:
    """The app's tables of session participants, found in the catalog.

    One is a table (not one of the model's) with a column referring to the sessions table's id, one
    referring to ``auth.users(id)``, and a role column (``role`` or ``…_role``, text or enum) that
    allows "customer" and "mechanic": the reference app's ``session_participants`` and its kin.
    """
    s = model.sessions
    out: list[Participants] = []
    for table in sorted({fk.table for fk in catalog.referencing(s.table)}):
        columns = catalog.tables.get(table, {})
        if table in model.tables or table.split(".", 1)[0] in SYSTEM_SCHEMAS:
            continue
        single = [fk for fk in catalog.foreign_keys if fk.table == table and len(fk.columns) == 1]
        sessions = [fk.columns[0] for fk in single if (fk.ref_table, fk.ref_columns) == (s.table, (s.id,))]
        users = [fk.columns[0] for fk in single if (fk.ref_table, fk.ref_columns) == AUTH_USERS]
        roles = [
            c.name
            for c in columns.values()
            if (c.name == "role" or c.name.endswith("_role"))
            and c.is_text
            and (c.allowed is None or set(ROLES) <= set(c.allowed))
        ]
        if len(sessions) == 1 and len(users) == 1 and len(roles) == 1:
            out.append(Participants(table, sessions[0], users[0], roles[0]))
    return out


def mechanic_is_user(model: Model, catalog: Catalog) -> Literal["id", "user", ""]:
    """How a seeded mechanic's sign-in user is found: its id is one ("id": mechanics are users, or
    their table is keyed by the user's id), the mechanics table's user column ("user"), or not ("")."""
    m = model.mechanics
    if not model.has_mechanics_table:
        return "id"
    if m.user == m.id or any(
        (fk.ref_table, fk.ref_columns) == AUTH_USERS for fk in catalog.references(m.table, m.id)
    ):
        return "id"
    return "user" if m.user else ""
