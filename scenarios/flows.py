"""Flows composed from page objects: what a customer and a mechanic do, with step timings."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from harness.data import load
from harness.handle import Pitstop
from harness.personas import TestUser

from .pages import (
    Card,
    ChatPage,
    CheckoutPage,
    IntakePage,
    MechanicDashboard,
    PricingPage,
    SuccessPage,
    Vehicle,
)

# Records when a message is sent (sender) and first shown (receiver), both on
# the browser's clock, so that the latency is measured browser to browser.
# Installed once per page: later calls find it armed.
_ARM_SENDER = """() => {
  if (window.__pitstopSenderArmed) return;
  window.__pitstopSenderArmed = true;
  const button = document.querySelector('[data-testid=chat-send]');
  button.addEventListener('click', () => { window.__pitstopSent = Date.now(); }, {capture: true});
}"""
_ARM_RECEIVER = """() => {
  if (window.__pitstopSeen) return;
  window.__pitstopSeen = {};
  const list = document.querySelector('[data-testid=chat-messages]');
  const look = () => {
    for (const body of list.querySelectorAll('[data-testid=message-body]')) {
      if (!(body.textContent in window.__pitstopSeen)) window.__pitstopSeen[body.textContent] = Date.now();
    }
  };
  new MutationObserver(look).observe(list, {childList: true, subtree: true});
  look();
}"""


def plan(name: str) -> dict[str, Any]:
    return next(p for p in load("plans") if p["name"] == name)


def vehicle(index: int = 0) -> Vehicle:
    chosen: Vehicle = load("vehicles")[index]
    return chosen


def card(name: str = "visa") -> Card:
    chosen: Card = load("cards")[name]
    return chosen


def buy_through_checkout(page: Page, *, plan_slug: str, details: Vehicle, payment_card: Card) -> None:
    """Pricing → intake → checkout → pay: the customer's side, through the UI."""
    PricingPage(page).open().choose(plan_slug)
    IntakePage(page).describe(details)
    CheckoutPage(page).pay_with_card(payment_card)


def pay(
    pitstop: Pitstop,
    customer: TestUser,
    page: Page,
    *,
    plan_name: str = "Quick Chat",
    details: Vehicle | None = None,
    via: str | None = None,
) -> dict[str, Any]:
    """Pay for a session as the run is told (``--pitstop-payment``), and wait until it exists.

    Returns the session (``id``, ``status``, ``request_id``) once the app fulfilled it.
    """
    chosen = plan(plan_name)
    details = details or vehicle()
    with pitstop.step("payment"):
        if (via or pitstop.payment) == "webhook":
            return pitstop.pay_by_webhook(customer, plan=chosen, vehicle=dict(details), card=dict(card()))
        buy_through_checkout(page, plan_slug=chosen["slug"], details=details, payment_card=card())
        SuccessPage(page).expect_session("waiting")
        return pitstop.active_session(customer)


def accept(
    pitstop: Pitstop, page: Page, session: dict[str, Any], *, customer: TestUser, plan_name: str
) -> ChatPage:
    """The mechanic finds this session's own request, accepts it and lands in its chat."""
    with pitstop.step("accept"):
        dashboard = MechanicDashboard(page).open()
        dashboard.expect_request(session["request_id"], customer=customer.name, plan=plan_name)
        dashboard.accept(session["request_id"])
        expect(page).to_have_url(f"{pitstop.target.app_url}/session/{session['id']}")
    return ChatPage(page)


def say(sender: ChatPage, receiver: ChatPage, text: str) -> float:
    """Send ``text`` (new to this chat) and wait until the other side shows it; the latency in ms.

    Measured browser to browser: from the click on Send in one page to the
    message appearing in the other, both on the browser's clock.
    """
    receiver.page.evaluate(_ARM_RECEIVER)
    sender.page.evaluate(_ARM_SENDER)
    sender.send(text)
    seen = receiver.page.wait_for_function("t => window.__pitstopSeen && window.__pitstopSeen[t]", arg=text)
    sent = sender.page.evaluate("() => window.__pitstopSent")
    return float(seen.json_value()) - float(sent)
