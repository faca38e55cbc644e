"""Run in order on tests/schemas/concierge.sql (--pitstop-config tests/schemas/concierge.toml): the
first two tests leave rows behind (seeded, and written straight into the app's tables), each next
test must see its users' rows purged; the app allows one active session per customer, so a seed
that finds the last test's session would fail."""

import pytest


def _count(conn, query, *params):
    return conn.execute(query, params).fetchone()[0]


@pytest.mark.pitstop(leaves_state=True)
def test_leaves_a_live_session_and_its_rows(pitstop, customer, mechanic):
    conn = pitstop.store.connection
    live = pitstop.seed("live_session", customer, mechanic=mechanic)["session_id"]
    conn.execute("insert into concierge.session_notes (session_id, body) values (%s, 'on my way')", (live,))
    conn.execute("insert into concierge.receipts (session_id, amount_cents) values (%s, 2500)", (live,))
    [(assignment, status)] = conn.execute(
        "select assignment_id, status from concierge.assignments where session_id = %s", (live,)
    ).fetchall()
    assert status == "accepted"
    conn.execute("insert into concierge.assignment_replies (assignment_id) values (%s)", (assignment,))
    assert [s["status"] for s in pitstop.store.active_sessions([customer.id])] == ["in_progress"]


@pytest.mark.pitstop(leaves_state=True)
def test_leaves_a_waiting_session_a_mechanic_declined(pitstop, customer, mechanic):
    conn = pitstop.store.connection
    assert _count(conn, "select count(*) from concierge.help_sessions where requester = %s", customer.id) == 0
    waiting = pitstop.seed("waiting_session", customer)["session_id"]  # the live one is gone
    conn.execute(
        "insert into concierge.assignments (session_id, mechanic, status, channel)"
        " values (%s, %s, 'declined', 'sms')",
        (waiting, mechanic.id),
    )
    assert pitstop.store.customer_session_status(customer.id)["blocked"] is True


def test_starts_clean(pitstop, customer, mechanic):
    conn = pitstop.store.connection
    assert _count(conn, "select count(*) from concierge.help_sessions where requester = %s", customer.id) == 0
    assert _count(conn, "select count(*) from concierge.assignments where mechanic = %s", mechanic.id) == 0
    assert _count(conn, "select count(*) from concierge.session_notes") == 0
    assert _count(conn, "select count(*) from concierge.assignment_replies") == 0
    # The receipt outlives its session (set null): it stays, its session_id nulled.
    assert conn.execute("select session_id, amount_cents from concierge.receipts").fetchall() == [
        (None, 2500)
    ]
    assert pitstop.store.customer_session_status(customer.id)["blocked"] is False
    session = pitstop.seed("waiting_session", customer)["session_id"]
    assert pitstop.store.force_cancel(session)["queues"] == {"assignments": 1}
