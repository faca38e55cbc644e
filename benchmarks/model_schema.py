"""A schema of our own for the model benchmark: sessions and requests under other names, and
20 child tables up to depth 3 with every ON DELETE action, in a schema other than public."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg.types.json import Jsonb

from harness.rules.model import Model, load_model
from harness.store import auth_users

SCHEMA = "garage"
# (table, parent, on delete): 8 tables under jobs, 8 under those, 4 at depth 3. Set-null keys
# only on leaves: their rows stay (with a NULL parent) and nothing hangs below them.
CHILDREN: list[tuple[str, str, str]] = (
    [(f"job_part_{i}", "jobs", ("cascade", "no action")[i % 2]) for i in range(8)]
    + [
        (f"job_note_{i}", f"job_part_{i}", "set null" if i in (5, 7) else ("no action", "cascade")[i % 2])
        for i in range(8)
    ]
    + [
        (f"job_mark_{i}", f"job_note_{i}", ("set null", "cascade", "no action", "restrict")[i])
        for i in range(4)
    ]
)
NULLED = [f"{SCHEMA}.{t}" for t, _, action in CHILDREN if action == "set null"]
MODEL: Model = load_model(
    {
        "sessions": {
            "table": f"{SCHEMA}.jobs", "customer": "client_id", "mechanic": "fixer_id",
            "status": "state", "created_at": "opened_at", "ended_at": "closed_at", "updated_at": "touched_at",
            "open": ["queued"], "active": ["queued", "underway"], "live": ["underway"],
            "done": ["finished"], "cancelled": "dropped",
        },
        "requests": {
            "table": f"{SCHEMA}.job_offers", "customer": "client_id", "mechanic": "taken_by",
            "session": "job_id", "status": "state", "created_at": "made_at",
            "pending": "open", "accepted": "taken", "expired": "lapsed", "cancelled": "withdrawn",
        },
    }
)  # fmt: skip


def ddl() -> str:
    out = [
        f"create schema {SCHEMA};",
        f"create type {SCHEMA}.job_state as enum ('queued', 'underway', 'finished', 'dropped');",
        f"""create table {SCHEMA}.jobs (
            id uuid primary key default gen_random_uuid(),
            client_id uuid not null references auth.users, fixer_id uuid references auth.users,
            state {SCHEMA}.job_state not null, opened_at timestamptz not null default now(),
            closed_at timestamptz, touched_at timestamptz);""",
        f"""create table {SCHEMA}.job_offers (
            id uuid primary key default gen_random_uuid(),
            job_id uuid references {SCHEMA}.jobs on delete cascade,
            client_id uuid not null references auth.users, taken_by uuid references auth.users,
            state text not null check (state in ('open', 'taken', 'lapsed', 'withdrawn')),
            made_at timestamptz not null default now());""",
    ]
    for table, parent, action in CHILDREN:
        out.append(
            f"""create table {SCHEMA}.{table} (
                id uuid primary key default gen_random_uuid(),
                parent_id uuid references {SCHEMA}.{parent} on delete {action},
                body text not null default 'x');
            create index on {SCHEMA}.{table} (parent_id);"""
        )
    return "\n".join(out)


def make_user(conn: psycopg.Connection[Any], *, test: bool) -> UUID:
    """A user in ``auth.users`` as the harness writes one (``harness.store.auth_users``); with both test
    marks (an email in the test domain, ``{"pitstop": true}``) when ``test``."""
    uid = uuid4()
    domain = "pitstop.test" if test else "example.com"
    row = conn.execute(
        auth_users.create_user_statement(auth_users.read_shape(conn)),
        {
            "id": uid,
            "email": f"{uid.hex[:10]}@{domain}",
            "password_hash": None,
            "metadata": Jsonb({"pitstop": True} if test else {}),
        },
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def seed_jobs(conn: psycopg.Connection[Any], uid: UUID, *, jobs: int = 2, per_table: int = 1) -> int:
    """``jobs`` jobs of ``uid``, an offer each, and ``per_table`` rows per child per parent row;
    returns how many rows that is."""
    rows = 0
    for _ in range(jobs):
        row = conn.execute(
            f"insert into {SCHEMA}.jobs (client_id, state) values (%s, 'queued') returning id", (uid,)
        ).fetchone()
        assert row is not None
        conn.execute(f"insert into {SCHEMA}.job_offers (job_id, client_id, state) values (%s, %s, 'open')",
                     (row[0], uid))  # fmt: skip
        rows += 2
        parents = {"jobs": [row[0]]}
        for table, parent, _ in CHILDREN:
            ids = []
            for parent_id in parents[parent]:
                for _ in range(per_table):
                    made = conn.execute(
                        f"insert into {SCHEMA}.{table} (parent_id) values (%s) returning id", (parent_id,)
                    ).fetchone()
                    assert made is not None
                    ids.append(made[0])
            rows += len(ids)
            parents[table] = ids
    return rows


def tables() -> list[str]:
    return [f"{SCHEMA}.jobs", f"{SCHEMA}.job_offers", *(f"{SCHEMA}.{t}" for t, _, _ in CHILDREN)]
