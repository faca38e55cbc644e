"""A schema of our own for the queue benchmark: sessions offered to mechanics through declared
queues instead of a requests table. One queue: assignments, keyed by session, with no customer
column; two: the same, and offers (several mechanics offered each session).

The rows are built as the reference schema's (``benchmarks.reset``): loaded with COPY, in
foreign-key order, with fresh ids every time.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from harness.rules.model import Model, load_model

SCHEMA = "dispatch"
DOMAIN = "pitstop.test"
# Insertion order is FK order, for COPY; created_at etc. are left to their defaults.
COLUMNS: dict[str, tuple[str, ...]] = {
    "auth.users": ("id", "email", "raw_user_meta_data"),
    f"{SCHEMA}.sessions": ("id", "customer_id", "mechanic_id", "plan", "status", "payment_intent_id"),
    f"{SCHEMA}.assignments": ("id", "session_id", "mechanic_id", "status"),
    f"{SCHEMA}.offers": ("id", "session_id", "mechanic_id", "status"),
    f"{SCHEMA}.participants": ("session_id", "user_id", "role"),
    f"{SCHEMA}.files": ("id", "session_id", "uploaded_by", "file_name", "storage_path"),
    f"{SCHEMA}.messages": ("id", "session_id", "sender_id", "body"),
}
# The app tables (what a purge may change), without offers when there is one queue.
QUEUE_TABLES = (f"{SCHEMA}.assignments", f"{SCHEMA}.offers")

Rows = dict[str, list[tuple[Any, ...]]]

SESSIONS = {
    "table": f"{SCHEMA}.sessions", "updated_at": "updated_at",
    "open": ["waiting"], "active": ["waiting", "live"], "live": ["live"],
    "done": ["completed"], "cancelled": "cancelled",
}  # fmt: skip
ASSIGNMENTS = {
    "table": f"{SCHEMA}.assignments", "session": "session_id", "mechanic": "mechanic_id",
    "updated_at": "updated_at", "open": ["queued", "offered"], "taken": ["accepted"],
    "done": ["declined"], "expired": "expired", "cancelled": "cancelled",
}  # fmt: skip
OFFERS = {
    "table": f"{SCHEMA}.offers", "session": "session_id", "mechanic": "mechanic_id",
    "created_at": "offered_at", "open": ["open"], "taken": ["accepted"], "done": ["declined"],
    "expired": "lapsed", "cancelled": "withdrawn", "holds": False,
}  # fmt: skip


def model(queues: int) -> Model:
    """The model: no requests table, and the first ``queues`` of assignments and offers."""
    declared = {"assignments": ASSIGNMENTS, "offers": OFFERS}
    return load_model(
        {
            "sessions": SESSIONS,
            "requests": {"table": ""},
            "queues": dict(list(declared.items())[:queues]),
        }
    )


def tables(queues: int) -> list[str]:
    """The schema's tables, without those of the queues it does not have."""
    return [t for t in COLUMNS if t not in QUEUE_TABLES[queues:]]


def ddl(queues: int) -> str:
    out = [
        f"create schema {SCHEMA};",
        f"""create table {SCHEMA}.sessions (
            id uuid primary key default gen_random_uuid(),
            customer_id uuid not null references auth.users, mechanic_id uuid references auth.users,
            plan text not null,
            status text not null check (status in ('waiting', 'live', 'completed', 'cancelled')),
            payment_intent_id text unique,
            created_at timestamptz not null default now(), ended_at timestamptz, updated_at timestamptz);
        create index on {SCHEMA}.sessions (customer_id);
        create index on {SCHEMA}.sessions (mechanic_id);
        create index on {SCHEMA}.sessions (status, created_at);""",
        f"""create table {SCHEMA}.assignments (
            id uuid primary key default gen_random_uuid(),
            session_id uuid not null references {SCHEMA}.sessions on delete cascade,
            mechanic_id uuid references auth.users,
            status text not null
                check (status in ('queued', 'offered', 'accepted', 'declined', 'expired', 'cancelled')),
            created_at timestamptz not null default now(), updated_at timestamptz);
        create index on {SCHEMA}.assignments (session_id);
        create index on {SCHEMA}.assignments (mechanic_id);
        create index on {SCHEMA}.assignments (status, created_at);""",
        f"""create table {SCHEMA}.participants (
            session_id uuid references {SCHEMA}.sessions on delete cascade,
            user_id uuid references auth.users, role text not null,
            primary key (session_id, user_id));
        create table {SCHEMA}.files (
            id uuid primary key default gen_random_uuid(),
            session_id uuid not null references {SCHEMA}.sessions on delete cascade,
            uploaded_by uuid references auth.users, file_name text not null, storage_path text not null);
        create index on {SCHEMA}.files (session_id);
        create table {SCHEMA}.messages (
            id uuid primary key default gen_random_uuid(),
            session_id uuid not null references {SCHEMA}.sessions on delete cascade,
            sender_id uuid not null references auth.users, body text not null,
            created_at timestamptz not null default now());
        create index on {SCHEMA}.messages (session_id, created_at);""",
    ]
    if queues > 1:
        out.append(
            f"""create table {SCHEMA}.offers (
                id uuid primary key default gen_random_uuid(),
                session_id uuid not null references {SCHEMA}.sessions on delete cascade,
                mechanic_id uuid not null references auth.users,
                status text not null
                    check (status in ('open', 'accepted', 'declined', 'lapsed', 'withdrawn')),
                offered_at timestamptz not null default now());
            create index on {SCHEMA}.offers (session_id);
            create index on {SCHEMA}.offers (mechanic_id);
            create index on {SCHEMA}.offers (status, offered_at);"""
        )
    return "\n".join(out)


def empty_rows(queues: int) -> Rows:
    return {table: [] for table in tables(queues)}


def add_user(rows: Rows, role: str, *, test: bool) -> UUID:
    uid = uuid4()
    email = f"{role}-{uid.hex[:8]}@{DOMAIN if test else 'example.com'}"
    rows["auth.users"].append((uid, email, '{"pitstop": true}' if test else "{}"))
    return uid


def add_sessions(rows: Rows, customer: UUID, mechanics: list[UUID], count: int) -> None:
    """``count`` sessions, the last one still waiting when there are several, the others completed.
    A completed one: 2 assignments (declined, then accepted), 2 participants, 1 file, 6 messages, and
    with offers 3 (1 accepted, 2 declined); a waiting one: 1 queued assignment, 3 open offers."""
    offers = f"{SCHEMA}.offers" in rows
    for i in range(count):
        sid, mechanic = uuid4(), mechanics[i % len(mechanics)]
        others = [m for m in mechanics if m != mechanic][:2]
        waiting = count > 1 and i == count - 1
        status = "waiting" if waiting else "completed"
        rows[f"{SCHEMA}.sessions"].append(
            (sid, customer, None if waiting else mechanic, "Quick Chat", status, f"pi_{sid.hex}")
        )
        if waiting:
            rows[f"{SCHEMA}.assignments"].append((uuid4(), sid, None, "queued"))
            if offers:
                rows[f"{SCHEMA}.offers"] += [(uuid4(), sid, m, "open") for m in (mechanic, *others)]
            continue
        rows[f"{SCHEMA}.assignments"] += [
            (uuid4(), sid, others[0], "declined"),
            (uuid4(), sid, mechanic, "accepted"),
        ]
        if offers:
            rows[f"{SCHEMA}.offers"] += [(uuid4(), sid, mechanic, "accepted")]
            rows[f"{SCHEMA}.offers"] += [(uuid4(), sid, m, "declined") for m in others]
        rows[f"{SCHEMA}.participants"] += [(sid, customer, "customer"), (sid, mechanic, "mechanic")]
        rows[f"{SCHEMA}.files"].append((uuid4(), sid, customer, "photo.jpg", f"sessions/{sid}.jpg"))
        rows[f"{SCHEMA}.messages"] += [
            (uuid4(), sid, (customer, mechanic)[m % 2], f"message {m}") for m in range(6)
        ]


def build_baseline(queues: int, testers: int = 2) -> tuple[Rows, list[UUID], list[UUID]]:
    """As the reference schema's background: 16 customers with 4 sessions each, served by 4
    mechanics, and the test users (no rows yet); (rows, mechanics, testers)."""
    baseline = empty_rows(queues)
    mechanics = [add_user(baseline, "mechanic", test=False) for _ in range(4)]
    for _ in range(16):
        add_sessions(baseline, add_user(baseline, "customer", test=False), mechanics, 4)
    return baseline, mechanics, [add_user(baseline, "customer", test=True) for _ in range(testers)]


def test_rows(queues: int, testers: list[UUID], mechanics: list[UUID]) -> Rows:
    """5 sessions per test user, with fresh ids each time, as a real test makes them."""
    rows = empty_rows(queues)
    for tester in testers:
        add_sessions(rows, tester, mechanics, 5)
    return rows


def purged(queues: int) -> dict[str, int]:
    """What one purge must report for one test user, by table (and nothing kept)."""
    rows = test_rows(queues, [uuid4()], [uuid4() for _ in range(4)])
    return {t: len(r) for t, r in rows.items() if t != "auth.users"} | {"kept": 0}
