"""``pitstop``: the fixture handle that tests and scenarios use."""

from __future__ import annotations

import contextlib
import functools
import os
import time
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from harness.config.payments import PaymentValues
from harness.engine import signin
from harness.engine.data import load
from harness.engine.payments import Payments
from harness.engine.personas import TestUser
from harness.engine.run import Run, Target
from harness.errors import BadInput, PitstopError, Unreachable
from harness.rules.health import Health
from harness.rules.model import Model
from harness.stack.embedded import STRIPE_SECRET_KEY
from harness.store import JSON, Store
from harness.store.cleanup import Cleanup
from harness.store.interface import SeedState
from harness.stripe_wire import REQUEST_TIMEOUT_S, checkout_completed_event, deliver

SIGN_IN_TIMEOUT_MS = 15_000
WAIT_S = 15.0
POLL_S = 0.05


# states.json names roles, not words: how each becomes the model's word.
#   session "pending"   -> sessions.open[0]   (the first open word; default "pending")
#           "waiting"   -> sessions.open[-1]  (the last open word; default "waiting")
#           "live"      -> sessions.live[0]   (default "live")
#           "completed" -> sessions.done[0]   (default "completed")
#           "cancelled" -> sessions.cancelled (default "cancelled")
#   request "pending", "accepted", "expired", "cancelled" -> requests.<role> (the same by default)
SESSION_ROLES = ("pending", "waiting", "live", "completed", "cancelled")
REQUEST_ROLES = ("pending", "accepted", "expired", "cancelled")


def state_words(model: Model, state: str, spec: JSON) -> tuple[str, str | None]:
    """The model's (session status, request status) for a state of states.json.

    A state the model cannot hold is bad input naming the key it needs.
    """
    s, r = model.sessions, model.requests

    def needs(key: str, why: str) -> BadInput:
        return BadInput(
            f"state {state} needs {key} in [tool.pitstop.model], which this model leaves empty ({why})",
            fix=f"declare {key} if your app has it, or seed this state in a fixture of your own",
        )

    role = spec["session"]
    if role not in SESSION_ROLES:
        raise BadInput(f"state {state} names the session role {role!r}", fix=f"use one of {SESSION_ROLES}")
    if role == "live" and not s.live:
        raise needs("sessions.live", "its session is live")
    if spec.get("mechanic") and not s.mechanic:
        raise needs("sessions.mechanic", "a mechanic serves its session")
    words = {"pending": s.open[0], "waiting": s.open[-1], "completed": s.done[0], "cancelled": s.cancelled}
    status = s.live[0] if role == "live" else words[role]
    request: str | None = spec.get("request")
    if request is None:
        return status, None
    if request not in REQUEST_ROLES:
        raise BadInput(f"state {state} names the request role {request!r}", fix=f"use one of {REQUEST_ROLES}")
    if not model.has_requests:
        if model.queues:  # its request is a row of each declared queue (``SeedState.queued``)
            return status, None
        raise needs("requests.table", "it has a request")
    return status, str(getattr(r, request))


P = ParamSpec("P")
R = TypeVar("R")


def _test_facing(method: Callable[P, R]) -> Callable[P, R]:
    """A method a test calls: a ``PitstopError`` from it fails the test as its message and fix.

    The error is raised again from here with its traceback cut, and pytest
    hides this frame (``__tracebackhide__``): the failure shows the test's own
    line and the error, not a traceback into pitstop (as the fixtures' errors
    show no traceback: ``harness.plugin.fixtures._fail``). It keeps its type, so that
    ``pytest.raises(BadInput)`` still catches it.
    """

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True
        try:
            return method(*args, **kwargs)
        except PitstopError as exc:
            raise exc.with_traceback(None) from None

    return call


class Pitstop:
    """The harness as a test sees it: the target, the store, named states, step timings.

    Its methods raise pitstop's errors (``harness.errors``) with the test's line as their
    only traceback (``_test_facing``).
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        self.target: Target = run.target()
        self._storage: dict[str, Any] = {}

    @property
    @_test_facing
    def store(self) -> Store:
        return self.run.cleanup().store

    @property
    @_test_facing
    def cleanup(self) -> Cleanup:
        """The guarded cleanup verbs (reset, stale cleanup, force-cancel) on the target."""
        return self.run.cleanup()

    @property
    def payment(self) -> str:
        """How scenarios that are not about payment pay: ``ui`` or ``webhook``."""
        return self.run.config.payment

    @_test_facing
    def health(self) -> Health:
        return Health(self.run.health())

    @_test_facing
    def seed(self, state: str, user: TestUser, **params: Any) -> JSON:
        """Create a named state from ``fixtures/states.json`` for ``user``; returns its ids.

        Parameters: ``age_minutes`` (default 0), ``plan`` (default "Quick Chat"),
        ``mechanic`` (a TestUser; required by states that have one).

        The state is written through the model (``[tool.pitstop.model]``), in
        its words (``state_words``); a state that needs a key the model leaves
        empty says which. The app's other required columns get the values the
        model declares (``[tool.pitstop.model.sessions.values]``, ``…requests.values``)
        or values made from their types; a column pitstop cannot fill stops the
        state before anything is written, in one error naming every such column.
        Live and completed states write both participants where the app keeps
        them (``harness.store.postgres.seed_statement``). Nothing is written unless
        every user named is a test user (or a test mechanic, with a mechanics table).
        """
        states: dict[str, JSON] = load("states")
        if state not in states:
            raise BadInput(f"unknown state {state!r}", fix=f"use one of {', '.join(states)}")
        spec = states[state]
        unknown = set(params) - {"age_minutes", "plan", "mechanic"}
        if unknown:
            raise BadInput(f"unknown parameters for {state}: {', '.join(sorted(unknown))}")
        mechanic: TestUser | None = params.get("mechanic")
        if spec.get("mechanic") and mechanic is None:
            raise BadInput(
                f"state {state} needs a mechanic", fix=f"pitstop.seed({state!r}, customer, mechanic=mechanic)"
            )
        store = self.store.database()
        if store is None:
            raise BadInput("seeding states needs a database connection", fix="give --pitstop-database-url")
        status, request = state_words(store.model, state, spec)
        seeded = store.seed_session(
            SeedState(
                customer=user.id,
                mechanic=mechanic.id if mechanic else None,
                status=status,
                request=request,
                queued=spec.get("request"),
                plan=params.get("plan", "Quick Chat"),
                age_s=float(params.get("age_minutes", 0)) * 60,
                vehicle=load("vehicles")[0],
            )
        )
        if seeded is None:
            raise PitstopError(f"refusing to seed {state}: its users must be test users")
        return self.session(seeded["session_id"])

    @_test_facing
    def session(self, session_id: str | UUID) -> JSON:
        """A session as a step sees it, read through the store: the shape every session pitstop
        gives has (``seed``, ``active_session``, ``pay_by_webhook``, ``Flows.paid_session``).

        ``id`` (and ``session_id``, the same), ``status``, ``created_at``, ``row`` (the session's row
        as the app keeps it: its plan among its columns), ``request_id`` and ``request`` (its request's
        row, or its first queue's: the newest linked to it; linked only by customer, the customer's row
        made nearest it, within a minute), ``customer_id`` and ``customer``, ``mechanic_id`` and
        ``mechanic`` (``{"id", "email", "name"}``, the name as the user's metadata holds it; None
        without one), and ``plan`` (the row's ``plan`` column, where it has one), so that a step can
        find the session's row on a page by what the user sees. Test users' sessions only.
        """
        found = self.run.cleanup().store.sessions([UUID(str(session_id))])
        if not found:
            raise PitstopError(f"no session {session_id} in the target")
        return found[0]

    @_test_facing
    def active_session(self, user: TestUser, *, timeout_s: float = WAIT_S) -> JSON:
        """Wait (bounded) until ``user`` has a pending, waiting or live session; return the newest.

        The two-actor wait of a payment: the mechanic looks only once the
        session row exists. As ``session`` gives it.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            sessions = self.run.cleanup().store.active_sessions([user.id])
            if sessions:
                return sessions[-1]
            if time.monotonic() > deadline:
                raise PitstopError(f"{user.email} has no active session after {timeout_s:g} s")
            time.sleep(POLL_S)

    @_test_facing
    def pay_by_webhook(
        self,
        customer: TestUser,
        *,
        plan: JSON,
        vehicle: JSON,
        card: JSON,
        timeout_s: float = REQUEST_TIMEOUT_S,
        intake_id: str | None = None,
    ) -> JSON:
        """Pay through the Stripe API (the app learns it by webhook) and wait for the session.

        Paid as the app's ``[tool.pitstop.payments] kind`` says, with its metadata templates
        filled in (``harness.config.payments``; ``intake_id`` fills ``{intake_id}``):

        - ``payment_intent``: a PaymentIntent, created and confirmed; Stripe (localstripe,
          embedded) sends ``payment_intent.succeeded``;
        - ``checkout_session``: a Checkout Session, paid on its hosted page's form over HTTP
          (the embedded Stripe only); pitstop then posts the signed
          ``checkout.session.completed`` to the app's ``webhook_path`` itself (when it knows the
          app's webhook secret), so the app's own retrieval finds the session complete.

        Each Stripe call gives up after ``timeout_s``; the session is awaited for ``WAIT_S``.
        The answer carries ``payment_intent_id`` (and ``checkout_session_id``).
        """
        config = self.run.config.settings.payments
        values = PaymentValues.of(
            plan=plan, customer_id=str(customer.id), customer_email=customer.email, vehicle=vehicle,
            intake_id=intake_id,
        )  # fmt: skip
        metadata = config.render(values)
        payments = self.payments(timeout_s=timeout_s)
        if config.kind == "checkout_session":
            target = self.target
            session = payments.pay_checkout_session(
                product=str(plan["name"]),
                amount=int(plan["amount"]),
                currency=str(plan.get("currency", "usd")),
                metadata=metadata,
                customer_email=customer.email,
                client_reference_id=str(customer.id),
                card=card,
                name=customer.name,
                return_url=target.app_url + "/",
            )
            if target.stripe_webhook_secret:
                self._deliver(checkout_completed_event(session), config.webhook_path, timeout_s)
            found = self.active_session(customer)
            return {
                **found,
                "payment_intent_id": session["payment_intent"],
                "checkout_session_id": session["id"],
            }
        intent_id = payments.pay(
            amount=plan["amount"],
            currency=str(plan.get("currency", "usd")),
            card=card,
            metadata=metadata,
        )
        return {**self.active_session(customer), "payment_intent_id": intent_id}

    @_test_facing
    def payment_event(self, session: JSON, *, timeout_s: float = REQUEST_TIMEOUT_S) -> JSON:
        """The event Stripe sent the app for paying ``session`` (``pay_by_webhook``'s), as it was sent.

        The app's kind's (``[tool.pitstop.payments] kind``): ``payment_intent.succeeded`` for its
        ``payment_intent_id``, or ``checkout.session.completed`` for its ``checkout_session_id``
        (the embedded Stripe's, found by the session).
        """
        payments = self.payments(timeout_s=timeout_s)
        if self.run.config.settings.payments.kind == "checkout_session":
            return payments.sent_event(str(session["checkout_session_id"]), "checkout.session.completed")
        return payments.sent_event(str(session["payment_intent_id"]), "payment_intent.succeeded")

    def _deliver(self, event: JSON, path: str, timeout_s: float) -> None:
        """Post a signed event to the app's webhook, as Stripe would; an answer other than 2xx is an error."""
        target = self.target
        url = target.app_url + path
        try:
            deliver(event, url=url, secret=target.stripe_webhook_secret or "", timeout_s=timeout_s)
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")[:300]
            raise PitstopError(
                f"the app's webhook at {url} answered {exc.code} to {event['type']}: {body}",
                fix="check [tool.pitstop.payments] webhook_path and the app's STRIPE_WEBHOOK_SECRET",
            ) from None
        except OSError as exc:
            raise Unreachable(f"the app's webhook at {url} did not answer: {exc}") from None

    @_test_facing
    def payments(self, *, timeout_s: float = REQUEST_TIMEOUT_S) -> Payments:
        """Stripe test-mode calls against the target's Stripe (localstripe, embedded)."""
        target = self.target
        key = STRIPE_SECRET_KEY if target.kind == "embedded" else os.environ.get("STRIPE_SECRET_KEY", "")
        return Payments(secret_key=key, api_base=target.stripe_api_base, timeout_s=timeout_s)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a flow step; it is reported as ``<name>_ms``."""
        with self.run.step(name):
            yield

    def record(self, name: str, value: float) -> None:
        self.run.record(name, value)

    @_test_facing
    def storage_state(self, user: TestUser, browser: Any, sign_in: Callable[[Any, TestUser], None]) -> Any:
        """The user's signed-in browser state, made once per worker.

        By ``[tool.pitstop.auth] mode``: ``ui`` calls ``sign_in(page, user)`` on a fresh page (the page
        fixtures pass ``Flows.sign_in``, which drives the app's login form); ``supabase`` makes a
        Supabase session and writes it where the app's library reads it, with no page at all
        (``supabase_session``).
        """
        if user.email not in self._storage:
            auth = self.run.config.settings.auth
            if auth.headless:
                settings = self.target.settings
                self._storage[user.email] = signin.storage_state(
                    self.supabase_session(user),
                    supabase_url=signin.need_supabase_url(settings),
                    app_url=self.target.app_url,
                    cookie_domain=auth.cookie_domain,
                    cookies=auth.cookies,
                    local_storage=auth.local_storage,
                )
                return self._storage[user.email]
            context = browser.new_context(base_url=self.target.app_url)
            context.set_default_timeout(SIGN_IN_TIMEOUT_MS)  # every step of the sign-in, not only the last
            try:
                sign_in(context.new_page(), user)
                self._storage[user.email] = context.storage_state()
            finally:
                context.close()
        return self._storage[user.email]

    @_test_facing
    def supabase_session(self, user: TestUser) -> signin.AuthSession:
        """A new Supabase session for ``user`` (``harness.engine.signin``): made offline with the
        target's JWT secret, else by Supabase Auth's password grant with its anon key."""
        return signin.session_for(self.target.settings, self.store, user.id, user.email, user.password)
