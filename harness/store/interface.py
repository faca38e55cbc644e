"""What every store offers (``Store``), what a direct database connection adds (``DatabaseStore``),
and what it takes to make a test user (``NewUser``) or a named state (``SeedState``).

The store modules import these from here, not from ``harness.store``, which
opens them: so no store module imports the package that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict
from uuid import UUID

from harness.json_types import JSON
from harness.rules.model.catalog import Catalog
from harness.rules.model.declaration import Model
from harness.store.safety import Endpoint

if TYPE_CHECKING:
    import psycopg


class NewUser(TypedDict):
    """A test user to create; the password is already hashed (bcrypt)."""

    email: str
    password_hash: str
    full_name: str
    role: str
    metadata: JSON


class SeedState(TypedDict):
    """One named state to write, in the model's words (``harness.engine.handle`` maps states.json's roles)."""

    customer: UUID
    mechanic: UUID | None  # a test user, or a test mechanic when the model has a mechanics table
    status: str  # a word of sessions.status
    request: str | None  # a word of requests.status; None: no request
    # The state's request role (states.json: pending, accepted, expired, cancelled), which its rows
    # in the declared queues follow; None: the session is in no queue (no mechanic can accept it).
    queued: str | None
    plan: str
    age_s: float
    vehicle: JSON


@dataclass(frozen=True)
class RunInfo:
    """What a run's lease says of it (``harness.engine.lease``)."""

    run: str
    host: str
    pid: int
    shard: str | None
    ci_job: str | None
    lease_seconds: int


class Store(Protocol):
    """The verbs every transport offers; see the SQL functions of the same names."""

    name: str

    def database(self) -> DatabaseStore | None:
        """This store as a direct database connection, for what only one can do (install the rules,
        seed named states, keep test mechanics in a table); None for a store that reaches the rules
        another way (an API)."""
        ...

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

    def set_test_user_password(self, user_id: UUID, password: str) -> bool:
        """Give a test user a new password (for Supabase Auth's password grant); False: not a test user."""
        ...

    def test_users(self) -> list[JSON]: ...

    def active_sessions(self, user_ids: list[UUID]) -> list[JSON]:
        """The users' pending, waiting and live sessions, as ``sessions`` shows them."""
        ...

    def sessions(self, session_ids: list[UUID]) -> list[JSON]:
        """Sessions as a step sees them (``pitstop.sessions``): ids, status, ``created_at``, the row,
        the request (or queue) row, the customer and the mechanic (id, email, name)."""
        ...

    def user_rows(self, user_ids: list[UUID]) -> JSON: ...

    def purge_users(self, user_ids: list[UUID]) -> list[JSON]: ...

    def hold_run(self, lease: RunInfo) -> JSON:
        """Take or renew ``lease`` in the target (``harness.engine.lease``)."""
        ...

    def end_run(self, run: str, *, expired: bool = False) -> JSON:
        """End ``run``'s lease; ``expired``: only if it is still expired (a sweep's)."""
        ...

    def runs(self) -> list[JSON]:
        """The leases in the target, alive or expired, with what each run still owns."""
        ...

    def close(self) -> None: ...


class DatabaseStore(Store, Protocol):
    """What a direct database connection adds to the verbs (``Store.database``)."""

    model: Model

    @property
    def connection(self) -> psycopg.Connection[Any]: ...

    def install(self, *, test_domain: str, with_app_schema: bool = False) -> Catalog: ...

    def catalog(self) -> Catalog: ...

    def installed(self) -> dict[str, str]: ...

    def seed_session(self, state: SeedState) -> JSON | None: ...

    def open_auth_session(
        self, user_id: UUID, *, session_id: UUID, refresh_token: str, user_agent: str
    ) -> JSON | None:
        """Write a password sign-in's Supabase Auth session for a test user; the user (no secrets),
        or None when it is not a test user (``harness.store.auth_sessions``)."""
        ...

    def register_mechanic(
        self, mechanic_id: UUID, *, run: str, worker: str, host: str | None = None, pid: int | None = None
    ) -> JSON: ...

    def delete_test_mechanic(self, mechanic_id: UUID) -> JSON: ...

    def test_mechanics(self) -> list[JSON]: ...
