"""The xdist controller's broker: it starts the target once, on the first worker's request, answers
every worker alike (the target or its error), survives peers that go away, and its thread outlives
the servers it started until it is released."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from harness.errors import BadInput, PitstopError, Unreachable
from harness.json_types import JSON
from harness.plugin.xdist import TargetBroker, fetch
from harness.stack.embedded import _die_with_parent

WAIT_S = 30


class Provider:
    def __init__(self, answer: JSON | Exception, *, hold: threading.Event | None = None) -> None:
        self.answer = answer
        self.calls = 0
        self.hold = hold

    def __call__(self) -> JSON:
        self.calls += 1
        if self.hold is not None:
            assert self.hold.wait(WAIT_S)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def ended() -> Iterator[list[TargetBroker]]:
    """Brokers to stop and release after the test, whatever happened."""
    brokers: list[TargetBroker] = []
    yield brokers
    for broker in brokers:
        broker.stop()
        broker.release()


def test_the_target_is_started_once_and_handed_to_every_worker(ended: list[TargetBroker]) -> None:
    provide = Provider({"app_url": "http://127.0.0.1:1", "kind": "embedded"})
    broker = TargetBroker(provide)
    ended.append(broker)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: fetch(broker.wire(), timeout_s=WAIT_S), range(4)))
    assert answers == [{"app_url": "http://127.0.0.1:1", "kind": "embedded"}] * 4
    assert provide.calls == 1


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (BadInput("no stack here", fix="install the extra"), BadInput, "no stack here"),
        (RuntimeError("boom"), PitstopError, "starting the target failed: RuntimeError: boom"),
    ],
)
def test_a_failed_start_is_every_workers_error_and_is_not_retried(
    ended: list[TargetBroker], error: Exception, kind: type[PitstopError], message: str
) -> None:
    provide = Provider(error)
    broker = TargetBroker(provide)
    ended.append(broker)
    for _ in range(3):
        with pytest.raises(kind) as caught:
            fetch(broker.wire(), timeout_s=WAIT_S)
        assert caught.value.message == message
        assert type(caught.value) is kind
    assert provide.calls == 1
    assert (caught.value.fix == "install the extra") == (kind is BadInput)


def test_peers_that_go_away_or_do_not_know_the_key_leave_it_serving(ended: list[TargetBroker]) -> None:
    provide = Provider({"kind": "given"})
    broker = TargetBroker(provide)
    ended.append(broker)
    address = (broker.wire()["host"], broker.wire()["port"])
    socket.create_connection(address, timeout=WAIT_S).close()  # connects and leaves
    with socket.create_connection(address, timeout=WAIT_S) as peer:
        peer.sendall(b"not json\n")
    with socket.create_connection(address, timeout=WAIT_S) as peer:
        peer.sendall(b'{"key": "wrong"}\n')
        assert peer.recv(100) == b""  # answered nothing
    assert provide.calls == 0
    assert fetch(broker.wire(), timeout_s=WAIT_S) == {"kind": "given"}


def test_a_stopped_broker_is_unreachable_and_its_thread_ends_when_released() -> None:
    broker = TargetBroker(Provider({"kind": "given"}))
    broker.stop()
    with pytest.raises(Unreachable, match="did not hand over the target"):
        fetch(broker.wire(), timeout_s=WAIT_S)
    broker.release()
    assert not broker._thread.is_alive()


def test_stop_waits_for_the_start_in_hand(ended: list[TargetBroker]) -> None:
    hold = threading.Event()
    provide = Provider({"kind": "embedded"}, hold=hold)
    broker = TargetBroker(provide)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        asked = pool.submit(fetch, broker.wire(), WAIT_S)
        while provide.calls == 0:
            time.sleep(0.01)
        stopping = pool.submit(broker.stop)
        time.sleep(0.2)
        assert not stopping.done()  # the target is still starting
        hold.set()
        assert asked.result(timeout=WAIT_S) == {"kind": "embedded"}
        stopping.result(timeout=WAIT_S)
    broker.release()


def test_the_servers_it_started_live_until_it_is_released() -> None:
    """A server started by the target's start dies with the thread that started it
    (PR_SET_PDEATHSIG): the broker's thread must outlive ``stop``, and end at ``release``."""
    started: list[subprocess.Popen[bytes]] = []

    def provide() -> JSON:
        started.append(subprocess.Popen(["sleep", "60"], preexec_fn=_die_with_parent))
        return {"kind": "embedded"}

    broker = TargetBroker(provide)
    try:
        assert fetch(broker.wire(), timeout_s=WAIT_S) == {"kind": "embedded"}
        broker.stop()
        time.sleep(0.3)
        assert started[0].poll() is None  # alive after stop, while the run stops its target
    finally:
        broker.release()
    try:
        assert started[0].wait(timeout=WAIT_S) == -signal.SIGTERM  # its parent thread ended
    finally:
        if started[0].poll() is None:
            os.kill(started[0].pid, signal.SIGKILL)
            started[0].wait(timeout=WAIT_S)
