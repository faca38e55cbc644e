"""The same behaviour through every store that runs here: postgres and api, on the embedded stack.

Both stores reach the same database: the postgres store through the pitstop
functions, the api store through the reference app's debug API and its own
cleanup module. (The supabase store runs these behaviours against recorded
exchanges: tests/test_supabase_store.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest

from harness.engine.personas import Personas
from harness.errors import BadInput, Refused, Unsupported
from harness.rules.health import Health
from harness.stack.embedded import StackInfo
from harness.store import Store
from harness.store.api import ApiStore
from harness.store.postgres import PostgresStore
from tests.conftest import PASSWORD, PASSWORD_HASH
from tests.seeding import Seeder

UNKNOWN = UUID("00000000-0000-4000-8000-000000000000")

User = Callable[..., UUID]


@pytest.fixture(params=["postgres", "api"])
def subject(request: pytest.FixtureRequest, stack_store: PostgresStore) -> Store:
    if request.param == "postgres":
        return stack_store
    store: ApiStore = request.getfixturevalue("api_store")
    return store


@pytest.fixture
def user(subject: Store, stack_seed: Seeder) -> User:
    """A user with a password; the api store signs in as it (that is how it purges)."""

    def make(role: str = "customer", *, test: bool = True) -> UUID:
        user_id = stack_seed.user(role=role, test=test, password_hash=PASSWORD_HASH)
        if isinstance(subject, ApiStore) and test:
            email = stack_seed.conn.execute(
                "select email from auth.users where id = %s", (user_id,)
            ).fetchone()
            assert email is not None
            assert subject.sign_in(email[0], PASSWORD) == user_id
        return user_id

    return make


def test_purge_deletes_a_test_users_session_state_and_counts_it(
    subject: Store, user: User, stack_seed: Seeder
) -> None:
    customer, mechanic = user(), user("mechanic")
    stack_seed.full_session(customer, mechanic, status="live", request="accepted")
    stack_seed.session(customer, status="waiting", age_minutes=30)
    counts = subject.purge_user(customer)
    assert counts == {
        "user_id": str(customer),
        "sessions": 2,
        "session_requests": 2,
        "session_participants": 2,
        "session_files": 1,
        "chat_messages": 2,
        "kept": 0,
        "tables": {
            "public.sessions": 2,
            "public.session_requests": 2,
            "public.session_participants": 2,
            "public.session_files": 1,
            "public.chat_messages": 2,
        },
    }
    assert stack_seed.count("public.sessions") == 0 and stack_seed.count("public.chat_messages") == 0


def test_a_dry_run_purge_counts_the_same_and_changes_nothing(
    subject: Store, user: User, stack_seed: Seeder
) -> None:
    customer = user()
    stack_seed.full_session(customer, status="waiting")
    before = stack_seed.snapshot()
    dry = subject.purge_user(customer, dry_run=True)
    assert stack_seed.snapshot() == before
    assert subject.purge_user(customer) == dry
    assert dry["sessions"] == 1 and dry["chat_messages"] == 1


def test_purge_refuses_a_user_without_the_test_marks(subject: Store, user: User, stack_seed: Seeder) -> None:
    real = user(test=False)
    stack_seed.session(real, status="waiting")
    before = stack_seed.snapshot()
    with pytest.raises(Refused, match="not a test user"):
        if isinstance(subject, ApiStore):
            email = stack_seed.conn.execute("select email from auth.users where id = %s", (real,)).fetchone()
            assert email is not None
            subject.sign_in(email[0], PASSWORD)  # the app already refuses to look at a real user
        subject.purge_user(real)
    assert stack_seed.snapshot() == before


def test_purge_users_purges_each_in_order(subject: Store, user: User, stack_seed: Seeder) -> None:
    first, second = user(), user()
    stack_seed.session(first)
    stack_seed.session(second)
    stack_seed.session(second, status="completed", request="accepted")
    counts = subject.purge_users([first, second])
    assert [(c["user_id"], c["sessions"]) for c in counts] == [(str(first), 1), (str(second), 2)]


def test_cleanup_expires_and_cancels_by_age_and_never_deletes(
    subject: Store, user: User, stack_seed: Seeder
) -> None:
    customer = user()
    old = stack_seed.session(customer, status="waiting", age_minutes=16)
    fresh = stack_seed.session(customer, status="waiting", age_minutes=1)
    orphan = stack_seed.session(customer, status="pending", age_minutes=21, request=None)
    live = stack_seed.session(customer, status="live", age_minutes=90, request="accepted")
    counts = subject.cleanup_stale(waiting_minutes=15, orphan_minutes=20)
    assert counts == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 2,
        "orphans_cancelled": 1,
    }
    assert [stack_seed.status(s.session) for s in (old, fresh, orphan, live)] == [
        "cancelled",
        "waiting",
        "cancelled",
        "live",
    ]
    assert stack_seed.count("public.sessions") == 4


def test_a_dry_run_cleanup_counts_the_same_and_changes_nothing(
    subject: Store, user: User, stack_seed: Seeder
) -> None:
    stack_seed.session(user(), status="waiting", age_minutes=40)
    before = stack_seed.snapshot()
    dry = subject.cleanup_stale(waiting_minutes=30, orphan_minutes=30, dry_run=True)
    assert stack_seed.snapshot() == before
    assert (
        subject.cleanup_stale(waiting_minutes=30, orphan_minutes=30)
        == dry
        == {
            "requests_expired": 1,
            "requests_cancelled": 0,
            "sessions_cancelled": 1,
            "orphans_cancelled": 0,
        }
    )


def test_force_cancel_ends_a_stuck_session_once(subject: Store, user: User, stack_seed: Seeder) -> None:
    seeded = stack_seed.session(user(), status="waiting")
    assert subject.force_cancel(seeded.session) == {
        "session_id": str(seeded.session),
        "previous_status": "waiting",
        "requests_cancelled": 1,
    }
    with pytest.raises(BadInput, match="already ended"):
        subject.force_cancel(seeded.session)
    with pytest.raises(BadInput, match="unknown session"):
        subject.force_cancel(UNKNOWN)


def test_health_counts_stale_state_and_words_problems_as_pitstop(
    subject: Store, user: User, stack_seed: Seeder
) -> None:
    customer = user()
    stack_seed.session(customer, status="waiting", age_minutes=70)
    stack_seed.session(customer, status="pending", age_minutes=20, request=None)
    stack_seed.session(customer, status="live", request="accepted")
    health = Health(subject.health(stale_minutes=15, very_stale_minutes=60))
    assert health.sessions("waiting") == {"total": 1, "stale": 1, "veryStale": 1}
    assert health.sessions("pending") == {"total": 1, "stale": 1, "veryStale": 0}
    assert health.requests("pending") == {"total": 1, "stale": 1}
    assert health.data["orphans"] == 1
    assert [(p.code, p.count) for p in health.problems] == [
        ("stale_waiting", 2),
        ("very_stale_waiting", 1),
        ("stale_pending_requests", 1),
        ("orphaned_sessions", 1),
        ("live_without_mechanic", 1),
    ]
    assert health.problems[0].message.endswith("run pitstop cleanup")


def test_health_refuses_inverted_thresholds(subject: Store) -> None:
    with pytest.raises(BadInput, match="very_stale_minutes"):
        subject.health(stale_minutes=30, very_stale_minutes=10)


def test_the_api_store_says_which_stores_can_do_what_it_cannot(api_store: ApiStore) -> None:
    user, _ = Personas(run_id="r", worker_id="w", test_domain="pitstop.test", seed="s").build("c", "customer")
    for call in (
        lambda: api_store.create_test_user(user),
        lambda: api_store.test_users(),
        lambda: api_store.delete_test_user(UNKNOWN),
        lambda: api_store.active_sessions([UNKNOWN]),
        lambda: api_store.user_rows([UNKNOWN]),
        lambda: api_store.customer_session_status(UNKNOWN),
    ):
        with pytest.raises(Unsupported) as caught:
            call()
        assert "api store cannot" in caught.value.message
        assert caught.value.fix is not None and "--database-url" in caught.value.fix


def test_the_api_store_purges_only_users_it_signed_in_as(api_store: ApiStore) -> None:
    with pytest.raises(BadInput, match="signing in") as caught:
        api_store.purge_user(UNKNOWN)
    assert caught.value.fix is not None and "--password" in caught.value.fix


def test_the_api_store_reached_the_app_on_loopback(api_store: ApiStore, embedded: StackInfo) -> None:
    assert api_store.endpoint.host == "127.0.0.1"
    assert api_store.endpoint.address == "127.0.0.1"  # read from the connection, not the URL
    assert api_store.describe() == f"api {embedded.app_url}/api/debug"
