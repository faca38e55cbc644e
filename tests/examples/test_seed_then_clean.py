"""Run in order: the first test leaves a waiting session, the second must not see it."""

import pytest


@pytest.mark.pitstop(leaves_state=True)
def test_leaves_a_session(pitstop, customer):
    pitstop.seed("waiting_session", customer)
    assert len(pitstop.store.active_sessions([customer.id])) == 1


def test_starts_clean(pitstop, customer):
    assert pitstop.store.active_sessions([customer.id]) == []
