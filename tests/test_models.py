"""The rules on schemas we did not design (tests/schemas), installed with each one's model, at
their boundaries: purge (children at any depth, set-null keys, refusals), cleanup_stale (each
link's orphans, the expired word), force_cancel, customer_session_status and health."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from harness.errors import BadInput, Refused
from harness.rules.model import Model
from harness.rules.model.catalog import Catalog, Column, ForeignKey
from harness.rules.model.footprint import footprint
from harness.rules.model.render import answer_name
from harness.stack.postgres import LocalPostgres
from tests.model_worlds import (
    CHILDREN,
    NAMES,
    Children,
    Target,
    expected_after,
    garage_children,
    helpdesk_children,
    keyof,
    model_of,
    opened,
    truncate,
    workshop_children,
)

JUST_UNDER = 14.9  # minutes: within the default 15-minute threshold
JUST_OVER = 15.1


@pytest.fixture(params=NAMES)
def target(request: pytest.FixtureRequest, postgres: LocalPostgres) -> Iterator[Target]:
    with opened(postgres.url(), request.param) as found:
        yield found


@pytest.fixture
def garage(postgres: LocalPostgres) -> Iterator[Target]:
    with opened(postgres.url(), "garage") as found:
        yield found


@pytest.fixture
def workshop(postgres: LocalPostgres) -> Iterator[Target]:
    with opened(postgres.url(), "workshop") as found:
        yield found


@pytest.fixture
def helpdesk(postgres: LocalPostgres) -> Iterator[Target]:
    with opened(postgres.url(), "helpdesk") as found:
        yield found


# -- purge_user: each schema's footprint ---------------------------------------------------------


def test_garage_purge_takes_messages_and_their_reads_offers_and_nulls_payments(garage: Target) -> None:
    w = garage.world
    customer, real = w.user(), w.user(test=False)
    mechanic = w.mechanic()
    children = Children()
    live = w.session(customer, status="live", mechanic=mechanic, request="accepted")
    garage_children(w, live, customer, mechanic, children)  # message, read, payment, offer
    waiting = w.session(customer, status="waiting")
    garage_children(w, waiting, customer, None, children)  # message, read, payment
    stray = w.request(customer, status="cancelled")  # a request of no session
    theirs = w.session(real, status="live", mechanic=mechanic, request="accepted")
    garage_children(w, theirs, real, mechanic, children)
    before = w.snapshot()

    counts = garage.store.purge_user(customer)

    assert counts == {
        "user_id": str(customer),
        "kept": 0,
        "sessions": 2,
        "session_requests": 3,
        "chat_messages": 2,
        "message_reads": 2,
        "request_offers": 1,
        "session_payments": 2,
        "tables": {
            "public.sessions": 2,
            "public.session_requests": 3,
            "public.chat_messages": 2,
            "public.message_reads": 2,
            "public.request_offers": 1,
            "public.session_payments": 2,
        },
    }
    after = w.snapshot()
    requests = {live.request, waiting.request, stray}
    assert after == expected_after(before, garage.model, {live.session, waiting.session}, requests, children)
    # The payments outlive their sessions: session_id nulled, the customer's id (no foreign key) as it was.
    payments = [
        p for p in after["public.session_payments"].values() if p["customer_user_id"] == str(customer)
    ]
    assert [(p["session_id"], p["amount_cents"]) for p in payments] == [(None, 2500), (None, 2500)]
    assert w.count("public.sessions", "customer_user_id = %s", (real,)) == 1


def test_workshop_purge_follows_events_to_their_attachments_and_leaves_invoices_in_billing(
    workshop: Target,
) -> None:
    w = workshop.world
    client, real = w.user(), w.user(test=False)
    tech = w.mechanic()
    children = Children()
    working = w.session(client, status="in_progress", mechanic=tech, request="claimed")
    workshop_children(w, working, client, tech, children)
    queued = w.session(client, status="queued")
    workshop_children(w, queued, client, None, children)
    stray = w.request(client, status="withdrawn")
    # A real client's job on one of the test client's tickets: that ticket stays, with its job.
    lent = w.request(client, status="claimed")
    theirs = w.session(real, status="in_progress", mechanic=tech, request=None)
    w.conn.execute("update shop.jobs set ticket = %s where job_id = %s", (lent, theirs.session))
    workshop_children(w, theirs, real, tech, children)
    before = w.snapshot()

    counts = workshop.store.purge_user(client)

    assert counts == {
        "user_id": str(client),
        "kept": 0,
        "sessions": 2,
        "session_requests": 3,
        "tables": {
            "shop.jobs": 2,
            "shop.tickets": 3,
            "shop.job_events": 2,
            "shop.event_attachments": 4,
            "shop.ticket_notes": 2,
            "billing.invoices": 2,  # nulled; their lines are not the purge's business
        },
    }
    after = w.snapshot()
    requests = {working.request, queued.request, stray}
    assert after == expected_after(
        before, workshop.model, {working.session, queued.session}, requests, children
    )
    assert keyof(lent) in after["shop.tickets"]
    invoices = [i for i in after["billing.invoices"].values() if i["billed_to"] == str(client)]
    assert sorted((i["job"], i["amount_cents"]) for i in invoices) == [(None, 4000), (None, 4000)]
    assert w.count("billing.invoice_lines") == 3  # under invoices that stay


def test_helpdesk_purge_takes_transcripts_and_their_lines_and_nulls_ratings_and_followups(
    helpdesk: Target,
) -> None:
    w = helpdesk.world
    caller, real = w.user(), w.user(test=False)
    agent = w.mechanic()
    children = Children()
    connected = w.session(caller, status="connected", mechanic=agent, request="taken")
    helpdesk_children(w, connected, caller, agent, children)
    ringing = w.session(caller, status="ringing")
    helpdesk_children(w, ringing, caller, None, children)
    stray = w.request(caller, status="withdrawn")
    theirs = w.session(real, status="connected", mechanic=agent, request="taken")
    helpdesk_children(w, theirs, real, agent, children)
    before = w.snapshot()

    counts = helpdesk.store.purge_user(caller)

    assert counts == {
        "user_id": str(caller),
        "kept": 0,
        "sessions": 2,
        "session_requests": 3,
        "tables": {
            "desk.calls": 2,
            "desk.call_requests": 3,
            "desk.transcripts": 2,
            "desk.transcript_lines": 4,
            "desk.ratings": 2,
            "desk.escalations": 2,
            "desk.escalation_followups": 2,
        },
    }
    after = w.snapshot()
    requests = {connected.request, ringing.request, stray}
    assert after == expected_after(
        before, helpdesk.model, {connected.session, ringing.session}, requests, children
    )
    ratings = sorted(((r["call"], r["rated_by"]) for r in after["desk.ratings"].values()), key=str)
    assert ratings == sorted(
        [(None, str(caller)), (None, str(caller)), (str(theirs.session), str(real))], key=str
    )
    assert w.count("desk.escalation_followups", "escalation is null") == 2


def test_purging_a_mechanic_takes_sessions_of_test_customers_and_counts_the_kept_ones(target: Target) -> None:
    w, model = target.world, target.model
    live, accepted = model.sessions.live[0], model.requests.accepted
    mechanic = w.mechanic()
    test_customer, real_customer = w.user(), w.user(test=False)
    children = Children()
    purged = w.session(test_customer, status=live, mechanic=mechanic, request=accepted)
    kept = w.session(real_customer, status=live, mechanic=mechanic, request=accepted)
    for seeded, customer in ((purged, test_customer), (kept, real_customer)):
        CHILDREN[target.name](w, seeded, customer, mechanic, children)
    before = w.snapshot()

    counts = target.store.purge_user(mechanic)

    assert (counts["sessions"], counts["session_requests"], counts["kept"]) == (1, 1, 1)
    after = w.snapshot()
    assert after == expected_after(before, model, {purged.session}, {purged.request}, children)


def test_workshop_a_technician_linked_to_a_test_user_is_purged_through_either_id(workshop: Target) -> None:
    w = workshop.world
    account = w.user()
    tech = w.mechanic(registered=False, user=account)  # a test mechanic by its link alone
    client, real = w.user(), w.user(test=False)
    first = w.session(client, status="in_progress", mechanic=tech, request="claimed")
    w.session(real, status="in_progress", mechanic=tech, request="claimed")

    counts = workshop.store.purge_user(account)

    assert (counts["sessions"], counts["session_requests"], counts["kept"]) == (1, 1, 1)
    assert w.session_row(first.session) is None
    second = w.session(client, status="queued", mechanic=tech)
    assert workshop.store.purge_user(tech)["sessions"] == 1
    assert w.session_row(second.session) is None


@pytest.mark.parametrize(
    ("email_domain", "registered"),
    [("pitstop.test", False), ("example.com", True)],
    ids=["not-registered", "email-outside-the-test-domain"],
)
def test_garage_a_mechanic_row_needs_both_marks(garage: Target, email_domain: str, registered: bool) -> None:
    w = garage.world
    mechanic = w.mechanic(test=email_domain == "pitstop.test", registered=registered)
    w.session(w.user(), status="live", mechanic=mechanic, request="accepted")
    before = w.snapshot()
    with pytest.raises(Refused, match="not a test user"):
        garage.store.purge_user(mechanic)
    assert w.snapshot() == before


def test_purge_refuses_a_real_user_and_an_unknown_one(target: Target) -> None:
    w = target.world
    real = w.user(test=False)
    w.session(real)
    half = w.user(email=f"half-{uuid4().hex[:6]}@pitstop.test", metadata={})  # one mark only
    w.session(half)
    before = w.snapshot()
    for user in (real, half):
        with pytest.raises(Refused, match="not a test user"):
            target.store.purge_user(user)
    with pytest.raises(BadInput, match="unknown user"):
        target.store.purge_user(uuid4())
    assert w.snapshot() == before


def _outside_reference(target: Target, session: Any) -> tuple[str, str]:
    """Make a row outside the footprint refer to ``session`` with no action; its table and column."""
    w = target.world
    if target.name == "garage":
        mechanic = w.mechanic(test=False)
        w.conn.execute(
            "update public.mechanics set current_session_id = %s where id = %s", (session, mechanic)
        )
        return "public.mechanics", "current_session_id"
    if target.name == "workshop":
        tech = w.mechanic(test=False)
        w.conn.execute("update shop.technicians set on_job = %s where tech_id = %s", (session, tech))
        return "shop.technicians", "on_job"
    # helpdesk: a line of a real caller's transcript replies to a line of the test caller's.
    ours = w.value("insert into desk.transcripts (call) values (%s) returning transcript_id", (session,))
    line = w.value("insert into desk.transcript_lines (transcript) values (%s) returning line_id", (ours,))
    real = w.session(w.user(test=False), status="connected", request=None).session
    theirs = w.value("insert into desk.transcripts (call) values (%s) returning transcript_id", (real,))
    w.conn.execute("insert into desk.transcript_lines (transcript, reply_to) values (%s, %s)", (theirs, line))
    return "desk.transcript_lines", "reply_to"


def test_a_row_outside_the_footprint_that_refers_to_it_stops_the_purge(target: Target) -> None:
    w = target.world
    customer = w.user()
    seeded = w.session(customer)
    CHILDREN[target.name](w, seeded, customer, None, Children())
    table, column = _outside_reference(target, seeded.session)
    before = w.snapshot()

    with pytest.raises(BadInput, match="pointing at a deleted row; nothing was purged") as refused:
        target.store.purge_user(customer)

    assert f"would leave {table} (column {column})" in refused.value.message
    assert w.snapshot() == before


# -- cleanup_stale ---------------------------------------------------------------------------------


def test_a_pending_request_just_over_the_threshold_takes_the_expired_word(target: Target) -> None:
    w, model = target.world, target.model
    old = w.session(w.user(), age_minutes=JUST_OVER)
    young = w.session(w.user(), age_minutes=JUST_UNDER)
    before = w.session_row(old.session)

    counts = target.store.cleanup_stale()

    # By customer, the old customer has no pending request left: its session was an orphan too.
    orphans = 1 if target.name == "garage" else 0
    assert counts == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": orphans,
    }
    assert old.request and young.request
    assert w.request_status(old.request) == model.requests.expired
    assert w.request_status(young.request) == model.requests.pending
    assert w.status(old.session) == model.sessions.cancelled
    assert w.status(young.session) == model.sessions.open[0]
    row = w.session_row(old.session)
    assert row is not None and before is not None
    assert row[model.sessions.ended_at] is not None
    if model.sessions.updated_at:
        assert row[model.sessions.updated_at] != before[model.sessions.updated_at]


def test_garage_a_stale_request_is_cancelled_the_only_word_its_check_allows(garage: Target) -> None:
    w = garage.world
    stale = w.request(w.user(), age_minutes=JUST_OVER)
    assert garage.store.cleanup_stale()["requests_expired"] == 1
    assert w.request_status(stale) == "cancelled"


def test_an_old_request_cancels_its_young_session_where_it_is_linked(target: Target) -> None:
    w, model = target.world, target.model
    seeded = w.session(w.user(), age_minutes=1, request_age_minutes=JUST_OVER)

    counts = target.store.cleanup_stale()

    assert counts["requests_expired"] == 1
    # By customer, the young session is only an orphan now: the orphan rule takes it at 20 minutes.
    expected = model.sessions.open[0] if target.name == "garage" else model.sessions.cancelled
    assert w.status(seeded.session) == expected


def test_open_sessions_are_cancelled_just_over_the_threshold_in_every_open_word(target: Target) -> None:
    w, model = target.world, target.model
    old, young = {}, {}
    for word in model.sessions.open:
        old[word] = w.session(w.user(), status=word, age_minutes=JUST_OVER, request_age_minutes=1)
        young[word] = w.session(w.user(), status=word, age_minutes=JUST_UNDER, request_age_minutes=1)

    counts = target.store.cleanup_stale()

    # Their young requests go with them, where a request names its session (by customer, none does).
    linked = model.all_queues[0][1].link != "customer"
    assert counts == {
        "requests_expired": 0,
        "requests_cancelled": len(model.sessions.open) if linked else 0,
        "sessions_cancelled": len(model.sessions.open),
        "orphans_cancelled": 0,
    }
    for word in model.sessions.open:
        assert w.status(old[word].session) == model.sessions.cancelled
        assert w.status(young[word].session) == word
        assert w.request_status(young[word].request) == model.requests.pending
        if linked:
            assert w.request_status(old[word].request) == model.requests.cancelled


def test_live_done_cancelled_and_other_active_sessions_are_never_touched(target: Target) -> None:
    w, s = target.world, target.model.sessions
    words = [*s.live, *s.done, s.cancelled, *(a for a in s.active if a not in s.open and a not in s.live)]
    seeded = {word: w.session(w.user(), status=word, age_minutes=240, request=None) for word in words}
    before = w.snapshot()
    assert target.store.cleanup_stale() == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 0,
        "orphans_cancelled": 0,
    }
    assert w.snapshot() == before
    assert {word: w.status(x.session) for word, x in seeded.items()} == {word: word for word in words}


def test_an_orphan_is_cancelled_just_over_the_orphan_threshold(target: Target) -> None:
    w, model = target.world, target.model
    over = w.session(w.user(), age_minutes=20.1, request=None)
    under = w.session(w.user(), age_minutes=19.9, request=None)

    counts = target.store.cleanup_stale(waiting_minutes=60, orphan_minutes=20)

    assert counts == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 1,
    }
    assert w.status(over.session) == model.sessions.cancelled
    assert w.status(under.session) == model.sessions.open[0]


@pytest.mark.parametrize("target", ["workshop", "helpdesk"], indirect=True)
def test_a_session_with_a_linked_request_of_any_status_is_no_orphan(target: Target) -> None:
    """sessions.request (workshop) and requests.session (helpdesk); by customer, see the garage's."""
    w, model = target.world, target.model
    seeded = w.session(w.user(), age_minutes=25, request=model.requests.accepted, request_age_minutes=1)
    assert target.store.cleanup_stale(waiting_minutes=60, orphan_minutes=20)["sessions_cancelled"] == 0
    assert w.status(seeded.session) == model.sessions.open[0]


def test_garage_an_orphan_is_an_open_session_whose_customer_has_no_pending_request(garage: Target) -> None:
    w = garage.world
    waiting_for = w.user()  # a pending request (of no session: requests name none here)
    w.request(waiting_for, age_minutes=1)
    kept = w.session(waiting_for, status="waiting", age_minutes=25, request=None)
    accepted_only = w.user()
    w.request(accepted_only, status="accepted", age_minutes=1)
    orphan = w.session(accepted_only, status="pending", age_minutes=25, request=None)
    young = w.session(w.user(), status="waiting", age_minutes=19.9, request=None)

    health = garage.store.health()
    counts = garage.store.cleanup_stale(waiting_minutes=60, orphan_minutes=20)

    assert health["orphans"] == 2  # the orphan and the young one, at any age
    assert counts == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 1,
    }
    assert (w.status(kept.session), w.status(orphan.session), w.status(young.session)) == (
        "waiting",
        "cancelled",
        "waiting",
    )


def test_workshop_a_job_whose_ticket_column_is_empty_is_an_orphan(workshop: Target) -> None:
    w = workshop.world
    orphan = w.session(w.user(), age_minutes=25, request=None)
    assert w.row("shop.jobs", "job_id", orphan.session)["ticket"] is None  # type: ignore[index]
    assert workshop.store.cleanup_stale(waiting_minutes=60, orphan_minutes=20)["orphans_cancelled"] == 1
    assert w.status(orphan.session) == "voided"


# -- force_cancel ------------------------------------------------------------------------------------


def test_force_cancel_ends_an_open_session_and_its_pending_request(target: Target) -> None:
    w, model = target.world, target.model
    seeded = w.session(w.user(), age_minutes=1)
    result = target.store.force_cancel(seeded.session)
    assert result == {
        "session_id": str(seeded.session),
        "previous_status": model.sessions.open[0],
        "requests_cancelled": 1,
    }
    assert seeded.request is not None
    assert w.status(seeded.session) == model.sessions.cancelled
    assert w.request_status(seeded.request) == model.requests.cancelled
    row = w.session_row(seeded.session)
    assert row is not None and row[model.sessions.ended_at] is not None


def test_force_cancel_ends_a_live_session_and_leaves_its_accepted_request(target: Target) -> None:
    w, model = target.world, target.model
    live = model.sessions.live[0]
    seeded = w.session(w.user(), status=live, mechanic=w.mechanic(), request=model.requests.accepted)
    result = target.store.force_cancel(seeded.session)
    assert (result["previous_status"], result["requests_cancelled"]) == (live, 0)
    assert w.status(seeded.session) == model.sessions.cancelled
    assert seeded.request is not None and w.request_status(seeded.request) == model.requests.accepted


def test_force_cancel_ends_a_session_in_any_word_that_is_not_done_or_cancelled(target: Target) -> None:
    w, s = target.world, target.model.sessions
    words = [word for word in s.statuses if word not in s.done and word != s.cancelled]
    assert len(words) >= 3
    for word in words:
        seeded = w.session(w.user(), status=word, age_minutes=240, request=None)
        assert target.store.force_cancel(seeded.session)["previous_status"] == word
        assert w.status(seeded.session) == s.cancelled


def test_force_cancel_refuses_done_and_cancelled_sessions_and_unknown_ids(target: Target) -> None:
    w, model = target.world, target.model
    for word in (*model.sessions.done, model.sessions.cancelled):
        seeded = w.session(w.user(), status=word, request=None)
        before = w.snapshot()
        with pytest.raises(BadInput, match=f"has already ended \\({word}\\)"):
            target.store.force_cancel(seeded.session)
        assert w.snapshot() == before
    with pytest.raises(BadInput, match="unknown session"):
        target.store.force_cancel(uuid4())


# -- customer_session_status ------------------------------------------------------------------------


def test_every_active_word_blocks_a_new_payment(target: Target) -> None:
    w, s = target.world, target.model.sessions
    for word in s.active:
        customer = w.user()
        # An open word is cancelled when stale: young here. Any other active word never is.
        seeded = w.session(customer, status=word, age_minutes=1 if word in s.open else 240, request=None)
        status = target.store.customer_session_status(customer)
        assert (status["blocked"], status["cancelled"]) == (True, 0), word
        assert status["active_session"]["id"] == str(seeded.session)
        assert status["active_session"]["status"] == word


def test_garage_a_scheduled_session_blocks_however_old_and_no_cleanup_cancels_it(garage: Target) -> None:
    w = garage.world
    customer = w.user()
    seeded = w.session(customer, status="scheduled", age_minutes=240, request=None)
    assert garage.store.cleanup_stale(waiting_minutes=15, orphan_minutes=20)["sessions_cancelled"] == 0
    status = garage.store.customer_session_status(customer)
    assert (status["blocked"], status["cancelled"], status["active_session"]["status"]) == (
        True,
        0,
        "scheduled",
    )
    assert garage.store.health()["sessions"]["scheduled"] == {"total": 1}
    assert w.status(seeded.session) == "scheduled"


def test_a_stale_open_session_is_cancelled_and_blocks_nothing_a_young_one_blocks(target: Target) -> None:
    w, model = target.world, target.model
    stale_customer, young_customer = w.user(), w.user()
    stale = w.session(stale_customer, age_minutes=JUST_OVER)
    young = w.session(young_customer, age_minutes=JUST_UNDER)

    assert target.store.customer_session_status(stale_customer) == {
        "customer_id": str(stale_customer),
        "cancelled": 1,
        "blocked": False,
        "active_session": None,
    }
    answer = target.store.customer_session_status(young_customer)
    assert (answer["cancelled"], answer["blocked"]) == (0, True)
    assert stale.request is not None and young.request is not None
    assert w.status(stale.session) == model.sessions.cancelled
    assert w.request_status(stale.request) == model.requests.cancelled
    assert w.status(young.session) == model.sessions.open[0]
    assert w.request_status(young.request) == model.requests.pending


def test_done_and_cancelled_sessions_block_nothing(target: Target) -> None:
    w, s = target.world, target.model.sessions
    customer = w.user()
    for word in (*s.done, s.cancelled):
        w.session(customer, status=word, request=None)
    assert target.store.customer_session_status(customer)["blocked"] is False


# -- health ---------------------------------------------------------------------------------------------


def test_health_counts_by_the_models_words_with_stale_ages_and_every_problem(target: Target) -> None:
    w, model = target.world, target.model
    s, r = model.sessions, model.requests
    c1, c2 = w.user(), w.user()
    w.session(c1, age_minutes=JUST_OVER, request_age_minutes=1)  # stale
    w.session(c1, age_minutes=60.1, request_age_minutes=1)  # very stale
    w.session(c1, age_minutes=JUST_UNDER, request_age_minutes=1)
    w.session(c2, age_minutes=1, request=None)  # an orphan
    w.session(c1, status=s.live[0], request=r.accepted)  # live with no mechanic
    w.request(c1, age_minutes=JUST_OVER)  # a stale pending request of no session

    health = target.store.health(stale_minutes=15, very_stale_minutes=60)

    expected_sessions: dict[str, dict[str, int]] = {
        word: {"total": 0, "stale": 0, "veryStale": 0} if word in s.open else {"total": 0}
        for word in s.statuses
    }
    expected_sessions[s.open[0]] = {"total": 4, "stale": 2, "veryStale": 1}
    expected_sessions[s.live[0]] = {"total": 1}
    assert health["sessions"] == expected_sessions
    expected_requests: dict[str, dict[str, int]] = {
        word: {"total": 0, "stale": 0} if word == r.pending else {"total": 0} for word in r.statuses
    }
    expected_requests[r.pending] = {"total": 4, "stale": 1}
    expected_requests[r.accepted] = {"total": 1}
    assert health["requests"] == expected_requests
    assert health["orphans"] == 1
    assert [(p["code"], p["count"]) for p in health["problems"]] == [
        ("stale_waiting", 2),
        ("very_stale_waiting", 1),
        ("stale_pending_requests", 1),
        ("orphaned_sessions", 1),
        ("live_without_mechanic", 1),
    ]
    messages = {p["code"]: p["message"] for p in health["problems"]}  # in the model's own words
    open_words, live_words = "/".join(s.open), "/".join(s.live)
    assert messages["stale_waiting"].startswith(f"2 {open_words} sessions older than 15 minutes")
    assert messages["stale_pending_requests"].startswith(f"1 {r.pending} requests older than 15 minutes")
    assert messages["orphaned_sessions"].startswith(f"1 {open_words} sessions have no request")
    assert messages["live_without_mechanic"] == f"1 {live_words} sessions have no mechanic; force-cancel them"


def test_health_of_an_empty_database_has_every_word_and_no_problem(target: Target) -> None:
    health = target.store.health()
    assert list(health["sessions"]) == sorted(target.model.sessions.statuses, key=lambda x: (len(x), x))
    assert set(health["requests"]) == set(target.model.requests.statuses)
    assert health["problems"] == [] and health["orphans"] == 0


# -- the other verbs, through the model: evidence, active sessions, dry runs, deleting a user -----------


def test_user_rows_names_every_footprint_table_and_finds_the_users_rows(target: Target) -> None:
    w, model = target.world, target.model
    customer, mechanic = w.user(), w.mechanic()
    live, accepted = model.sessions.live[0], model.requests.accepted
    seeded = w.session(customer, status=live, mechanic=mechanic, request=accepted)
    CHILDREN[target.name](w, seeded, customer, mechanic, Children())
    w.session(w.user(), status=live)  # another user's

    rows = target.store.user_rows([customer])

    sessions = rows.pop(answer_name(model.sessions.table))
    requests = rows.pop(answer_name(model.requests.table))
    assert [s[model.sessions.id] for s in sessions] == [str(seeded.session)]
    assert [r[model.requests.id] for r in requests] == [str(seeded.request)]
    assert [u["id"] for u in rows.pop("users")] == [str(customer)]
    tables = {
        answer_name(t) for t in w.catalog_tables() if t not in (model.sessions.table, model.requests.table)
    }
    assert set(rows) <= tables and rows, rows
    assert all(found for found in rows.values()), rows  # every child written above is there


def test_active_sessions_finds_a_mechanics_sessions_by_its_id_or_its_user(target: Target) -> None:
    w, model = target.world, target.model
    account = w.user()
    mechanic = w.mechanic(user=account) if model.mechanics.user else w.mechanic()
    live = w.session(w.user(), status=model.sessions.live[0], mechanic=mechanic)
    w.session(w.user(), status=model.sessions.done[0], mechanic=mechanic)
    assert [s["id"] for s in target.store.active_sessions([mechanic])] == [str(live.session)]
    if model.mechanics.user:  # workshop: through the technician's sign-in user too
        assert [s["id"] for s in target.store.active_sessions([account])] == [str(live.session)]


def test_a_dry_run_purge_counts_exactly_and_changes_nothing(target: Target) -> None:
    w = target.world
    customer = w.user()
    seeded = w.session(customer)
    CHILDREN[target.name](w, seeded, customer, None, Children())
    before = w.snapshot()
    counted = target.store.purge_user(customer, dry_run=True)
    assert w.snapshot() == before
    assert target.store.purge_user(customer) == counted
    assert counted["sessions"] == counted["session_requests"] == 1


def test_deleting_a_test_user_takes_its_session_state_and_its_auth_row(target: Target) -> None:
    w = target.world
    customer = w.user()
    seeded = w.session(customer)
    CHILDREN[target.name](w, seeded, customer, None, Children())
    answer = target.store.delete_test_user(customer)
    assert (answer["users"], answer["sessions"]) == (1, 1)
    assert w.count("auth.users", "id = %s", (customer,)) == 0
    assert w.session_row(seeded.session) is None


def test_deleting_a_test_mechanic_user_that_served_a_real_customer_changes_nothing(helpdesk: Target) -> None:
    w = helpdesk.world
    agent = w.user()
    real = w.session(w.user(test=False), status="connected", mechanic=agent, request="taken")
    w.session(w.user(), status="connected", mechanic=agent, request="taken")
    before = w.snapshot()
    with pytest.raises(BadInput, match="not test users"):
        helpdesk.store.delete_test_user(agent)
    assert w.snapshot() == before
    assert w.status(real.session) == "connected"


# -- the footprint itself, on made-up catalogs ------------------------------------------------------------


def _catalog(*keys: tuple[str, str, str, str]) -> Catalog:
    """Foreign keys (child table, column, parent table, on delete), each to its parent's id."""
    fks = tuple(
        ForeignKey(f"{child}_{column}_fkey", child, (column,), parent, ("id",), action)
        for child, column, parent, action in keys
    )
    tables = {t: {"id": Column("id", "uuid")} for fk in fks for t in (fk.table, fk.ref_table)}
    return Catalog(tables, fks)


ROOTS = ("public.sessions", "public.session_requests")


def test_the_footprint_places_a_table_after_every_parent_not_only_the_one_that_led_to_it() -> None:
    # "a_files" is found first (it refers to a session) but refers to "b_events" too.
    plan = footprint(
        _catalog(
            ("public.a_files", "session_id", "public.sessions", "cascade"),
            ("public.a_files", "event_id", "public.b_events", "no action"),
            ("public.b_events", "session_id", "public.sessions", "cascade"),
        ),
        Model(),
    )
    assert [s.table for s in plan.steps] == ["public.b_events", "public.a_files"]
    assert {e.parent for e in plan.steps[1].edges} == {"public.sessions", "public.b_events"}
    assert plan.ignored == ()


def test_the_footprint_stops_at_a_set_null_key_unless_a_deleting_key_reaches_the_table_too() -> None:
    plan = footprint(
        _catalog(
            ("public.payments", "session_id", "public.sessions", "set null"),
            ("public.refunds", "payment_id", "public.payments", "cascade"),  # under a row that stays
            ("public.notes", "session_id", "public.sessions", "set null"),
            ("public.notes", "message_id", "public.messages", "cascade"),  # ... but deleted through this one
            ("public.messages", "session_id", "public.sessions", "cascade"),
            ("public.note_tags", "note_id", "public.notes", "cascade"),
        ),
        Model(),
    )
    steps = {s.table: s for s in plan.steps}
    assert list(steps) == ["public.messages", "public.notes", "public.note_tags", "public.payments"]
    assert [e.column for e in steps["public.notes"].deleted_by] == ["message_id"]
    assert [e.column for e in steps["public.notes"].nulled_by] == ["session_id"]
    assert not steps["public.payments"].deleted_by and steps["public.payments"].nulled_by


def test_a_cycle_in_the_footprint_is_broken_at_the_table_found_first() -> None:
    plan = footprint(
        _catalog(
            ("public.a", "session_id", "public.sessions", "cascade"),
            ("public.a", "b_id", "public.b", "no action"),
            ("public.b", "a_id", "public.a", "cascade"),
            ("public.a", "parent_id", "public.a", "no action"),  # a self-reference
        ),
        Model(),
    )
    assert [s.table for s in plan.steps] == ["public.a", "public.b"]
    assert sorted(fk.name for fk in plan.ignored) == ["public.a_b_id_fkey", "public.a_parent_id_fkey"]
    assert [e.parent for e in plan.steps[0].edges] == ["public.sessions"]
    assert plan.roots == ROOTS


# -- protection: scheduled sessions, and assigned ones unless the model says otherwise -----------


def protecting(name: str, **keys: Any) -> Model:
    """``name``'s model with these sessions keys (scheduled_for, cancel_assigned)."""
    model = model_of(name)
    return dataclasses.replace(model, sessions=dataclasses.replace(model.sessions, **keys))


@pytest.fixture
def bookings(postgres: LocalPostgres) -> Iterator[Target]:
    """tests/schemas/bookings.sql with its scheduled time declared and assigned sessions protected."""
    model = protecting("bookings", scheduled_for="scheduled_for", cancel_assigned=False)
    with opened(postgres.url(), "bookings", model) as found:
        yield found


@pytest.fixture
def garage_protecting(postgres: LocalPostgres) -> Iterator[Target]:
    """The garage, whose app never touches a session with a mechanic: cancel_assigned = false."""
    with opened(postgres.url(), "garage", protecting("garage", cancel_assigned=False)) as found:
        yield found


def reschedule(w: Any, session: Any, minutes: float) -> None:
    """Move a booking's time to ``minutes`` from now (negative: in the past)."""
    w.conn.execute(
        "update care.video_sessions set scheduled_for = now() + make_interval(secs => %s) where id = %s",
        (minutes * 60, session),
    )


def test_a_booking_for_later_is_protected_until_its_time_has_passed_by_the_threshold(
    bookings: Target,
) -> None:
    """A real customer's booking for tomorrow, made 40 minutes ago, in a waiting word with its pending
    request: dry run, health and cleanup name it protected and leave it; once its time has passed by
    the threshold, the cleanup cancels it and expires its request."""
    w, store = bookings.world, bookings.store
    ann, bob = w.user(test=False), w.user(test=False)
    booking = w.session(ann, status="searching", age_minutes=40, scheduled_in_minutes=24 * 60)
    abandoned = w.session(bob, status="searching", age_minutes=40)
    before = w.snapshot()

    dry = store.cleanup_stale(dry_run=True)
    assert dry == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
        "protected": {"scheduled": 1, "assigned": 0, "requests": 1},
    }
    assert w.snapshot() == before
    health = store.health()
    assert health["protected"] == {"scheduled": 1, "assigned": 0}
    assert health["sessions"]["searching"] == {"total": 2, "stale": 1, "veryStale": 0}
    assert {p["code"]: p["count"] for p in health["problems"]}["stale_waiting"] == 1

    assert store.cleanup_stale() == dry
    assert booking.request and abandoned.request
    assert (w.status(booking.session), w.request_status(booking.request)) == ("searching", "pending")
    assert (w.status(abandoned.session), w.request_status(abandoned.request)) == ("cancelled", "expired")

    reschedule(w, booking.session, -14.5)  # its time has passed, not yet by the 15 minutes
    assert store.cleanup_stale()["protected"] == {"scheduled": 1, "assigned": 0, "requests": 1}
    assert w.status(booking.session) == "searching"
    assert store.health()["protected"] == {"scheduled": 1, "assigned": 0}

    reschedule(w, booking.session, -16)
    assert store.health()["protected"] == {"scheduled": 0, "assigned": 0}
    assert store.cleanup_stale() == {
        "requests_expired": 1,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 0,
        "protected": {"scheduled": 0, "assigned": 0, "requests": 0},
    }
    assert (w.status(booking.session), w.request_status(booking.request)) == ("cancelled", "expired")


def test_a_scheduled_orphan_waits_for_its_time_too(bookings: Target) -> None:
    w = bookings.world
    later = w.session(
        w.user(test=False), status="pending", age_minutes=25, request=None, scheduled_in_minutes=60
    )
    past = w.session(
        w.user(test=False), status="pending", age_minutes=25, request=None, scheduled_in_minutes=-21
    )
    counts = bookings.store.cleanup_stale(waiting_minutes=60, orphan_minutes=20)
    assert counts == {
        "requests_expired": 0,
        "requests_cancelled": 0,
        "sessions_cancelled": 1,
        "orphans_cancelled": 1,
        "protected": {"scheduled": 1, "assigned": 0, "requests": 0},
    }
    assert (w.status(later.session), w.status(past.session)) == ("pending", "cancelled")


def test_an_assigned_open_session_is_protected_unless_the_model_says_cancel_assigned(
    garage_protecting: Target, garage: Target
) -> None:
    for target, protected in ((garage_protecting, True), (garage, False)):
        w = target.world
        truncate_rows(target)
        real, mechanic = w.user(test=False), w.mechanic()
        assigned = w.session(real, status="waiting", age_minutes=40, mechanic=mechanic, request=None)
        alone = w.session(w.user(test=False), status="waiting", age_minutes=40, request=None)

        health = target.store.health()
        dry = target.store.cleanup_stale(dry_run=True)
        counts = target.store.cleanup_stale()

        assert counts == dry
        assert counts["sessions_cancelled"] == (1 if protected else 2)
        assert w.status(alone.session) == "cancelled"
        assert w.status(assigned.session) == ("waiting" if protected else "cancelled")
        if protected:
            assert counts["protected"] == {"scheduled": 0, "assigned": 1, "requests": 0}
            assert health["protected"] == {"scheduled": 0, "assigned": 1}
            assert health["sessions"]["waiting"]["stale"] == 1  # only the one the cleanup cancels
        else:  # the schema's own model: cancel_assigned = true (the default), nothing protected
            assert "protected" not in counts and "protected" not in health
            assert health["sessions"]["waiting"]["stale"] == 2


def test_the_payment_check_never_cancels_a_protected_session_but_it_still_blocks(bookings: Target) -> None:
    w, store = bookings.world, bookings.store
    ann, expert = w.user(test=False), w.user(test=False)
    booking = w.session(ann, status="searching", age_minutes=40, scheduled_in_minutes=24 * 60)
    status = store.customer_session_status(ann)
    assert (status["cancelled"], status["blocked"], status["active_session"]["id"]) == (
        0,
        True,
        str(booking.session),
    )
    assert w.status(booking.session) == "searching"
    bob = w.user(test=False)
    taken = w.session(bob, status="pending", age_minutes=40, mechanic=expert)
    assert store.customer_session_status(bob)["cancelled"] == 0 and w.status(taken.session) == "pending"
    reschedule(w, booking.session, -16)
    assert store.customer_session_status(ann)["cancelled"] == 1
    assert w.status(booking.session) == "cancelled"


def test_force_cancel_still_cancels_a_protected_session(bookings: Target) -> None:
    w = bookings.world
    booking = w.session(w.user(test=False), status="searching", scheduled_in_minutes=24 * 60)
    assert bookings.store.force_cancel(booking.session)["previous_status"] == "searching"
    assert w.status(booking.session) == "cancelled"


def truncate_rows(target: Target) -> None:
    truncate(target.store.connection)
