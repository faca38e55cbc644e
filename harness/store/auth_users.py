"""Test users in ``auth.users``, written the way Supabase Auth (GoTrue) writes them.

A target's ``auth.users`` is Supabase Auth's own table, or a smaller one of an
app that imitates it. The shape is read from the catalog once per connection;
pitstop writes the columns that exist, with the values that let Supabase Auth's
password sign-in accept the user:

- it looks a user up by ``instance_id`` (nil), ``aud`` (``authenticated``),
  ``lower(email)`` and ``is_sso_user = false``;
- it reads the token columns into non-null strings and ``created_at``,
  ``updated_at``, ``aud`` and ``role`` into non-null fields: a NULL there is a
  500 "Database error querying schema";
- ``email_confirmed_at`` NULL is "Email not confirmed"; ``banned_until`` in
  the future is "User is banned";
- a user made by its admin API also has an ``auth.identities`` row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import bcrypt
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from harness.errors import BadInput

NIL_UUID = "00000000-0000-0000-0000-000000000000"
AUDIENCE = "authenticated"

# Supabase Auth (GoTrue) stores bcrypt hashes as $2a$; a hash made the same way lets a real
# sign-in work against it, whatever its cost (the cost is read from the hash). Its own are cost
# 10 (~95 ms each here); a test user's random password needs none of that protection, and every
# worker makes its users anew, so cost 4 (~1.5 ms).
BCRYPT_PREFIX = b"2a"
BCRYPT_ROUNDS = 4

# What pitstop cannot do without: a user's id, its email (the first test mark)
# and its metadata (the second).
REQUIRED = ("id", "email", "raw_user_meta_data")

# The columns Supabase Auth reads into non-null values, and what it writes there
# for a confirmed email user: empty strings for the tokens, never NULL.
EMPTY_TOKENS = (
    "confirmation_token",
    "recovery_token",
    "email_change_token_new",
    "email_change",
    "email_change_token_current",
    "phone_change",
    "phone_change_token",
    "reauthentication_token",
)
# Column -> SQL expression, for the columns that exist. Password and metadata
# are parameters; everything else is what GoTrue's admin API writes.
_GOTRUE_VALUES: dict[str, sql.Composable] = {
    "instance_id": sql.Literal(NIL_UUID),
    "aud": sql.Literal(AUDIENCE),
    "role": sql.Literal(AUDIENCE),
    "email_confirmed_at": sql.SQL("now()"),
    "created_at": sql.SQL("now()"),
    "updated_at": sql.SQL("now()"),
    "raw_app_meta_data": sql.Literal(Jsonb({"provider": "email", "providers": ["email"]})),
    "is_sso_user": sql.Literal(False),
    "is_anonymous": sql.Literal(False),
    "email_change_confirm_status": sql.Literal(0),
    "banned_until": sql.NULL,
    "deleted_at": sql.NULL,
    **{column: sql.Literal("") for column in EMPTY_TOKENS},
}
# Kept when a user is made again (a restarted worker gets its user back); the rest is refreshed.
_KEPT = ("id", "email", "instance_id", "created_at", "is_sso_user", "is_anonymous")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS, BCRYPT_PREFIX)).decode()


@dataclass(frozen=True)
class AuthShape:
    """The columns of a target's ``auth.users`` and whether ``auth.identities`` is there."""

    columns: frozenset[str]
    id_has_default: bool
    identities: frozenset[str]  # the columns of auth.identities; empty when there is none

    @property
    def missing(self) -> tuple[str, ...]:
        """What pitstop needs and the table lacks (all of it when there is no table)."""
        return tuple(c for c in REQUIRED if c not in self.columns)

    @property
    def is_supabase(self) -> bool:
        """Supabase Auth's table: every column its password sign-in reads is there."""
        return {"instance_id", "aud", "is_sso_user", *EMPTY_TOKENS} <= self.columns

    @property
    def sign_in_gaps(self) -> tuple[str, ...]:
        """Columns Supabase Auth's sign-in reads that this table lacks (for ``doctor``)."""
        wanted = ("instance_id", "aud", "role", "encrypted_password", "email_confirmed_at", *EMPTY_TOKENS)
        return tuple(c for c in wanted if c not in self.columns)

    def describe(self) -> str:
        if not self.columns:
            return "no auth.users table"
        if self.is_supabase:
            return "Supabase Auth's auth.users" + (" with auth.identities" if self.identities else "")
        return f"a smaller auth.users ({len(self.columns)} columns: {', '.join(sorted(self.columns))})"

    def check(self) -> None:
        """Refuse a table pitstop cannot write test users into, naming what is missing."""
        if not self.columns:
            raise BadInput(
                "the database has no auth.users table",
                fix="point pitstop at the app's Supabase database, or create the platform on a blank "
                "database with `pitstop install --with-app-schema`",
            )
        if self.missing:
            raise BadInput(
                f"auth.users lacks what pitstop needs: {', '.join(self.missing)}",
                fix="pitstop needs auth.users(id uuid, email text, raw_user_meta_data jsonb), as "
                "Supabase Auth has them; add the missing columns or point pitstop at the right database",
            )


def read_shape(conn: psycopg.Connection[Any]) -> AuthShape:
    rows = conn.execute(
        """
        select c.relname, a.attname, a.atthasdef
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'auth' and c.relname in ('users', 'identities')
          and a.attnum > 0 and not a.attisdropped
        """
    ).fetchall()
    users = {name: has_default for table, name, has_default in rows if table == "users"}
    identities = frozenset(name for table, name, _ in rows if table == "identities")
    return AuthShape(frozenset(users), bool(users.get("id")), identities)


def create_user_statement(shape: AuthShape) -> sql.Composed:
    """One statement: find the user by email (as Supabase Auth does) or make it; returns its id.

    Parameters: ``email``, ``password_hash``, ``metadata`` (Jsonb) and ``id``
    (the id of a new user; None for a new uuid, as Supabase Auth makes one).

    No ``on conflict``: Supabase's table has only a partial unique index on
    email, and a smaller one may have none. Each worker makes its own emails,
    so no two writers race for one.
    """
    shape.check()
    present = [c for c in _GOTRUE_VALUES if c in shape.columns]
    values: dict[str, sql.Composable] = {c: _GOTRUE_VALUES[c] for c in present}
    values["id"] = sql.SQL("coalesce(%(id)s::uuid, gen_random_uuid())")
    values["email"] = sql.Placeholder("email")
    values["raw_user_meta_data"] = sql.Placeholder("metadata")
    if "encrypted_password" in shape.columns:
        values["encrypted_password"] = sql.Placeholder("password_hash")
    lookup: sql.Composable = sql.SQL("lower(email) = lower(%(email)s)")
    if "is_sso_user" in shape.columns:
        lookup = sql.SQL("{} and not is_sso_user").format(lookup)
    refreshed = [c for c in values if c not in _KEPT]
    return sql.SQL(
        """
        with found as (
            select id from auth.users where {lookup} order by id limit 1 for update
        ), updated as (
            update auth.users u set {assignments} from found where u.id = found.id returning u.id
        ), inserted as (
            insert into auth.users ({columns})
            select {values} where not exists (select from found)
            returning id
        )
        select id from updated union all select id from inserted
        """
    ).format(
        lookup=lookup,
        assignments=sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), values[c]) for c in refreshed
        ),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in values),
        values=sql.SQL(", ").join(values.values()),
    )


def create_identity_statement(shape: AuthShape) -> sql.Composed | None:
    """The email identity Supabase Auth's admin API makes with a user, or None without the table.

    Today's table keys an identity by ``(provider_id, provider)``; before
    2023 its ``id`` was the provider id (text) and there was no ``provider_id``.
    """
    if not shape.identities:
        return None
    values: dict[str, sql.Composable] = {
        "user_id": sql.Placeholder("user_id"),
        "provider": sql.Literal("email"),
        "identity_data": sql.SQL(
            "jsonb_build_object('sub', %(user_id)s::text, 'email', lower(%(email)s),"
            " 'email_verified', true, 'phone_verified', false)"
        ),
        "last_sign_in_at": sql.SQL("now()"),
        "created_at": sql.SQL("now()"),
        "updated_at": sql.SQL("now()"),
    }
    key = "provider_id" if "provider_id" in shape.identities else "id"
    values[key] = sql.SQL("%(user_id)s::text")
    present = {c: v for c, v in values.items() if c in shape.identities}
    return sql.SQL(
        "insert into auth.identities ({columns}) select {values}"
        " where not exists (select from auth.identities where user_id = %(user_id)s and provider = 'email')"
    ).format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in present),
        values=sql.SQL(", ").join(present.values()),
    )
