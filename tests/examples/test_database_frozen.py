"""Run in order, against a PostgreSQL that the outer test stops (SIGSTOP) and resumes when asked.

A request is a file in the working directory (``freeze.request``, ``thaw.request``);
the outer test answers with ``frozen`` and ``thawed`` (tests/test_faults.py).
"""

import time
from pathlib import Path

WAIT_S = 60


def _ask(request, answer):
    Path(request).touch()
    deadline = time.monotonic() + WAIT_S
    while not Path(answer).exists():
        assert time.monotonic() < deadline, f"the outer test did not write {answer}"
        time.sleep(0.05)


def test_before_the_freeze(pitstop, customer):
    assert pitstop.store.active_sessions([customer.id]) == []


def test_a_reset_against_a_stopped_database(pitstop, customer):
    _ask("freeze.request", "frozen")
    started = time.monotonic()
    try:
        pitstop.cleanup.reset_user(customer.id)  # fails within its bound: the server never answers
    finally:
        Path("took").write_text(str(time.monotonic() - started))
        _ask("thaw.request", "thawed")


def test_after_the_thaw(pitstop, customer):
    pitstop.seed("waiting_session", customer)
    pitstop.cleanup.reset_user(customer.id)
    assert pitstop.store.active_sessions([customer.id]) == []
