"""Isolation as properties: random mixes of users and rows in every status and age.

- a purge never changes a row of a session whose customer is not a test user,
  nor anything of another user;
- the stale cleanup changes exactly what its rules name, and nothing else.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from harness.errors import Refused
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder, truncate_all
from tests.states import USER_KINDS, SessionSpec, sessions

# Ages kept clear of every threshold below, so that the milliseconds between
# seeding and the rule cannot move a row across one.
AGES = [0.5, 9.5, 12.0, 14.5, 16.0, 19.5, 21.0, 25.0, 29.5, 31.0, 61.0, 240.0]
THRESHOLDS = [10, 15, 20, 30]
# Where the session id stands in each child table's snapshot row.
SESSION_COLUMN = {"public.session_participants": 0, "public.session_files": 1, "public.chat_messages": 1}


world = st.lists(st.sampled_from(USER_KINDS), min_size=2, max_size=6).flatmap(
    lambda kinds: st.tuples(st.just(kinds), st.lists(sessions(len(kinds), AGES), max_size=12))
)


def build(seed: Seeder, kinds: list[str], specs: list[SessionSpec]) -> list[UUID]:
    truncate_all(seed.conn)
    users = []
    for n, kind in enumerate(kinds):
        email = f"user{n}@{'pitstop.test' if kind in ('test', 'email_only') else 'example.com'}"
        meta = {"pitstop": True} if kind in ("test", "metadata_only") else {}
        users.append(seed.user(email=email, metadata=meta))
    for spec in specs:
        mechanic = None if spec.mechanic is None else users[spec.mechanic]
        seeded = seed.session(
            users[spec.customer],
            mechanic=mechanic,
            status=spec.status,
            age_minutes=spec.age,
            request=spec.request,
            request_age_minutes=spec.request_age,
        )
        if spec.children:
            seed.participant(seeded.session, users[spec.customer])
            seed.message(seeded.session, users[spec.customer])
            seed.file(seeded.session, users[spec.customer])
            if mechanic is not None and mechanic != users[spec.customer]:
                seed.participant(seeded.session, mechanic, "mechanic")
                seed.message(seeded.session, mechanic)
    # A stray request of each user, with no session.
    for user in users:
        seed.request(user, status="pending", age_minutes=1)
    return users


def session_rows(seed: Seeder) -> dict[UUID, dict[str, Any]]:
    rows = seed.conn.execute(
        "select id, customer_id, mechanic_id, status, ended_at,"
        " extract(epoch from now() - created_at) / 60 from public.sessions"
    ).fetchall()
    return {
        r[0]: {"customer": r[1], "mechanic": r[2], "status": r[3], "ended": r[4], "age": r[5]} for r in rows
    }


def request_rows(seed: Seeder) -> dict[UUID, dict[str, Any]]:
    rows = seed.conn.execute(
        "select id, session_id, customer_id, status, extract(epoch from now() - created_at) / 60"
        " from public.session_requests"
    ).fetchall()
    return {r[0]: {"session": r[1], "customer": r[2], "status": r[3], "age": r[4]} for r in rows}


@given(world=world, pick=st.integers(0, 5))
def test_purge_never_touches_what_is_not_its_own(store: PostgresStore, world: Any, pick: int) -> None:
    seed = Seeder(store.connection)
    kinds, specs = world
    users = build(seed, kinds, specs)
    target = users[pick % len(users)]
    is_test = kinds[pick % len(users)] == "test"
    test_users = {u for u, k in zip(users, kinds, strict=True) if k == "test"}
    sessions_before = session_rows(seed)
    before = seed.snapshot()

    if not is_test:
        try:
            store.purge_user(target)
        except Refused:
            assert seed.snapshot() == before
            return
        raise AssertionError("a user without both test marks was purged")

    counts = store.purge_user(target)

    doomed = {
        sid
        for sid, s in sessions_before.items()
        if s["customer"] == target or (s["mechanic"] == target and s["customer"] in test_users)
    }
    survivors = set(sessions_before) - doomed
    after = seed.snapshot()
    assert {r for r in before["public.sessions"] if r[0] in survivors} == after["public.sessions"]
    assert counts["sessions"] == len(doomed)
    # Every row of a surviving session, and every user row, is exactly as it was.
    for table, column in SESSION_COLUMN.items():
        assert {r for r in before[table] if r[column] in survivors} == after[table], table
    assert before["auth.users"] == after["auth.users"]
    assert before["public.profiles"] == after["public.profiles"]
    untouched_requests = {
        r for r in before["public.session_requests"] if r[1] in survivors or (r[1] is None and r[2] != target)
    }
    assert untouched_requests == after["public.session_requests"]


@given(world=world, waiting=st.sampled_from(THRESHOLDS), orphan=st.sampled_from(THRESHOLDS))
def test_cleanup_changes_exactly_what_its_rules_name(
    store: PostgresStore, world: Any, waiting: int, orphan: int
) -> None:
    seed = Seeder(store.connection)
    build(seed, *world)
    sessions_before, requests_before = session_rows(seed), request_rows(seed)

    counts = store.cleanup_stale(waiting_minutes=waiting, orphan_minutes=orphan)

    expired = {rid for rid, r in requests_before.items() if r["status"] == "pending" and r["age"] > waiting}
    with_request = {r["session"] for r in requests_before.values()}
    cancelled = {
        sid
        for sid, s in sessions_before.items()
        if s["status"] in ("pending", "waiting")
        and (
            s["age"] > waiting
            or any(requests_before[rid]["session"] == sid for rid in expired)
            or (sid not in with_request and s["age"] > orphan)
        )
    }
    # A cancelled session's pending request that did not expire is cancelled with it.
    dropped = {
        rid
        for rid, r in requests_before.items()
        if rid not in expired and r["status"] == "pending" and r["session"] in cancelled
    }
    sessions_after, requests_after = session_rows(seed), request_rows(seed)
    for rid, r in requests_before.items():
        word = "expired" if rid in expired else "cancelled" if rid in dropped else r["status"]
        assert requests_after[rid]["status"] == word
    for sid, s in sessions_before.items():
        after = sessions_after[sid]
        if sid in cancelled:
            assert after["status"] == "cancelled" and after["ended"] is not None
        else:
            assert (after["status"], after["ended"]) == (s["status"], s["ended"])
    assert counts == {
        "requests_expired": len(expired),
        "requests_cancelled": len(dropped),
        "sessions_cancelled": len(cancelled),
        "orphans_cancelled": len(cancelled - with_request),
    }
    truncate_all(seed.conn)
