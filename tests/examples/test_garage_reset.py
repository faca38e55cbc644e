"""Run in order on tests/schemas/garage.sql (--pitstop-config tests/schemas/garage.toml): the first
test writes its customer's rows straight into the app's tables, the second must see them purged."""

import pytest


def _count(conn, query, customer):
    return conn.execute(query, (customer.id,)).fetchone()[0]


@pytest.mark.pitstop(leaves_state=True)
def test_leaves_rows_behind(pitstop, customer):
    conn = pitstop.store.connection
    session = conn.execute(
        "insert into public.sessions (customer_user_id, status) values (%s, 'scheduled') returning id",
        (customer.id,),
    ).fetchone()[0]
    conn.execute("insert into public.session_requests (customer_id) values (%s)", (customer.id,))
    message = conn.execute(
        "insert into public.chat_messages (session_id, sender_id) values (%s, %s) returning id",
        (session, customer.id),
    ).fetchone()[0]
    conn.execute(
        "insert into public.message_reads (message_id, reader_id) values (%s, %s)", (message, customer.id)
    )
    conn.execute(
        "insert into public.session_payments (session_id, customer_user_id) values (%s, %s)",
        (session, customer.id),
    )
    assert [s["status"] for s in pitstop.store.active_sessions([customer.id])] == ["scheduled"]
    assert pitstop.store.customer_session_status(customer.id)["blocked"] is True


def test_sees_them_purged(pitstop, customer):
    conn = pitstop.store.connection
    assert _count(conn, "select count(*) from public.sessions where customer_user_id = %s", customer) == 0
    assert _count(conn, "select count(*) from public.session_requests where customer_id = %s", customer) == 0
    assert _count(conn, "select count(*) from public.chat_messages where sender_id = %s", customer) == 0
    assert _count(conn, "select count(*) from public.message_reads where reader_id = %s", customer) == 0
    # The payment outlives its session (set null): it stays, its session_id nulled.
    assert conn.execute(
        "select session_id, amount_cents from public.session_payments where customer_user_id = %s",
        (customer.id,),
    ).fetchall() == [(None, 2500)]
    assert pitstop.store.customer_session_status(customer.id)["blocked"] is False
