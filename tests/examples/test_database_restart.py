"""Run in order, against a PostgreSQL that the outer test restarts when asked (tests/test_faults.py).

A request is a file in the working directory; the outer test answers with a
``.done`` file once the server is back up.
"""

import json
import time
from pathlib import Path
from uuid import UUID

import pytest

WAIT_S = 60


def _wait_for(name):
    deadline = time.monotonic() + WAIT_S
    while not Path(name).exists():
        assert time.monotonic() < deadline, f"the outer test did not write {name}"
        time.sleep(0.05)


def test_before_the_restart(pitstop, customer):
    assert pitstop.store.active_sessions([customer.id]) == []


def test_a_restart_between_calls_goes_unnoticed(pitstop, customer):
    seeded = pitstop.seed("waiting_session", customer)
    Path("restart-idle.request").touch()
    _wait_for("restart-idle.done")
    assert [s["id"] for s in pitstop.store.active_sessions([customer.id])] == [seeded["session_id"]]
    pitstop.cleanup.reset_user(customer.id)


@pytest.mark.pitstop(leaves_state=True)
def test_a_restart_during_a_reset(pitstop, customer, mechanic):
    pitstop.seed("live_session", customer, mechanic=mechanic)
    pitstop.seed("waiting_session", customer)
    counts = pitstop.store.purge_user(customer.id, dry_run=True)
    Path("before.json").write_text(json.dumps({"customer": str(customer.id), "counts": counts}))
    # The outer test locks session_requests, so the purge deletes the participants and
    # then waits there; it restarts the server while the purge waits.
    Path("restart-during-reset.request").touch()
    _wait_for("restart-during-reset.locked")
    # Usually the restart ends the waiting purge, which fails the test with pitstop's
    # message. The server may also grant the lock (its holder ended first) and the purge
    # commit before its own end comes: then it passes. Either way, nothing is half done.
    try:
        pitstop.cleanup.reset_user(customer.id)
        Path("outcome").write_text("committed")
    finally:
        _wait_for("restart-during-reset.done")


def test_the_reset_was_not_half_done(pitstop):
    before = json.loads(Path("before.json").read_text())
    assert before["counts"]["session_participants"] == 2
    after = pitstop.store.purge_user(UUID(before["customer"]), dry_run=True)
    if Path("outcome").exists():  # all of it
        assert set(after["tables"].values()) == {0}
        assert {k: v for k, v in after.items() if k not in ("user_id", "tables")} == dict.fromkeys(
            (
                "sessions",
                "session_requests",
                "session_participants",
                "session_files",
                "chat_messages",
                "kept",
            ),
            0,
        )
    else:  # none of it
        assert after == before["counts"]


def test_later_tests_start_clean(pitstop, customer):
    assert pitstop.store.active_sessions([customer.id]) == []
