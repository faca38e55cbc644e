"""What the database's catalog says: tables, columns (type, NOT NULL, default, unique), allowed
status words and foreign keys.

Read once (one query per kind) and kept as plain frozen data, so that checking
a model, rendering the rules and proposing a model work on the same facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg

# Schemas that are never the app's: the platform's and the database's own.
SYSTEM_SCHEMAS = (
    "pg_catalog", "information_schema", "pg_toast", "pitstop", "auth", "storage", "realtime", "extensions",
    "graphql", "graphql_public", "net", "pgsodium", "supabase_functions", "vault",
)  # fmt: skip
# Supabase's own schemas, as a local database (`supabase start`) or a new project has them before any
# app migration: Supabase Auth's, Storage's and Realtime's (with the tenant data of older CLIs), the
# extensions' namespaces and the platform's functions there, pgbouncer's auth lookup, the CLI's
# database webhooks and migration history, and those of analytics and the pooler. Whatever is in them
# is the platform's, never an app's: the embedded stack's blank check does not count it
# (``harness.stack.embedded``). Wider than SYSTEM_SCHEMAS, which is what the model's catalog reading
# leaves out.
PLATFORM_SCHEMAS = (
    "auth", "storage", "realtime", "_realtime", "extensions", "graphql", "graphql_public", "pgbouncer",
    "pgsodium", "pgsodium_masks", "vault", "net", "cron", "supabase_functions", "supabase_migrations",
    "_analytics", "_supavisor",
)  # fmt: skip
# A foreign key's ON DELETE action, as pg_constraint.confdeltype spells it.
ON_DELETE = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

_LITERAL = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(): uuid, text, character varying(255), timestamp with time zone, an enum's name
    allowed: tuple[str, ...] | None = None  # enum labels or a check constraint's words; None: free text
    enum: bool = False
    not_null: bool = False
    has_default: bool = False  # a default, an identity or a generated column: the database fills it
    unique: bool = False  # a unique index (or the primary key) on this column alone
    base: str = ""  # a domain's base type (format_type()); "" when ``type`` is no domain

    @property
    def stored_type(self) -> str:
        """What the column holds: a domain's base type, else its type."""
        return self.base or self.type

    @property
    def is_uuid(self) -> bool:
        return self.type == "uuid"

    @property
    def is_timestamptz(self) -> bool:
        return self.type == "timestamp with time zone"

    @property
    def is_text(self) -> bool:
        return self.enum or self.type == "text" or self.type.startswith("character varying")


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str  # schema.table of the referencing row
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str  # "no action", "restrict", "cascade", "set null", "set default"


@dataclass(frozen=True)
class Catalog:
    tables: dict[str, dict[str, Column]] = field(default_factory=dict)  # schema.table -> name -> column
    foreign_keys: tuple[ForeignKey, ...] = ()

    def column(self, table: str, name: str) -> Column | None:
        return self.tables.get(table, {}).get(name)

    def referencing(self, table: str) -> list[ForeignKey]:
        """The foreign keys that point at ``table`` (its children), in name order."""
        return sorted(
            (fk for fk in self.foreign_keys if fk.ref_table == table), key=lambda f: (f.table, f.name)
        )

    def references(self, table: str, column: str) -> list[ForeignKey]:
        """The single-column foreign keys of ``table.column``."""
        return [fk for fk in self.foreign_keys if fk.table == table and fk.columns == (column,)]

    def app_tables(self) -> list[str]:
        return sorted(t for t in self.tables if t.split(".", 1)[0] not in SYSTEM_SCHEMAS)


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    """Every ordinary table's columns and every foreign key, outside the database's own schemas."""
    columns = conn.execute(
        """
        select n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               t.typtype = 'e', a.attnotnull, a.atthasdef or a.attidentity <> '',
               case when t.typtype = 'e' then
                   array(select e.enumlabel::text from pg_enum e
                         where e.enumtypid = t.oid order by e.enumsortorder)
               end,
               exists (select 1 from pg_index i
                       where i.indrelid = c.oid and i.indisunique and i.indnkeyatts = 1
                         and i.indkey[0] = a.attnum and i.indpred is null),
               case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) else '' end
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        join pg_type t on t.oid = a.atttypid
        where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
        order by 1, a.attnum
        """
    ).fetchall()
    checks = conn.execute(
        """
        select n.nspname || '.' || c.relname, a.attname, pg_get_constraintdef(k.oid)
        from pg_constraint k
        join pg_class c on c.oid = k.conrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
        where k.contype = 'c' and cardinality(k.conkey) = 1
        """
    ).fetchall()
    keys = conn.execute(
        """
        select k.conname, n.nspname || '.' || c.relname,
               array(select a.attname::text from unnest(k.conkey) with ordinality u(num, i)
                     join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.num order by u.i),
               rn.nspname || '.' || rc.relname,
               array(select a.attname::text from unnest(k.confkey) with ordinality u(num, i)
                     join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.num order by u.i),
               k.confdeltype
        from pg_constraint k
        join pg_class c on c.oid = k.conrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_class rc on rc.oid = k.confrelid
        join pg_namespace rn on rn.oid = rc.relnamespace
        where k.contype = 'f'
        order by 2, 1
        """
    ).fetchall()
    allowed: dict[tuple[str, str], tuple[str, ...]] = {}
    for table, column, definition in checks:
        words = _check_words(definition)
        if words is not None:
            allowed[(table, column)] = words
    tables: dict[str, dict[str, Column]] = {}
    for table, name, type_, is_enum, not_null, has_default, labels, unique, base in columns:
        words = tuple(labels) if is_enum else allowed.get((table, name))
        tables.setdefault(table, {})[name] = Column(
            name, type_, words, is_enum, not_null, has_default, unique, base
        )
    fks = tuple(
        ForeignKey(name, table, tuple(cols), ref, tuple(ref_cols), ON_DELETE.get(action, action))
        for name, table, cols, ref, ref_cols, action in keys
    )
    return Catalog(tables, fks)


def _check_words(definition: str) -> tuple[str, ...] | None:
    """The words a one-column check constraint allows (``status in ('a', 'b')``), if that is what it is."""
    body = definition.removeprefix("CHECK ").strip()
    if not re.fullmatch(
        r"\(+\(?\w+\)?(::\w+)?\s*(=\s*ANY\s*\(+ARRAY\[.*\]\)+(::\w+\[\])?|=\s*'.*'(::\w+)?)\)+", body
    ):
        return None
    return tuple(w.replace("''", "'") for w in _LITERAL.findall(body))
