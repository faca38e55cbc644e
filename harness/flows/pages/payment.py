"""Where the customer pays after the intake: the app's card form or a hosted Checkout page."""

from __future__ import annotations

from typing import Protocol

from playwright.sync_api import Page, expect

from .checkout import Card, CheckoutPage
from .hosted_checkout import SUBMIT_BUTTON, EmbeddedCheckoutPage, StripeCheckoutPage


class PaymentForm(Protocol):
    """A page a card is paid on."""

    def pay_with_card(self, card: Card, *, email: str, name: str) -> None: ...

    def expect_declined(self, message: str) -> None: ...


def payment_form(page: Page) -> PaymentForm:
    """The form this page shows, told apart by what it shows, once one is there.

    Stripe's host in the URL: Stripe's hosted Checkout page. Else the hosted
    page's Pay button (Stripe's ``data-testid="hosted-payment-submit-button"``,
    which the embedded page copies): the embedded hosted page. Else the app's
    card element (PaymentIntents).
    """
    card_form = CheckoutPage(page)
    hosted = page.locator(SUBMIT_BUTTON)
    expect(card_form.card_element.or_(hosted).first).to_be_visible()
    if StripeCheckoutPage.serves(page.url):
        return StripeCheckoutPage(page)
    if hosted.count():
        return EmbeddedCheckoutPage(page)
    return card_form
