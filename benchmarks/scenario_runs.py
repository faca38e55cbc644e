"""The tests the benchmark runs through pytest, against the stack it started (see ``target.Bench.pytest``).

Not collected by ``make test`` (the name does not match ``test_*.py``). Each test is
repeated ``$PITSTOP_BENCH_REPEAT`` times; the scenarios are the shipped ones or are
composed from the same flows and page objects.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

import scenarios.test_full_flow as full_flow
from harness.handle import Pitstop
from harness.personas import TestUser
from scenarios.flows import accept, pay, say
from scenarios.pages import ChatPage, CustomerDashboard

REPEAT = int(os.environ.get("PITSTOP_BENCH_REPEAT", "1"))
MESSAGES = int(os.environ.get("PITSTOP_BENCH_MESSAGES", "100"))
repeated = pytest.mark.parametrize("run", range(REPEAT))


@repeated
def test_ui_flow(
    run: int,
    pitstop: Pitstop,
    customer: TestUser,
    mechanic: TestUser,
    customer_page: Page,
    mechanic_page: Page,
) -> None:
    """The shipped full-flow scenario, as it is: pay by card in the UI, accept, chat, end."""
    full_flow.test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it(
        pitstop, customer, mechanic, customer_page, mechanic_page
    )


def _into_chat(
    pitstop: Pitstop, customer: TestUser, mechanic_page: Page, customer_page: Page, session: dict[str, str]
) -> tuple[ChatPage, ChatPage]:
    """The mechanic accepts, the customer joins from the dashboard; both subscribed."""
    mechanic_chat = accept(pitstop, mechanic_page, session, customer=customer, plan_name="Quick Chat")
    CustomerDashboard(customer_page).open().join_session()
    customer_chat = ChatPage(customer_page)
    customer_chat.wait_until_subscribed()
    mechanic_chat.wait_until_subscribed()
    return customer_chat, mechanic_chat


def _end(pitstop: Pitstop, customer_chat: ChatPage, mechanic_chat: ChatPage) -> None:
    with pitstop.step("end"):
        mechanic_chat.end_session()
        mechanic_chat.expect_ended()
        customer_chat.expect_ended()


@repeated
def test_webhook_flow(
    run: int,
    pitstop: Pitstop,
    customer: TestUser,
    mechanic: TestUser,
    customer_page: Page,
    mechanic_page: Page,
) -> None:
    """The same flow, paid through the Stripe API (the app learns it by webhook)."""
    session = pay(pitstop, customer, customer_page, via="webhook")
    customer_chat, mechanic_chat = _into_chat(pitstop, customer, mechanic_page, customer_page, session)
    latency = say(customer_chat, mechanic_chat, "Hello, I need help with my car")
    latency = max(latency, say(mechanic_chat, customer_chat, "Hi! What seems to be the problem?"))
    pitstop.record("chat_latency_ms", latency)
    _end(pitstop, customer_chat, mechanic_chat)


def test_chat_messages(
    pitstop: Pitstop, customer: TestUser, customer_page: Page, mechanic_page: Page
) -> None:
    """``$PITSTOP_BENCH_MESSAGES`` messages, alternating sides; latencies to ``$PITSTOP_BENCH_OUT``."""
    session = pay(pitstop, customer, customer_page, via="webhook")
    customer_chat, mechanic_chat = _into_chat(pitstop, customer, mechanic_page, customer_page, session)
    pairs = [(customer_chat, mechanic_chat), (mechanic_chat, customer_chat)]
    latencies = [say(*pairs[i % 2], f"message {i}") for i in range(MESSAGES)]
    Path(os.environ["PITSTOP_BENCH_OUT"], "chat.json").write_text(json.dumps(latencies))
    _end(pitstop, customer_chat, mechanic_chat)


@repeated
def test_trivial_with_customer(run: int, customer: TestUser) -> None:
    """Uses a pitstop user: the plugin resets it before and checks it for leaks after."""
    assert customer.email


@repeated
def test_trivial_without_user(run: int) -> None:
    """The same test without a pitstop user: the plugin does nothing for it."""
