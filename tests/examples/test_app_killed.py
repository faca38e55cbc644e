"""Run in order: the app is killed in the middle (the outer test gives its pid); database work goes on."""

import os
import signal
import socket
import time
from urllib.parse import urlsplit

from playwright.sync_api import expect

WAIT_S = 30


def _refused(url):
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_before_the_app_dies(customer_page):
    customer_page.goto("/customer/dashboard")
    expect(customer_page.get_by_test_id("session-history")).to_be_attached()


def test_the_app_dies_mid_test(customer_page, base_url):
    os.kill(int(os.environ["PITSTOP_TEST_APP_PID"]), signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while not _refused(base_url):
        assert time.monotonic() < deadline, "the app still answers"
        time.sleep(0.05)
    customer_page.goto("/customer/dashboard")


def test_database_work_goes_on(pitstop, customer):
    pitstop.seed("waiting_session", customer)
    pitstop.cleanup.reset_user(customer.id)
    assert pitstop.store.active_sessions([customer.id]) == []
