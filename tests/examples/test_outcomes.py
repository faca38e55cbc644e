import pytest


def test_passes(pitstop, customer):
    assert customer.email.endswith("@pitstop.test")


def test_fails(pitstop, customer):
    pitstop.seed("waiting_session", customer)
    pitstop.cleanup.force_cancel(pitstop.store.active_sessions([customer.id])[0]["id"])
    raise AssertionError("on purpose")


def test_skipped():
    pytest.skip("on purpose")
