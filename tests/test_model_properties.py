"""Isolation as properties on schemas we did not design: random mixes of users, mechanics and rows
in every status word and age of each model (tests/schemas).

- a purge changes exactly the purged user's footprint (its sessions and requests, their children
  deleted or, through set-null keys, nulled) and no other row of any table;
- the stale cleanup changes exactly what its rules name, computed here from the generated state
  through the model's link, and nothing else: never a protected session (one scheduled for later
  than the cut; one with a mechanic assigned, where the model protects them) nor its pending
  requests, and it counts what it protected and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from psycopg import sql

from harness.errors import Refused
from harness.rules.model import Model
from harness.stack.postgres import LocalPostgres
from tests.model_worlds import (
    AGES,
    CHILDREN,
    DOMAIN,
    NAMES,
    THRESHOLDS,
    Children,
    Target,
    World,
    expected_after,
    ident,
    keyof,
    link,
    model_of,
    opened,
    truncate,
)

# Both test marks, neither, or only one of them.
USER_KINDS = ("test", "test", "real", "email_only", "metadata_only")
# A mechanic row: test email and registered, test email only, or neither.
MECHANIC_KINDS = ("test", "test", "unregistered", "real")
# A session's scheduled time, minutes from now, where the model has one: none, long past, past by
# less than some thresholds, just gone, soon, tomorrow (clear of every threshold).
SCHEDULES = (None, -240.0, -25.0, -12.0, -0.5, 5.0, 24 * 60.0)


@dataclass(frozen=True)
class SessionSpec:
    customer: int  # index into the users
    mechanic: int | None  # index into the mechanics (the users, where mechanics are users)
    status: str
    age: float
    request: str | None
    request_age: float
    children: bool
    scheduled: float | None = None  # minutes from now


@dataclass(frozen=True)
class MechanicSpec:
    kind: str
    user: int | None  # the user it links to, where the table has a user column


@dataclass(frozen=True)
class State:
    users: list[str]
    mechanics: list[MechanicSpec]
    sessions: list[SessionSpec]
    strays: list[tuple[str, float] | None]  # one request of no session per user, or none


def states(model: Model) -> st.SearchStrategy[State]:
    words = list(model.sessions.statuses)
    requests = [None, *model.requests.statuses]
    ages = st.sampled_from(AGES)

    def build(users: list[str]) -> st.SearchStrategy[State]:
        user = st.integers(0, len(users) - 1)
        links = (st.none() | user) if model.mechanics.user else st.none()
        mechanics = (
            st.lists(st.builds(MechanicSpec, st.sampled_from(MECHANIC_KINDS), links), max_size=3)
            if model.has_mechanics_table
            else st.just([])
        )

        def with_mechanics(found: list[MechanicSpec]) -> st.SearchStrategy[State]:
            count = len(found) if model.has_mechanics_table else len(users)
            mechanic = (st.none() | st.integers(0, count - 1)) if count else st.none()
            session = st.builds(
                SessionSpec,
                customer=user,
                mechanic=mechanic,
                status=st.sampled_from(words),
                age=ages,
                request=st.sampled_from(requests),
                request_age=ages,
                children=st.booleans(),
                scheduled=st.sampled_from(SCHEDULES) if model.sessions.scheduled_for else st.none(),
            )
            stray = st.none() | st.tuples(st.sampled_from(model.requests.statuses), ages)
            return st.builds(
                State,
                users=st.just(users),
                mechanics=st.just(found),
                sessions=st.lists(session, max_size=8),
                strays=st.lists(stray, min_size=len(users), max_size=len(users)),
            )

        return mechanics.flatmap(with_mechanics)

    return st.lists(st.sampled_from(USER_KINDS), min_size=2, max_size=5).flatmap(build)


@dataclass
class Built:
    users: list[UUID]
    mechanics: list[UUID]
    children: Children


def build(target: Target, state: State) -> Built:
    w, model = target.world, target.model
    truncate(w.conn)
    users = []
    for n, kind in enumerate(state.users):
        domain = DOMAIN if kind in ("test", "email_only") else "example.com"
        meta = {"pitstop": True} if kind in ("test", "metadata_only") else {}
        users.append(w.user(email=f"user{n}@{domain}", metadata=meta))
    if model.has_mechanics_table:
        mechanics = [
            w.mechanic(
                test=m.kind != "real",
                registered=m.kind == "test",
                user=None if m.user is None else users[m.user],
            )
            for m in state.mechanics
        ]
    else:
        mechanics = users
    children = Children()
    for spec in state.sessions:
        customer = users[spec.customer]
        mechanic = None if spec.mechanic is None else mechanics[spec.mechanic]
        seeded = w.session(
            customer,
            status=spec.status,
            age_minutes=spec.age,
            mechanic=mechanic,
            request=spec.request,
            request_age_minutes=spec.request_age,
            scheduled_in_minutes=spec.scheduled,
        )
        if spec.children:
            CHILDREN[target.name](w, seeded, customer, mechanic, children)
    for user, stray in zip(users, state.strays, strict=True):
        if stray is not None:
            w.request(user, status=stray[0], age_minutes=stray[1])
    return Built(users, mechanics, children)


def read(w: World) -> tuple[dict[UUID, dict[str, Any]], dict[UUID, dict[str, Any]]]:
    """Sessions and requests by id, as the rules see them: who, linked to what, status, age."""
    s, r = w.model.sessions, w.model.requests

    def rows(table: str, age: str, columns: dict[str, str]) -> dict[UUID, dict[str, Any]]:
        query = sql.SQL("select {}, extract(epoch from now() - {}) / 60 from {}").format(
            sql.SQL(", ").join(
                sql.SQL("{}::text").format(sql.Identifier(c)) if c else sql.SQL("null")
                for c in columns.values()
            ),
            sql.Identifier(age),
            ident(table),
        )
        found = {}
        for row in w.conn.execute(query).fetchall():
            values = {k: UUID(v) if v and k != "status" else v for k, v in zip(columns, row, strict=False)}
            found[values.pop("id")] = {**values, "age": row[-1]}
        return found

    sessions = rows(
        s.table,
        s.created_at,
        {
            "id": s.id,
            "customer": s.customer,
            "mechanic": s.mechanic,
            "request": s.request,
            "status": s.status,
        },
    )
    if s.scheduled_for:  # minutes from now to the scheduled time
        query = sql.SQL("select {}::text, extract(epoch from {} - now()) / 60 from {}").format(
            sql.Identifier(s.id), sql.Identifier(s.scheduled_for), ident(s.table)
        )
        for sid, until in w.conn.execute(query).fetchall():
            sessions[UUID(sid)]["until"] = until
    requests = rows(
        r.table,
        r.created_at,
        {
            "id": r.id,
            "customer": r.customer,
            "session": r.session,
            "mechanic": r.mechanic,
            "status": r.status,
        },
    )
    return sessions, requests


@pytest.fixture(params=NAMES)
def target(request: pytest.FixtureRequest, postgres: LocalPostgres) -> Iterator[Target]:
    with opened(postgres.url(), request.param) as found:
        yield found


def protecting(name: str, **keys: Any) -> Model:
    model = model_of(name)
    return dataclasses.replace(model, sessions=dataclasses.replace(model.sessions, **keys))


# The cleanup's targets: every schema with its own model, and models that protect sessions: the
# garage's mechanics (by customer), the bookings' scheduled time and experts (by the request's session).
PROTECTING = {
    "garage+assigned": ("garage", {"cancel_assigned": False}),
    "bookings+scheduled": ("bookings", {"scheduled_for": "scheduled_for", "cancel_assigned": False}),
}


@pytest.fixture(params=[*NAMES, *PROTECTING])
def cleanup_target(request: pytest.FixtureRequest, postgres: LocalPostgres) -> Iterator[Target]:
    name, keys = PROTECTING.get(request.param, (request.param, {}))
    with opened(postgres.url(), name, protecting(name, **keys)) as found:
        yield found


# Each example builds a few dozen rows: 50 per schema keeps a run under a minute.
EXAMPLES = settings(max_examples=50)


@EXAMPLES
@given(data=st.data(), pick=st.integers(0, 7))
def test_a_purge_changes_only_the_purged_users_footprint(target: Target, data: Any, pick: int) -> None:
    w, model = target.world, target.model
    state = data.draw(states(model), label="state")
    built = build(target, state)
    people = built.users + (built.mechanics if model.has_mechanics_table else [])
    purged = people[pick % len(people)]
    kinds = dict(zip(built.users, state.users, strict=True))
    test_users = {u for u, kind in kinds.items() if kind == "test"}
    sessions, requests = read(w)
    before = w.snapshot()

    if model.has_mechanics_table:
        specs = dict(zip(built.mechanics, state.mechanics, strict=True))

        def linked(spec: Any) -> UUID | None:
            return None if spec.user is None else built.users[spec.user]

        test_mechanics = {m for m, spec in specs.items() if spec.kind == "test" or linked(spec) in test_users}
        allowed = purged in test_users or purged in test_mechanics
        mechanic_ids = {m for m, spec in specs.items() if m == purged or linked(spec) == purged}
    else:
        allowed = purged in test_users
        mechanic_ids = {purged}

    if not allowed:
        event("refused: not a test user")
        with pytest.raises(Refused, match="not a test user"):
            target.store.purge_user(purged)
        assert w.snapshot() == before
        return

    counts = target.store.purge_user(purged)

    doomed = {
        sid
        for sid, s in sessions.items()
        if s["customer"] == purged or (s["mechanic"] in mechanic_ids and s["customer"] in test_users)
    }
    kept = sum(
        1 for s in sessions.values() if s["mechanic"] in mechanic_ids and s["customer"] not in test_users
    )
    real_sessions = {sid for sid, s in sessions.items() if s["customer"] not in test_users}
    if target.name == "helpdesk":  # requests.session
        gone = {
            rid
            for rid, q in requests.items()
            if q["session"] in doomed or (q["customer"] == purged and q["session"] not in real_sessions)
        }
    elif target.name == "workshop":  # sessions.request
        held = {s["request"] for sid, s in sessions.items() if sid in real_sessions}
        gone = {sessions[sid]["request"] for sid in doomed if sessions[sid]["request"] is not None}
        gone |= {rid for rid, q in requests.items() if q["customer"] == purged and rid not in held}
    else:  # by customer; a mechanic's accepted requests of test customers too
        gone = {
            rid
            for rid, q in requests.items()
            if q["customer"] == purged or (q["mechanic"] in mechanic_ids and q["customer"] in test_users)
        }
    event(f"purged sessions: {min(len(doomed), 2)}+, kept: {min(kept, 1)}+")
    assert (counts["sessions"], counts["session_requests"], counts["kept"]) == (len(doomed), len(gone), kept)
    assert w.snapshot() == expected_after(before, model, doomed, gone, built.children)


@EXAMPLES
@given(data=st.data(), waiting=st.sampled_from(THRESHOLDS), orphan=st.sampled_from(THRESHOLDS))
def test_the_cleanup_changes_exactly_what_its_rules_name(
    cleanup_target: Target, data: Any, waiting: int, orphan: int
) -> None:
    target = cleanup_target
    w, model = target.world, target.model
    s, r = model.sessions, model.requests
    build(target, data.draw(states(model), label="state"))
    sessions, requests = read(w)
    before = w.snapshot()

    counts = target.store.cleanup_stale(waiting_minutes=waiting, orphan_minutes=orphan)

    linked_by = link(model)

    def scheduled(x: dict[str, Any], cut: int) -> bool:  # not yet past its time by ``cut`` minutes
        return x.get("until") is not None and x["until"] > -cut

    def assigned(x: dict[str, Any]) -> bool:
        return not s.cancel_assigned and x["mechanic"] is not None

    def protected(x: dict[str, Any], cut: int) -> bool:
        return x["status"] in s.open and (scheduled(x, cut) or assigned(x))

    def sessions_of(rid: UUID) -> set[UUID]:
        q = requests[rid]
        if linked_by == "request":
            return {sid for sid in sessions if q["session"] == sid}
        if linked_by == "session":
            return {sid for sid, x in sessions.items() if x["request"] == rid}
        return {sid for sid, x in sessions.items() if x["customer"] == q["customer"]}

    stale = {rid for rid, q in requests.items() if q["status"] == r.pending and q["age"] > waiting}

    def keeps(x: dict[str, Any]) -> bool:  # a request's session that keeps it: protected and active (by
        # customer: open), as a booking in its own word keeps its request
        words = s.open if linked_by == "customer" else s.active
        return x["status"] in words and (scheduled(x, waiting) or assigned(x))

    expired = {rid for rid in stale if not any(keeps(sessions[sid]) for sid in sessions_of(rid))}
    status = {rid: r.expired if rid in expired else q["status"] for rid, q in requests.items()}
    if linked_by == "request":  # requests.session: a session with any request is no orphan
        by_expiry = {requests[rid]["session"] for rid in expired}

        def is_orphan(sid: UUID, x: dict[str, Any]) -> bool:
            return not any(q["session"] == sid for q in requests.values())

        was_orphan = is_orphan
    elif linked_by == "session":  # sessions.request
        by_expiry = {sid for sid, x in sessions.items() if x["request"] in expired}

        def is_orphan(sid: UUID, x: dict[str, Any]) -> bool:
            return x["request"] is None

        was_orphan = is_orphan
    else:  # by customer: an orphan's customer has no pending request (after the expiry)
        by_expiry = set()

        def is_orphan(sid: UUID, x: dict[str, Any]) -> bool:
            return not any(
                q["customer"] == x["customer"] and status[rid] == r.pending for rid, q in requests.items()
            )

        def was_orphan(sid: UUID, x: dict[str, Any]) -> bool:  # had every stale request expired
            return not any(
                q["customer"] == x["customer"] and rid not in stale and q["status"] == r.pending
                for rid, q in requests.items()
            )

    cancelled = {
        sid
        for sid, x in sessions.items()
        if x["status"] in s.open
        and not assigned(x)
        and (
            sid in by_expiry
            or (x["age"] > waiting and not scheduled(x, waiting))
            or (x["age"] > orphan and not scheduled(x, orphan) and is_orphan(sid, x))
        )
    }
    # What the rules without protection would have cancelled, and these did not.
    cut = max(waiting, orphan)
    kept = {
        sid
        for sid, x in sessions.items()
        if sid not in cancelled
        and protected(x, cut)
        and (
            (linked_by != "customer" and any(sid in sessions_of(rid) for rid in stale))
            or x["age"] > waiting
            or (x["age"] > orphan and was_orphan(sid, x))
        )
    }
    event(
        f"expired: {min(len(expired), 1)}+, cancelled: {min(len(cancelled), 2)}+, kept: {min(len(kept), 1)}+"
    )
    # A cancelled session's pending request that did not expire is cancelled with it (by customer,
    # a request names no session of its own: left as it is).
    dropped = {
        rid
        for rid, q in requests.items()
        if linked_by != "customer" and status[rid] == r.pending and sessions_of(rid) & cancelled
    }
    expected_counts: dict[str, Any] = {
        "requests_expired": len(expired),
        "requests_cancelled": len(dropped),
        "sessions_cancelled": len(cancelled),
        "orphans_cancelled": sum(1 for sid in cancelled if is_orphan(sid, sessions[sid])),
    }
    if s.scheduled_for or (s.mechanic and not s.cancel_assigned):
        on_time = {sid for sid in kept if scheduled(sessions[sid], cut)}
        expected_counts["protected"] = {
            "scheduled": len(on_time),
            "assigned": len(kept - on_time),
            "requests": len(stale - expired),
        }
    assert counts == expected_counts
    after = w.snapshot()
    expected = {table: dict(rows) for table, rows in before.items()}
    for rid in expired | dropped:
        row = expected[r.table][keyof(rid)]
        expected[r.table][keyof(rid)] = {**row, r.status: r.expired if rid in expired else r.cancelled}
    for sid in cancelled:
        row, now = expected[s.table][keyof(sid)], after[s.table][keyof(sid)]
        changed = {s.status: s.cancelled, s.ended_at: now[s.ended_at]}
        assert now[s.ended_at] is not None
        if s.updated_at:
            assert now[s.updated_at] is not None and now[s.updated_at] != row[s.updated_at]
            changed[s.updated_at] = now[s.updated_at]
        expected[s.table][keyof(sid)] = {**row, **changed}
    assert after == expected
