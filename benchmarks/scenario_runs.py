"""The tests the benchmark runs through pytest, against the stack it started (see ``target.Bench.pytest``).

Not collected by ``make test`` (the name does not match ``test_*.py``). Each test is
repeated ``$PITSTOP_BENCH_REPEAT`` times; the scenarios are the shipped ones or are
composed from the same flows and page objects.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness.scenarios.test_full_flow as full_flow
import pytest

from harness.engine.handle import Pitstop
from harness.engine.personas import Personas, TestUser
from harness.flows.steps import Flows, Session, plan

REPEAT = int(os.environ.get("PITSTOP_BENCH_REPEAT", "1"))
MESSAGES = int(os.environ.get("PITSTOP_BENCH_MESSAGES", "100"))
repeated = pytest.mark.parametrize("run", range(REPEAT))


@repeated
@pytest.mark.usefixtures("customer_page", "mechanic_page")
def test_ui_flow(
    run: int, pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser
) -> None:
    """The shipped full-flow scenario, as it is: pay by card in the UI, accept, chat, end."""
    full_flow.test_customer_pays_mechanic_accepts_they_chat_and_the_mechanic_ends_it(
        pitstop, pitstop_flows, customer, mechanic
    )


def _into_chat(
    pitstop: Pitstop, flows: Flows, customer: TestUser, mechanic: TestUser, session: Session
) -> None:
    """The mechanic accepts, the customer joins from the dashboard; both subscribed."""
    with pitstop.step("accept"):
        flows.open_requests(mechanic)
        flows.expect_request(mechanic, session, customer=customer, plan=plan("Quick Chat"))
        flows.accept(mechanic, session)
    flows.open_dashboard(customer)
    flows.join(customer)
    flows.open_chat(mechanic, session)


def _end(pitstop: Pitstop, flows: Flows, customer: TestUser, mechanic: TestUser) -> None:
    with pitstop.step("end"):
        flows.end(mechanic)
        flows.expect_ended(mechanic)
        flows.expect_ended(customer)


@repeated
@pytest.mark.usefixtures("customer_page", "mechanic_page")
def test_webhook_flow(
    run: int, pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser
) -> None:
    """The same flow, paid through the Stripe API (the app learns it by webhook)."""
    flows = pitstop_flows
    session = flows.paid_session(customer, via="webhook")
    _into_chat(pitstop, flows, customer, mechanic, session)
    latency = flows.say(customer, mechanic, "Hello, I need help with my car")
    latency = max(latency, flows.say(mechanic, customer, "Hi! What seems to be the problem?"))
    pitstop.record("chat_latency_ms", latency)
    _end(pitstop, flows, customer, mechanic)


@pytest.mark.usefixtures("customer_page", "mechanic_page")
def test_chat_messages(
    pitstop: Pitstop, pitstop_flows: Flows, customer: TestUser, mechanic: TestUser
) -> None:
    """``$PITSTOP_BENCH_MESSAGES`` messages, alternating sides; latencies to ``$PITSTOP_BENCH_OUT``."""
    flows = pitstop_flows
    session = flows.paid_session(customer, via="webhook")
    _into_chat(pitstop, flows, customer, mechanic, session)
    pairs = [(customer, mechanic), (mechanic, customer)]
    latencies = [flows.say(*pairs[i % 2], f"message {i}") for i in range(MESSAGES)]
    Path(os.environ["PITSTOP_BENCH_OUT"], "chat.json").write_text(json.dumps(latencies))
    _end(pitstop, flows, customer, mechanic)


@pytest.fixture
def new_customer(pitstop: Pitstop, run: int) -> Iterator[TestUser]:
    """A test user no one has signed in yet (made in the setup, deleted in the teardown)."""
    personas = Personas(run_id=pitstop.run.run_id, worker_id=f"signin{run}", seed=time.time_ns())
    user = personas.create(pitstop.store, "customer", "customer")
    yield user
    pitstop.store.delete_test_user(user.id)


@repeated
def test_sign_in(
    run: int, pitstop: Pitstop, pitstop_flows: Flows, new_customer: TestUser, browser: Any
) -> None:
    """One persona signed in as the page fixtures sign it in ([tool.pitstop.auth] mode): the call phase."""
    pitstop.storage_state(new_customer, browser, pitstop_flows.sign_in)


@repeated
def test_trivial_with_customer(run: int, customer: TestUser) -> None:
    """Uses a pitstop user: the plugin resets it before and checks it for leaks after."""
    assert customer.email


@repeated
def test_trivial_without_user(run: int) -> None:
    """The same test without a pitstop user: the plugin does nothing for it."""
