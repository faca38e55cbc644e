"""Each test writes which user it got, by worker, for the outer test to compare."""

import json
import os

import pytest


@pytest.mark.parametrize("n", range(4))
def test_users(pitstop, customer, mechanic, n, tmp_path_factory):
    out = tmp_path_factory.getbasetemp().parent.parent / "users"
    out.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (out / f"{worker}-{n}.json").write_text(json.dumps([customer.email, mechanic.email, str(customer.id)]))
    assert pitstop.store.active_sessions([customer.id, mechanic.id]) == []
    session = pitstop.seed("waiting_session", customer)
    pitstop.cleanup.force_cancel(session["session_id"])
