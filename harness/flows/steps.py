"""The steps the shipped scenarios take in the app, in one overridable object: ``Flows``.

Every step a scenario takes in the app's pages is a method of ``Flows``; what
the scenarios check beside the pages stays pitstop's: the database (through
the ``pitstop`` handle), the two-actor waits (``pitstop.active_session``), the
step timings (``pitstop.step``) and the browser-to-browser chat latency
(``Flows.say``, whose probe reads the page through ``chat_probe``).

The default drives the reference app with the page objects of
``harness.flows.pages``. An app whose pages differ subclasses ``Flows`` in
its ``conftest.py`` and hands the subclass to the ``pitstop_flows_class``
fixture; the shipped scenarios then take its steps::

    import pytest
    from harness import Flows

    class OurFlows(Flows):
        def sign_in(self, page, user):
            page.goto("/login")
            page.get_by_label("Email").fill(user.email)
            ...

    @pytest.fixture(scope="session")
    def pitstop_flows_class():
        return OurFlows

A step names its actor, a test user (``customer``, ``mechanic``,
``second_mechanic``), and acts in that user's signed-in page
(``self.page(user)``). It acts (``pay``, ``accept``, ``send``, ``end``…) or
checks (``expect_*``), and returns once the app shows the result, waiting as
Playwright's ``expect`` waits, never by sleeping. What each default step relies
on in the app is in docs/app-contract.md.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from playwright.sync_api import Locator, Page

from harness.config.contract import AppContract
from harness.engine.data import load
from harness.engine.handle import Pitstop
from harness.engine.personas import TestUser

from .pages import (
    Card,
    ChatPage,
    CustomerDashboard,
    IntakePage,
    LoginPage,
    MechanicDashboard,
    Plan,
    PricingPage,
    SuccessPage,
    Vehicle,
    payment_form,
)
from .pages.contract import SessionStatus
from .probe import ChatProbe, delivery_ms
from .readiness import Ready

# A session as the harness reads it through the store (``Pitstop.session``: ids, status, the row, the
# request, the customer's and mechanic's names and emails; ``payment_intent_id`` when paid by API).
Session = dict[str, Any]


def plan(name: str) -> Plan:
    chosen: Plan = next(p for p in load("plans") if p["name"] == name)
    return chosen


def vehicle(index: int = 0) -> Vehicle:
    chosen: Vehicle = load("vehicles")[index]
    return chosen


def card(name: str = "visa") -> Card:
    chosen: Card = load("cards")[name]
    return chosen


# For the methods whose parameters bear these names.
_default_plan, _default_vehicle, _default_card = plan, vehicle, card


def _as_listed(session: Session) -> dict[str, str]:
    """What a list shows of a session (``Pitstop.session``'s shape): the customer's name and the plan."""
    customer = session.get("customer") or {}
    return {"customer": str(customer.get("name") or ""), "plan": str(session.get("plan") or "")}


# How a failure names the step it happened in (the innermost one: a step that calls steps names the one
# that failed).
_STEP_NOTE = "pitstop: failed in the step "


def _named(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, a step, with its failures naming it and saying where to change it."""

    @functools.wraps(method)
    def step(self: Flows, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if not any(note.startswith(_STEP_NOTE) for note in getattr(exc, "__notes__", ())):
                exc.add_note(_step_note(type(self), method))
            raise

    return step


def _step_note(flows: type, method: Callable[..., Any]) -> str:
    owner = method.__qualname__.rsplit(".", 1)[0]
    where = f"{owner}.{method.__name__}"
    if owner == "Flows":
        return (
            f"{_STEP_NOTE}{where} (pitstop's default, for the reference app's pages). If your app's pages "
            f"differ from what it relies on (docs/app-contract.md), override {method.__name__} in your "
            f"Flows subclass{'' if flows is Flows else f' ({flows.__name__})'}."
        )
    return f"{_STEP_NOTE}{where} (your override)."


def _kept(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` (of ``self`` alone) answering what its first call answered, per ``Flows``."""

    @functools.wraps(method)
    def kept(self: Flows) -> Any:
        answers = self.__dict__.setdefault("_kept", {})
        if method.__name__ not in answers:
            answers[method.__name__] = method(self)  # set after the call: an override's answer wins
        return answers[method.__name__]

    return kept


# Override points whose answer is made once per Flows: a wait that records events must be the same one.
_KEPT = ("chat_ready",)


def _name_steps(flows: type) -> None:
    """Wrap the public methods ``flows`` defines (its steps) with ``_named`` (and ``_kept``)."""
    for name, value in list(vars(flows).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(flows, name, _named(_kept(value) if name in _KEPT else value))


class Flows:
    """The steps of the shipped scenarios, driving the reference app's pages (override to drive yours).

    Built by the ``pitstop_flows`` fixture with ``pitstop`` (the handle),
    ``pages`` (a test user → that user's signed-in page in this test) and
    ``contract`` (``[tool.pitstop]``: login paths, test-id attribute). Outside
    pytest, give it any function from a user to a page.
    """

    WAITING = SessionStatus("waiting", "a paid session no mechanic has accepted yet")
    LIVE = SessionStatus("live", "a session a mechanic accepted")
    COMPLETED = SessionStatus("completed", "a session the mechanic ended")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _name_steps(cls)

    def __init__(self, *, pitstop: Pitstop, pages: Callable[[TestUser], Page], contract: AppContract) -> None:
        self.pitstop = pitstop
        self.pages = pages
        self.contract = contract

    def page(self, user: TestUser) -> Page:
        """The user's signed-in page in this test (made on first use; the readiness waits armed on it)."""
        page = self.pages(user)
        self.chat_ready().arm(page)
        return page

    # -- signing in ---------------------------------------------------------------------

    def sign_in(self, page: Page, user: TestUser) -> None:
        """Sign ``user`` in on ``page``, a fresh page of its own context; return once signed in.

        The page fixtures (``customer_page``…) call it once per user and
        worker, and keep the signed-in browser state for the user's later pages.
        """
        login = LoginPage(page, self.contract.login_path(user.role)).open()
        login.sign_in(user.email, user.password)
        login.expect_signed_in()

    # -- paying -------------------------------------------------------------------------

    def choose_plan(self, customer: TestUser, plan: Plan) -> None:
        """From the plans, choose ``plan``: the customer is taken to the intake."""
        PricingPage(self.page(customer)).open().choose(plan)

    def describe(self, customer: TestUser, vehicle: Vehicle) -> None:
        """Fill in the vehicle and the problem, and go on to the payment."""
        IntakePage(self.page(customer)).describe(vehicle)

    def pay_with_card(self, customer: TestUser, card: Card) -> None:
        """Pay with ``card`` on the page the app sent the customer to, and press Pay.

        Either kind: the app's own card form (Stripe's card element, or
        localstripe's stand-in), or a hosted Checkout page (Stripe's, or the
        embedded Stripe's), told apart by what the page shows.
        """
        payment_form(self.page(customer)).pay_with_card(card, email=customer.email, name=customer.name)

    def pay(self, customer: TestUser, *, plan: Plan, vehicle: Vehicle, card: Card) -> None:
        """The customer buys ``plan`` through the UI: plans → intake → card, up to pressing Pay.

        Returns without waiting for the outcome: follow with ``expect_waiting``,
        ``expect_declined`` or ``expect_blocked``.
        """
        self.choose_plan(customer, plan)
        self.describe(customer, vehicle)
        self.pay_with_card(customer, card)

    def expect_waiting(self, customer: TestUser) -> None:
        """After paying: the app shows the new session, waiting for a mechanic."""
        SuccessPage(self.page(customer)).expect_session(self.WAITING)

    def expect_declined(self, customer: TestUser, message: str) -> None:
        """After paying: the card was declined, with ``message`` (Stripe's), where the customer paid."""
        payment_form(self.page(customer)).expect_declined(message)

    def expect_blocked(self, customer: TestUser) -> None:
        """After paying: the app refused to use the payment, as an active session blocks it."""
        SuccessPage(self.page(customer)).expect_blocked()

    def revisit_payment(self, customer: TestUser, session: Session) -> None:
        """Come back to the page Stripe sent the customer to after paying for ``session``.

        By its Checkout Session (``checkout_session_id``) when it was paid by
        one, else by its PaymentIntent (``payment_intent_id``).
        """
        SuccessPage(self.page(customer)).open(
            str(session.get("payment_intent_id") or ""),
            checkout_session_id=str(session.get("checkout_session_id") or ""),
        )

    def paid_session(
        self,
        customer: TestUser,
        *,
        plan: Plan | None = None,
        vehicle: Vehicle | None = None,
        card: Card | None = None,
        via: str | None = None,
    ) -> Session:
        """Pay as the run is told (``--pitstop-payment``, or ``via``) and wait until the session exists.

        Timed as the ``payment`` step. ``ui``: ``pay`` and ``expect_waiting``;
        ``webhook``: through the Stripe API, the app told by webhook (no page).
        Defaults: Quick Chat, the first vehicle, the Visa card. Returns the
        session (``id``, ``status``, ``request_id``) once the app made it.
        """
        chosen = plan or _default_plan("Quick Chat")
        details = vehicle or _default_vehicle()
        payment_card = card or _default_card()
        with self.pitstop.step("payment"):
            if (via or self.pitstop.payment) == "webhook":
                return self.pitstop.pay_by_webhook(
                    customer, plan=dict(chosen), vehicle=dict(details), card=dict(payment_card)
                )
            self.pay(customer, plan=chosen, vehicle=details, card=payment_card)
            self.expect_waiting(customer)
            return self.pitstop.active_session(customer)

    # -- the customer's dashboard ----------------------------------------------------------

    def open_dashboard(self, customer: TestUser) -> None:
        """Go to the customer's dashboard."""
        CustomerDashboard(self.page(customer)).open()

    def expect_next_session(self, customer: TestUser, status: str) -> None:
        """On the dashboard the customer has open: the next session shows ``status`` (it updates live)."""
        CustomerDashboard(self.page(customer)).expect_next_session(status)

    def expect_nothing_upcoming(self, customer: TestUser) -> None:
        """On the dashboard the customer has open: no next session."""
        CustomerDashboard(self.page(customer)).expect_nothing_upcoming()

    def join(self, customer: TestUser) -> None:
        """From the dashboard, Join Session: into the live session's chat, subscribed."""
        CustomerDashboard(self.page(customer)).join_session()
        self.chat_ready().wait(self.page(customer))

    def expect_history(self, customer: TestUser, session: Session, status: str) -> None:
        """The dashboard's history lists ``session`` with ``status`` (opens the dashboard)."""
        CustomerDashboard(self.page(customer)).open().expect_in_history(str(session["id"]), status)

    # -- the mechanic's dashboard ----------------------------------------------------------

    def open_requests(self, mechanic: TestUser) -> None:
        """Go to the mechanic's list of pending requests."""
        MechanicDashboard(self.page(mechanic)).open()

    def expect_request(self, mechanic: TestUser, session: Session, *, customer: TestUser, plan: Plan) -> None:
        """The list shows this session's request: the customer's name and the plan's."""
        MechanicDashboard(self.page(mechanic)).expect_request(
            str(session["request_id"]), customer=customer.name, plan=plan["name"]
        )

    def expect_no_request(self, mechanic: TestUser, session: Session) -> None:
        """The list does not show this session's request."""
        MechanicDashboard(self.page(mechanic)).expect_no_request(str(session["request_id"]))

    def accept(self, mechanic: TestUser, session: Session) -> None:
        """Accept this session's request from the list: the mechanic lands in its chat."""
        MechanicDashboard(self.page(mechanic)).accept(str(session["request_id"]), **_as_listed(session))
        ChatPage(self.page(mechanic)).expect_open(str(session["id"]))

    def accept_button(self, mechanic: TestUser, session: Session) -> Locator:
        """The Accept button of this session's request in the mechanic's list (found, not pressed)."""
        return MechanicDashboard(self.page(mechanic)).accept_button(
            str(session["request_id"]), **_as_listed(session)
        )

    def press_accept(self, mechanic: TestUser, session: Session) -> None:
        """Press Accept on this session's request and return at once."""
        self.press_accept_together([mechanic], session)

    def press_accept_together(self, mechanics: Sequence[TestUser], session: Session) -> None:
        """``mechanics`` press Accept on this session's request at once, and this returns at once.

        Every button is found before any is pressed: a list that drops a request the moment
        another mechanic takes it must not leave a later mechanic nothing to press.
        """
        buttons = [self.accept_button(mechanic, session).element_handle() for mechanic in mechanics]
        for button in buttons:
            button.evaluate("button => button.click()")

    def lands_in_chat(self, mechanic: TestUser, session: Session, *, timeout_ms: float = 5_000) -> bool:
        """Whether the mechanic's page reaches the session's chat within ``timeout_ms``."""
        try:
            ChatPage(self.page(mechanic)).expect_open(str(session["id"]), timeout=timeout_ms)
        except AssertionError:
            return False
        return True

    def expect_taken(self, mechanic: TestUser) -> None:
        """The mechanic is told that another mechanic accepted the request first."""
        MechanicDashboard(self.page(mechanic)).expect_taken()

    # -- the chat -----------------------------------------------------------------------

    def open_chat(self, user: TestUser, session: Session) -> None:
        """Be in the session's chat, subscribed: go there unless the page is there already."""
        chat = ChatPage(self.page(user))
        if not chat.is_open(str(session["id"])):
            chat.open(str(session["id"]))
        self.chat_ready().wait(self.page(user))

    def expect_chat_refused(self, user: TestUser, session: Session) -> None:
        """Opening the session's chat is refused to ``user`` (not a participant), and shows no chat."""
        chat = ChatPage(self.page(user))
        chat.expect_refused(chat.visit(str(session["id"])))

    def send(self, user: TestUser, text: str) -> None:
        """Type ``text`` into the chat and send it."""
        ChatPage(self.page(user)).send(text)

    def expect_message(self, user: TestUser, text: str, *, sender: TestUser) -> None:
        """The user's chat shows ``text``, from ``sender`` (by name), with the time it was sent."""
        ChatPage(self.page(user)).expect_message(text, sender=sender.name)

    def messages(self, user: TestUser) -> list[str]:
        """The texts of the messages the user's chat shows, in order."""
        return ChatPage(self.page(user)).bodies()

    def end(self, mechanic: TestUser) -> None:
        """The mechanic ends the session from its chat."""
        ChatPage(self.page(mechanic)).end_session()

    def expect_ended(self, user: TestUser) -> None:
        """The user's chat shows the session ended, without a reload."""
        ChatPage(self.page(user)).expect_ended(self.COMPLETED)

    def chat_probe(self) -> ChatProbe:
        """Where the chat-latency probe looks in a chat page: the message list, the send control, the box."""
        return ChatPage.probe()

    def chat_ready(self) -> Ready:
        """How ``join`` and ``open_chat`` know the chat is subscribed (a page state, or an event it saw).

        Made once per ``Flows`` (one per test): every call answers the same ``Ready``, which records what
        each page received since a step first took it.
        """
        return ChatPage.ready()

    def say(self, sender: TestUser, receiver: TestUser, text: str) -> float:
        """``sender`` sends ``text`` (new to this chat); ms until ``receiver``'s chat shows it.

        pitstop's measure around the ``send`` step: browser to browser, both on
        the browser's clock (``delivery_ms``).
        """
        return delivery_ms(
            self.page(sender), self.page(receiver), text, lambda: self.send(sender, text), self.chat_probe()
        )


_name_steps(Flows)
