"""The cleanup rules in SQL, through the postgres store, at their boundaries."""

from __future__ import annotations

from uuid import uuid4

import psycopg
import pytest

from harness.errors import BadInput, Refused
from harness.rules.model import Model
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder

JUST_UNDER = 14.9  # minutes: within the default 15-minute threshold
JUST_OVER = 15.1


# -- purge_user --------------------------------------------------------------


def test_purge_deletes_a_customers_sessions_and_everything_in_them(
    store: PostgresStore, seed: Seeder
) -> None:
    customer = seed.user()
    mechanic = seed.user(role="mechanic")
    seed.full_session(customer, mechanic, status="live", request="accepted")
    seed.full_session(customer, status="waiting")
    seed.request(customer, status="expired")  # a request with no session

    counts = store.purge_user(customer)

    assert counts == {
        "user_id": str(customer),
        "sessions": 2,
        "session_requests": 3,
        "session_participants": 3,
        "session_files": 2,
        "chat_messages": 3,
        "kept": 0,
        "tables": {
            "public.sessions": 2,
            "public.session_requests": 3,
            "public.session_participants": 3,
            "public.session_files": 2,
            "public.chat_messages": 3,
        },
    }
    assert seed.count("public.sessions") == 0
    assert seed.count("public.session_requests") == 0
    assert seed.count("auth.users") == 2  # users stay: purge is of session state


def test_purge_of_a_mechanic_removes_sessions_of_test_customers_only(
    store: PostgresStore, seed: Seeder
) -> None:
    mechanic = seed.user(role="mechanic")
    test_customer = seed.user()
    real_customer = seed.user(test=False)
    purged = seed.full_session(test_customer, mechanic, status="live", request="accepted")
    kept = seed.full_session(real_customer, mechanic, status="live", request="accepted")
    before = seed.snapshot()

    counts = store.purge_user(mechanic)

    assert counts["sessions"] == 1 and counts["kept"] == 1
    assert seed.count("public.sessions", "id = %s", (purged.session,)) == 0
    after = seed.snapshot()
    # Nothing of the real customer's session changed, the mechanic's rows in it included.
    for table, rows in before.items():
        real_rows = {r for r in rows if kept.session in r or real_customer in r}
        assert real_rows <= after[table], table


def test_purge_leaves_other_test_users_alone(store: PostgresStore, seed: Seeder) -> None:
    alice, bob = seed.user(), seed.user()
    seed.full_session(alice)
    bobs = seed.full_session(bob)

    store.purge_user(alice)

    assert seed.status(bobs.session) == "waiting"
    assert seed.count("public.chat_messages", "session_id = %s", (bobs.session,)) == 1


def test_purge_with_nothing_to_purge_returns_zero_counts(store: PostgresStore, seed: Seeder) -> None:
    counts = store.purge_user(seed.user())
    assert counts["sessions"] == counts["session_requests"] == counts["kept"] == 0


@pytest.mark.parametrize(
    ("email", "metadata"),
    [
        ("someone@example.com", {}),
        ("someone@example.com", {"pitstop": True}),  # the metadata mark alone
        ("someone@pitstop.test", {}),  # the email mark alone
        ("someone@pitstop.test", {"pitstop": False}),
        ("someone@notpitstop.test", {"pitstop": True}),  # a domain that only ends the same
        ("someone@pitstop.test.example.com", {"pitstop": True}),
    ],
)
def test_purge_refuses_a_user_without_both_test_marks(
    store: PostgresStore, seed: Seeder, email: str, metadata: dict[str, object]
) -> None:
    user = seed.user(email=email, metadata=metadata)
    seed.full_session(user)
    before = seed.snapshot()

    with pytest.raises(Refused, match="not a test user") as refused:
        store.purge_user(user)

    assert "@pitstop.test" in (refused.value.fix or "")
    assert seed.snapshot() == before


def test_the_test_domain_is_matched_case_insensitively(store: PostgresStore, seed: Seeder) -> None:
    user = seed.user(email="Customer@PitStop.TEST")
    seed.session(user)
    assert store.purge_user(user)["sessions"] == 1


def test_purge_of_an_unknown_user_is_bad_input(store: PostgresStore) -> None:
    with pytest.raises(BadInput, match="unknown user"):
        store.purge_user(uuid4())


def test_purge_several_users_in_one_call(store: PostgresStore, seed: Seeder) -> None:
    a, b = seed.user(), seed.user()
    seed.full_session(a)
    seed.full_session(b)
    results = store.purge_users([a, b])
    assert [r["user_id"] for r in results] == [str(a), str(b)]
    assert seed.count("public.sessions") == 0


def test_purge_dry_run_counts_but_changes_nothing(store: PostgresStore, seed: Seeder) -> None:
    user = seed.user()
    seed.full_session(user)
    before = seed.snapshot()
    assert store.purge_user(user, dry_run=True)["sessions"] == 1
    assert seed.snapshot() == before


def test_delete_test_user_removes_the_user_too(store: PostgresStore, seed: Seeder) -> None:
    user = seed.user()
    seed.full_session(user)
    assert store.delete_test_user(user)["users"] == 1
    assert seed.count("auth.users") == 0 and seed.count("public.profiles") == 0


def test_delete_test_user_refuses_a_real_user(store: PostgresStore, seed: Seeder) -> None:
    user = seed.user(test=False)
    with pytest.raises(Refused):
        store.delete_test_user(user)
    assert seed.count("auth.users") == 1


def test_delete_test_user_that_wrote_in_a_real_session_changes_nothing(
    store: PostgresStore, seed: Seeder
) -> None:
    mechanic, customer = seed.user(role="mechanic"), seed.user()
    real = seed.full_session(seed.user(test=False), mechanic, status="live", request="accepted")
    seed.full_session(customer, mechanic, status="live", request="accepted")
    before = seed.snapshot()
    with pytest.raises(BadInput, match="not test users"):
        store.delete_test_user(mechanic)
    assert seed.snapshot() == before
    assert seed.status(real.session) == "live"


# -- cleanup_stale -------------------------------------------------------------


def test_pending_request_over_the_threshold_expires_and_cancels_its_session(
    store: PostgresStore, seed: Seeder
) -> None:
    customer = seed.user()
    old = seed.session(customer, age_minutes=JUST_OVER)
    young = seed.session(customer, age_minutes=JUST_UNDER)

    counts = store.cleanup_stale()

    assert counts == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
    }
    assert old.request and young.request
    assert seed.request_status(old.request) == "expired" and seed.status(old.session) == "cancelled"
    assert seed.request_status(young.request) == "pending" and seed.status(young.session) == "waiting"
    assert seed.count("public.sessions", "status = 'cancelled' and ended_at is not null") == 1


def test_an_old_request_cancels_its_session_even_when_the_session_is_young(
    store: PostgresStore, seed: Seeder
) -> None:
    seeded = seed.session(seed.user(), status="pending", age_minutes=1, request_age_minutes=JUST_OVER)
    store.cleanup_stale()
    assert seed.status(seeded.session) == "cancelled"


@pytest.mark.parametrize("status", ["waiting", "pending"])
def test_old_waiting_and_pending_sessions_are_cancelled(
    store: PostgresStore, seed: Seeder, status: str
) -> None:
    customer = seed.user()
    # An accepted request does not expire; the session's own age cancels it.
    old = seed.session(customer, status=status, age_minutes=JUST_OVER, request="accepted")
    young = seed.session(customer, status=status, age_minutes=JUST_UNDER, request="accepted")
    counts = store.cleanup_stale()
    assert counts["sessions_cancelled"] == 1 and counts["requests_expired"] == 0
    assert seed.status(old.session) == "cancelled" and seed.status(young.session) == status


def test_orphans_are_cancelled_at_their_own_threshold(store: PostgresStore, seed: Seeder) -> None:
    customer = seed.user()
    orphan_old = seed.session(customer, age_minutes=20.1, request=None)
    orphan_young = seed.session(customer, age_minutes=19.9, request=None)
    with_request = seed.session(customer, age_minutes=20.1, request="accepted")

    counts = store.cleanup_stale(waiting_minutes=60, orphan_minutes=20)

    assert counts == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 1,
    }
    assert seed.status(orphan_old.session) == "cancelled"
    assert seed.status(orphan_young.session) == "waiting"
    assert seed.status(with_request.session) == "waiting"


@pytest.mark.parametrize("status", ["live", "completed", "cancelled"])
def test_cleanup_never_touches_live_or_ended_sessions(
    store: PostgresStore, seed: Seeder, status: str
) -> None:
    mechanic = seed.user(role="mechanic")
    seed.full_session(seed.user(), mechanic, status=status, age_minutes=600, request="accepted")
    seed.session(seed.user(), status=status, age_minutes=600, request=None)
    before = seed.snapshot()
    assert store.cleanup_stale(waiting_minutes=0, orphan_minutes=0) == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 0,
        "orphans_cancelled": 0,
    }
    assert seed.snapshot() == before


def test_an_expired_request_of_a_live_session_leaves_the_session_live(
    store: PostgresStore, seed: Seeder
) -> None:
    mechanic = seed.user(role="mechanic")
    seeded = seed.session(seed.user(), status="live", mechanic=mechanic, age_minutes=30)
    store.cleanup_stale()
    assert seeded.request is not None
    assert seed.request_status(seeded.request) == "expired"
    assert seed.status(seeded.session) == "live"


def test_cleanup_dry_run_counts_but_changes_nothing(store: PostgresStore, seed: Seeder) -> None:
    seed.session(seed.user(), age_minutes=30)
    before = seed.snapshot()
    assert store.cleanup_stale(dry_run=True)["sessions_cancelled"] == 1
    assert seed.snapshot() == before


def test_cleanup_refuses_negative_minutes(store: PostgresStore) -> None:
    with pytest.raises(BadInput, match="waiting_minutes must be"):
        store.cleanup_stale(waiting_minutes=-1)


# -- force_cancel --------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "waiting", "live"])
def test_force_cancel_ends_a_stuck_session_and_its_pending_request(
    store: PostgresStore, seed: Seeder, status: str
) -> None:
    seeded = seed.session(seed.user(), status=status)
    result = store.force_cancel(seeded.session)
    assert result == {"session_id": str(seeded.session), "previous_status": status, "requests_cancelled": 1}
    assert seed.status(seeded.session) == "cancelled"
    assert seeded.request and seed.request_status(seeded.request) == "cancelled"


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_force_cancel_of_an_ended_session_is_bad_input(
    store: PostgresStore, seed: Seeder, status: str
) -> None:
    seeded = seed.session(seed.user(), status=status, request="accepted")
    with pytest.raises(BadInput, match=f"already ended \\({status}\\)"):
        store.force_cancel(seeded.session)
    assert seed.status(seeded.session) == status


def test_force_cancel_of_an_unknown_session_is_bad_input(store: PostgresStore) -> None:
    with pytest.raises(BadInput, match="unknown session"):
        store.force_cancel(uuid4())


# -- customer_session_status -----------------------------------------------------


def test_payment_check_cancels_old_waiting_sessions_and_is_then_free(
    store: PostgresStore, seed: Seeder
) -> None:
    customer = seed.user()
    old = seed.session(customer, age_minutes=JUST_OVER)
    other = seed.session(seed.user(), age_minutes=JUST_OVER)  # another customer's: untouched

    status = store.customer_session_status(customer)

    assert status == {"customer_id": str(customer), "cancelled": 1, "blocked": False, "active_session": None}
    assert seed.status(old.session) == "cancelled"
    assert old.request and seed.request_status(old.request) == "cancelled"
    assert seed.status(other.session) == "waiting"


@pytest.mark.parametrize(("status", "age"), [("waiting", JUST_UNDER), ("pending", 1), ("live", 120)])
def test_payment_check_reports_an_active_session(
    store: PostgresStore, seed: Seeder, status: str, age: float
) -> None:
    customer = seed.user()
    active = seed.session(customer, status=status, age_minutes=age)
    result = store.customer_session_status(customer)
    assert result["blocked"] is True and result["cancelled"] == 0
    assert result["active_session"]["id"] == str(active.session)
    assert result["active_session"]["status"] == status


def test_payment_check_of_an_unknown_customer_is_bad_input(store: PostgresStore) -> None:
    with pytest.raises(BadInput, match="unknown user"):
        store.customer_session_status(uuid4())


# -- health ----------------------------------------------------------------------


def test_health_of_an_empty_database_has_the_contract_shape(store: PostgresStore) -> None:
    health = store.health()
    assert set(health) == {"checked_at", "sessions", "requests", "orphans", "problems"}
    assert health["sessions"] == {
        "pending": {"total": 0, "stale": 0, "veryStale": 0},
        "waiting": {"total": 0, "stale": 0, "veryStale": 0},
        "live": {"total": 0},
        "completed": {"total": 0},
        "cancelled": {"total": 0},
    }
    assert health["requests"] == {
        "pending": {"total": 0, "stale": 0},
        "accepted": {"total": 0},
        "expired": {"total": 0},
        "cancelled": {"total": 0},
    }
    assert health["orphans"] == 0 and health["problems"] == []
    assert "T" in health["checked_at"]


def test_health_counts_and_names_every_problem(store: PostgresStore, seed: Seeder) -> None:
    customer = seed.user()
    seed.session(customer, age_minutes=5)  # fresh
    seed.session(customer, age_minutes=JUST_OVER)  # stale
    seed.session(customer, status="pending", age_minutes=61, request="accepted")  # very stale
    seed.session(customer, age_minutes=1, request=None)  # orphan
    seed.session(customer, status="live", age_minutes=3, request="accepted")  # live, no mechanic
    seed.session(customer, status="completed", request="accepted")

    health = store.health()

    assert health["sessions"]["waiting"] == {"total": 3, "stale": 1, "veryStale": 0}
    assert health["sessions"]["pending"] == {"total": 1, "stale": 1, "veryStale": 1}
    assert health["sessions"]["live"] == {"total": 1}
    assert health["sessions"]["completed"] == {"total": 1}
    assert health["requests"]["pending"] == {"total": 2, "stale": 1}
    assert health["requests"]["accepted"] == {"total": 3}
    assert health["orphans"] == 1
    problems = {p["code"]: p["count"] for p in health["problems"]}
    assert problems == {
        "stale_waiting": 2,
        "very_stale_waiting": 1,
        "stale_pending_requests": 1,
        "orphaned_sessions": 1,
        "live_without_mechanic": 1,
    }
    assert all(p["message"] for p in health["problems"])


def test_health_thresholds_are_parameters(store: PostgresStore, seed: Seeder) -> None:
    seed.session(seed.user(), age_minutes=8)
    assert store.health(stale_minutes=10)["sessions"]["waiting"]["stale"] == 0
    assert store.health(stale_minutes=5, very_stale_minutes=7)["sessions"]["waiting"] == {
        "total": 1,
        "stale": 1,
        "veryStale": 1,
    }


def test_health_refuses_very_stale_below_stale(store: PostgresStore) -> None:
    with pytest.raises(BadInput, match="very_stale_minutes"):
        store.health(stale_minutes=30, very_stale_minutes=10)


# -- installation and rights ------------------------------------------------------


def test_install_is_idempotent_and_keeps_data(store: PostgresStore, seed: Seeder) -> None:
    seed.session(seed.user())
    store.install(test_domain="pitstop.test", with_app_schema=True)
    store.install(test_domain="pitstop.test")
    assert seed.count("public.sessions") == 1


def test_the_installed_test_domain_decides(store: PostgresStore, seed: Seeder) -> None:
    user = seed.user(email="qa@example.test")
    try:
        store.install(test_domain="example.test")
        assert store.purge_user(user)["sessions"] == 0
    finally:
        store.install(test_domain="pitstop.test")
    with pytest.raises(Refused):
        store.purge_user(user)


def test_only_the_owner_and_service_role_may_run_the_rules(store: PostgresStore, seed: Seeder) -> None:
    conn = store.connection
    user = seed.user()
    # Roles are the cluster's, shared with other tests' databases: make them if missing, never drop them.
    for role in ("pitstop_outsider", "service_role", "anon"):
        conn.execute(f"do $$ begin create role {role}; exception when duplicate_object then null; end $$")
    store.install(test_domain="pitstop.test")  # grants to service_role, now that it exists
    with conn.transaction(force_rollback=True):
        conn.execute("set local role service_role")
        conn.execute("select pitstop.purge_user(%s)", (user,))
    for role in ("pitstop_outsider", "anon"):
        with conn.transaction(force_rollback=True), pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"set local role {role}")
            conn.execute("select pitstop.purge_user(%s)", (user,))


# -- protection: the reference model's settings, read from the reference app's own cleanup ------------


def test_the_reference_model_protects_nothing_as_the_reference_app_cancels_assigned_sessions(
    store: PostgresStore, seed: Seeder
) -> None:
    """The reference app's cleanup (harness/stack/reference_app/cleanup.py) cancels an old waiting
    session whatever its mechanic, and has no scheduled time: its model says cancel_assigned = true
    and no scheduled_for, and the answers keep their shape (no protected count)."""
    assert (Model().sessions.cancel_assigned, Model().sessions.scheduled_for) == (True, "")
    customer, mechanic = seed.user(), seed.user(role="mechanic")
    assigned = seed.session(customer, age_minutes=JUST_OVER, mechanic=mechanic)

    health = store.health()
    assert "protected" not in health and health["sessions"]["waiting"]["stale"] == 1
    counts = store.cleanup_stale()

    assert counts == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
    }
    assert seed.status(assigned.session) == "cancelled"
