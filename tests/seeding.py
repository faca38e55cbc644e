"""Rows for the rule tests, written straight into the app's tables.

Ages are relative to the database clock (``now() - age``), so a row seeded
"15.1 minutes old" is that old when the rule under test reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from harness.store import auth_users

# Every table of the reference app (TRUNCATE … CASCADE takes them in any order).
APP_TABLES = (
    "auth.users",
    "public.profiles",
    "public.sessions",
    "public.session_requests",
    "public.session_participants",
    "public.session_files",
    "public.chat_messages",
)

# Columns that identify a row and its state, per table, for snapshots.
SNAPSHOT_COLUMNS = {
    "public.sessions": "id, customer_id, mechanic_id, status, started_at, ended_at",
    "public.session_requests": "id, session_id, customer_id, status, accepted_by",
    "public.session_participants": "session_id, user_id, role",
    "public.session_files": "id, session_id, uploaded_by",
    "public.chat_messages": "id, session_id, sender_id",
    "public.profiles": "id, role",
    "auth.users": "id, email",
}


def truncate_all(conn: psycopg.Connection[Any], attempts: int = 3) -> None:
    """Empty every app table. An app server on the same database (a late webhook, say) can
    deadlock with TRUNCATE's table locks; PostgreSQL then aborts one side, so try again."""
    for attempt in range(attempts):
        try:
            conn.execute(f"truncate {', '.join(APP_TABLES)} cascade")
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == attempts - 1:
                raise


@dataclass(frozen=True)
class Seeded:
    session: UUID
    request: UUID | None


class Seeder:
    def __init__(self, conn: psycopg.Connection[Any], domain: str = "pitstop.test") -> None:
        self.conn = conn
        self.domain = domain
        self._user_sql: sql.Composed | None = None

    def user(
        self,
        *,
        test: bool = True,
        email: str | None = None,
        metadata: dict[str, Any] | None = None,
        role: str = "customer",
        password_hash: str | None = None,
        full_name: str | None = None,
    ) -> UUID:
        """A user as Supabase Auth writes one (``harness.store.auth_users``), with its profile."""
        tag = uuid4().hex[:10]
        if email is None:
            email = f"{role}-{tag}@{self.domain}" if test else f"{role}-{tag}@example.com"
        if metadata is None:
            metadata = {"pitstop": True} if test else {}
        if self._user_sql is None:
            self._user_sql = auth_users.create_user_statement(auth_users.read_shape(self.conn))
        params = {"email": email, "password_hash": password_hash, "metadata": Jsonb(metadata), "id": None}
        row = self.conn.execute(self._user_sql, params).fetchone()
        assert row is not None
        self.conn.execute(
            "insert into public.profiles (id, role, full_name) values (%s, %s, %s)",
            (row[0], role, full_name or f"{role.title()} {tag}"),
        )
        return UUID(str(row[0]))

    def session(
        self,
        customer: UUID,
        *,
        status: str = "waiting",
        age_minutes: float = 0,
        mechanic: UUID | None = None,
        request: str | None = "pending",
        request_age_minutes: float | None = None,
        plan: str = "Quick Chat",
    ) -> Seeded:
        """A session and (unless ``request`` is None) its request, ``age_minutes`` old."""
        row = self.conn.execute(
            "insert into public.sessions (customer_id, mechanic_id, plan, status, created_at, started_at)"
            " values (%s, %s, %s, %s, now() - make_interval(secs => %s),"
            " case when %s in ('live', 'completed') then now() end) returning id",
            (customer, mechanic, plan, status, age_minutes * 60, status),
        ).fetchone()
        assert row is not None
        session_id = UUID(str(row[0]))
        request_id = None
        if request is not None:
            request_id = self.request(
                customer,
                session=session_id,
                status=request,
                age_minutes=age_minutes if request_age_minutes is None else request_age_minutes,
                accepted_by=mechanic if request == "accepted" else None,
            )
        return Seeded(session_id, request_id)

    def request(
        self,
        customer: UUID,
        *,
        session: UUID | None = None,
        status: str = "pending",
        age_minutes: float = 0,
        accepted_by: UUID | None = None,
        plan: str = "Quick Chat",
    ) -> UUID:
        row = self.conn.execute(
            "insert into public.session_requests"
            " (session_id, customer_id, plan, status, vehicle, created_at, accepted_by)"
            " values (%s, %s, %s, %s, %s, now() - make_interval(secs => %s), %s) returning id",
            (session, customer, plan, status, Jsonb({"make": "Honda"}), age_minutes * 60, accepted_by),
        ).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    def participant(self, session: UUID, user: UUID, role: str = "customer") -> None:
        self.conn.execute(
            "insert into public.session_participants (session_id, user_id, role) values (%s, %s, %s)",
            (session, user, role),
        )

    def message(self, session: UUID, sender: UUID, body: str = "hello") -> UUID:
        row = self.conn.execute(
            "insert into public.chat_messages (session_id, sender_id, body) values (%s, %s, %s) returning id",
            (session, sender, body),
        ).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    def file(self, session: UUID, uploader: UUID) -> UUID:
        row = self.conn.execute(
            "insert into public.session_files (session_id, uploaded_by, file_name, storage_path)"
            " values (%s, %s, 'photo.jpg', 'sessions/photo.jpg') returning id",
            (session, uploader),
        ).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    def full_session(self, customer: UUID, mechanic: UUID | None = None, **kwargs: Any) -> Seeded:
        """A session with a request, participants, a file and messages from both sides."""
        seeded = self.session(customer, mechanic=mechanic, **kwargs)
        self.participant(seeded.session, customer, "customer")
        self.message(seeded.session, customer)
        self.file(seeded.session, customer)
        if mechanic is not None:
            self.participant(seeded.session, mechanic, "mechanic")
            self.message(seeded.session, mechanic, "hi there")
        return seeded

    def status(self, session: UUID) -> str:
        row = self.conn.execute("select status from public.sessions where id = %s", (session,)).fetchone()
        assert row is not None
        return str(row[0])

    def request_status(self, request: UUID) -> str:
        row = self.conn.execute(
            "select status from public.session_requests where id = %s", (request,)
        ).fetchone()
        assert row is not None
        return str(row[0])

    def count(self, table: str, where: str = "true", params: tuple[Any, ...] = ()) -> int:
        row = self.conn.execute(f"select count(*) from {table} where {where}", params).fetchone()
        assert row is not None
        return int(row[0])

    def snapshot(self) -> dict[str, set[tuple[Any, ...]]]:
        """Every app row (identity and state), per table."""
        return {
            table: set(self.conn.execute(f"select {columns} from {table}").fetchall())
            for table, columns in SNAPSHOT_COLUMNS.items()
        }
