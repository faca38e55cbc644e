"""A test user's Supabase Auth session, written as Supabase Auth (GoTrue) writes one at a password sign-in.

A sign-in makes one ``auth.sessions`` row (``aal1``), one ``auth.mfa_amr_claims``
row saying how the user signed in (``password``: the access token's ``amr``, and
what GoTrue reads back when it refreshes the session), one ``auth.refresh_tokens``
row, and sets the user's ``last_sign_in_at``. Each is written where the target has
the table and with the columns it has; the session and its tokens go when the user
goes (foreign keys ``on delete cascade``, as on Supabase). Nothing is written for a
user that is not a test user (``pitstop.is_test_user``, in the same statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from harness.errors import BadInput
from harness.store.auth_users import NIL_UUID

# Never read into a session: the user's secrets.
SECRET_COLUMNS = (
    "encrypted_password",
    "confirmation_token",
    "recovery_token",
    "email_change_token_new",
    "email_change_token_current",
    "phone_change_token",
    "reauthentication_token",
)
# What a session cannot be written without.
REQUIRED = {"sessions": ("id", "user_id"), "refresh_tokens": ("token", "user_id", "session_id")}
# Column -> value, where the column exists: what GoTrue writes at a password sign-in.
_SESSION_VALUES: dict[str, sql.Composable] = {
    "id": sql.Placeholder("session"),
    "user_id": sql.SQL("u.id"),
    "created_at": sql.SQL("now()"),
    "updated_at": sql.SQL("now()"),
    "aal": sql.Literal("aal1"),
    "user_agent": sql.Placeholder("agent"),
}
_TOKEN_VALUES: dict[str, sql.Composable] = {
    "instance_id": sql.Literal(NIL_UUID),
    "token": sql.Placeholder("token"),
    "user_id": sql.SQL("s.user_id::text"),
    "revoked": sql.Literal(False),
    "created_at": sql.SQL("now()"),
    "updated_at": sql.SQL("now()"),
    "parent": sql.Literal(""),
    "session_id": sql.SQL("s.id"),
}
_AMR_VALUES: dict[str, sql.Composable] = {
    "id": sql.SQL("gen_random_uuid()"),
    "session_id": sql.SQL("s.id"),
    "created_at": sql.SQL("now()"),
    "updated_at": sql.SQL("now()"),
    "authentication_method": sql.Literal("password"),
}


@dataclass(frozen=True)
class SessionShape:
    """The columns of the target's ``auth.users``, ``auth.sessions``, ``auth.refresh_tokens`` and
    ``auth.mfa_amr_claims``, by table (a table the target lacks is not there)."""

    tables: dict[str, frozenset[str]]

    def check(self) -> None:
        """Refuse a target whose auth schema cannot hold a session, naming what is missing."""
        missing = [
            f"auth.{table}({', '.join(c for c in columns if c not in self.tables.get(table, ()))})"
            for table, columns in REQUIRED.items()
            if not set(columns) <= self.tables.get(table, frozenset())
        ]
        if missing:
            raise BadInput(
                f"the database's auth schema cannot hold a Supabase session: it lacks {', '.join(missing)}",
                fix="point pitstop at the app's Supabase database, or sign users in through Supabase Auth "
                "(--supabase-url with --supabase-anon-key) or on the login page "
                '([tool.pitstop.auth] mode = "ui")',
            )


def read_shape(conn: psycopg.Connection[Any]) -> SessionShape:
    rows = conn.execute(
        """
        select c.relname, a.attname
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'auth' and c.relkind = 'r'
          and c.relname in ('users', 'sessions', 'refresh_tokens', 'mfa_amr_claims')
          and a.attnum > 0 and not a.attisdropped
        """
    ).fetchall()
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return SessionShape({table: frozenset(columns) for table, columns in tables.items()})


def _insert(table: str, values: dict[str, sql.Composable], columns: frozenset[str]) -> sql.Composed:
    present = {c: v for c, v in values.items() if c in columns}
    return sql.SQL("insert into {} ({}) select {} from s").format(
        sql.Identifier("auth", table),
        sql.SQL(", ").join(sql.Identifier(c) for c in present),
        sql.SQL(", ").join(present.values()),
    )


def open_session_statement(shape: SessionShape) -> sql.Composed:
    """One statement: a password sign-in's rows for a test user; returns the user (without its
    secrets) as JSON with its new ``last_sign_in_at``, or no row for any other user.

    Parameters: ``user`` (its id), ``session`` (the new session's id), ``token`` (the refresh
    token), ``agent`` (the user agent recorded on the session).
    """
    shape.check()
    session_columns = shape.tables["sessions"]
    session = {c: v for c, v in _SESSION_VALUES.items() if c in session_columns}
    parts = [
        sql.SQL(
            "u as (select id from auth.users"
            " where id = %(user)s and pitstop.is_test_user(%(user)s) for update)"
        ),
        sql.SQL("s as (insert into auth.sessions ({}) select {} from u returning id, user_id)").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in session),
            sql.SQL(", ").join(session.values()),
        ),
        sql.SQL("t as ({})").format(_insert("refresh_tokens", _TOKEN_VALUES, shape.tables["refresh_tokens"])),
    ]
    if "mfa_amr_claims" in shape.tables:
        amr = _insert("mfa_amr_claims", _AMR_VALUES, shape.tables["mfa_amr_claims"])
        parts.append(sql.SQL("a as ({})").format(amr))
    if "last_sign_in_at" in shape.tables.get("users", ()):
        signed = "update auth.users x set last_sign_in_at = now() from s where x.id = s.user_id returning x.*"
    else:
        signed = "select x.* from auth.users x join s on x.id = s.user_id"
    parts.append(sql.SQL("signed as ({})").format(sql.SQL(signed)))
    return sql.SQL("with {} select to_jsonb(signed) - {} from signed").format(
        sql.SQL(", ").join(parts), sql.Literal(list(SECRET_COLUMNS))
    )


SET_PASSWORD = sql.SQL(
    "update auth.users set encrypted_password = %(hash)s, updated_at = now()"
    " where id = %(user)s and pitstop.is_test_user(%(user)s) returning id"
)
