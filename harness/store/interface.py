"""What every store offers (``Store``) and what it takes to make a test user (``NewUser``).

The store modules import these from here, not from ``harness.store``, which
opens them: so no store module imports the package that imports it.
"""

from __future__ import annotations

from typing import Protocol, TypedDict
from uuid import UUID

from harness.json_types import JSON
from harness.store.safety import Endpoint


class NewUser(TypedDict):
    """A test user to create; the password is already hashed (bcrypt)."""

    email: str
    password_hash: str
    full_name: str
    role: str
    metadata: JSON


class Store(Protocol):
    """The verbs every transport offers; see the SQL functions of the same names."""

    name: str

    @property
    def endpoint(self) -> Endpoint: ...

    def describe(self) -> str: ...

    def purge_user(self, user_id: UUID, *, dry_run: bool = False) -> JSON: ...

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> JSON: ...

    def force_cancel(self, session_id: UUID) -> JSON: ...

    def customer_session_status(self, customer_id: UUID, *, minutes: int = 15) -> JSON: ...

    def health(self, *, stale_minutes: int = 15, very_stale_minutes: int = 60) -> JSON: ...

    def find_user(self, email: str) -> UUID | None: ...

    def create_test_user(self, user: NewUser) -> UUID: ...

    def delete_test_user(self, user_id: UUID) -> JSON: ...

    def test_users(self) -> list[JSON]: ...

    def active_sessions(self, user_ids: list[UUID]) -> list[JSON]: ...

    def user_rows(self, user_ids: list[UUID]) -> JSON: ...

    def purge_users(self, user_ids: list[UUID]) -> list[JSON]: ...

    def close(self) -> None: ...
