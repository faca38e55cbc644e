"""Each embedded Stripe keeps its state to itself: never localstripe's shared /tmp/localstripe.pickle.

The watch (tests/pickle_guard.py) is an audit hook inside each localstripe
process: it sees every open of the shared file, records it and refuses it.
Unpatched, localstripe opens it on its first write (and the call fails with
500 under the watch), so these tests fail when the wrapper is not used or no
longer replaces the persistence; and other runs writing the file on the same
machine cannot make them fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from harness.stack.postgres import free_port
from tests.pickle_guard import PickleGuard
from tests.reference_app.servers import LocalStripe, Process

KEY = ("sk_test_pitstop_state", "")


def _customers(stripe: LocalStripe) -> list[dict[str, object]]:
    answer = httpx.get(f"{stripe.url}/v1/customers", params={"limit": 100}, auth=KEY, timeout=10)
    answer.raise_for_status()
    data: list[dict[str, object]] = answer.json()["data"]
    return data


def test_localstripe_keeps_its_store_in_its_own_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = PickleGuard(tmp_path / "guard", monkeypatch)
    first = LocalStripe(tmp_path)
    try:
        ids = []
        for n in range(20):
            answer = httpx.post(
                f"{first.url}/v1/customers", data={"email": f"c{n}@pitstop.test"}, auth=KEY, timeout=10
            )
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["id"])
        assert httpx.delete(f"{first.url}/v1/customers/{ids[0]}", auth=KEY, timeout=10).status_code == 200
        assert len(_customers(first)) == 19
        (tmp_path / "second").mkdir()
        second = LocalStripe(tmp_path / "second")  # started after the first wrote: it sees none of it
        try:
            assert _customers(second) == []
        finally:
            second.stop()
    finally:
        first.stop()
    assert guard.watched(first.pid) and guard.watched(second.pid)
    assert guard.opened() == {}


def test_the_watch_catches_localstripe_as_it_ships(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch itself: localstripe without the wrapper is caught at its first write (and refused)."""
    guard = PickleGuard(tmp_path / "guard", monkeypatch)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "harness.stack.loopback", "localstripe"]
    argv += ["--port", str(port), "--from-scratch"]
    unpatched = Process("localstripe-unpatched", argv, env=None, log_dir=tmp_path)
    try:
        unpatched.wait_ready(f"{url}/js.stripe.com/v3/")
        answer = httpx.post(f"{url}/v1/customers", data={"email": "c@pitstop.test"}, auth=KEY, timeout=10)
        assert answer.status_code == 500
    finally:
        unpatched.stop()
    assert guard.watched(unpatched.pid)
    assert "w" in guard.opened()[unpatched.pid]
