from __future__ import annotations

from playwright.sync_api import Page, expect

from .contract import By, Route, TestId, Wording


class SuccessPage:
    """After the payment: the session once it exists, or why it was refused.

    Stripe sends the customer here after paying (the PaymentIntent's
    ``return_url``, or the Checkout Session's ``success_url`` with
    ``?session_id=``).
    """

    ROUTE = Route(
        "/checkout/success?payment_intent={payment_intent_id}",
        "the page after a PaymentIntent is paid; opened again to check it fulfills once",
    )
    CHECKOUT_ROUTE = Route(
        "/checkout/success?session_id={checkout_session_id}",
        "the same after a Checkout Session is paid (its success_url)",
    )
    SUCCESS = TestId(
        "payment-success",
        "shown once the payment is taken",
        by=By.role("heading", r"payment (received|successful|succeeded|complete)|thank you"),
    )
    # No guess: a status word elsewhere on the page would pass the check before the session exists.
    STATUS = TestId("session-status", "the new session's status (text), once the app made it")
    BLOCKED = TestId("active-session-error", "why the payment was not used", by=By.role("alert"))
    BLOCKED_WORDING = Wording(
        "Customer already has an active session", "the refusal when an active session blocks a payment"
    )

    def __init__(self, page: Page) -> None:
        self.page = page
        self.success = self.SUCCESS.locate(page)
        self.blocked = self.BLOCKED.locate(page)

    def open(self, payment_intent_id: str = "", *, checkout_session_id: str = "") -> SuccessPage:
        """The page a payment returns to: by its Checkout Session when given, else by its PaymentIntent."""
        if checkout_session_id:
            self.page.goto(self.CHECKOUT_ROUTE.format(checkout_session_id=checkout_session_id))
        else:
            self.page.goto(self.ROUTE.format(payment_intent_id=payment_intent_id))
        return self

    def expect_session(self, status: str = "waiting") -> None:
        expect(self.success).to_be_visible()
        expect(self.STATUS.locate(self.page)).to_have_text(status)

    def expect_blocked(self) -> None:
        expect(self.blocked).to_contain_text(self.BLOCKED_WORDING)
