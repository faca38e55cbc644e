"""Where the customer pays after the intake: the app's card form or a hosted Checkout page."""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from .checkout import Card, CheckoutPage
from .hosted_checkout import EmbeddedCheckoutPage, StripeCheckoutPage


class PaymentForm(Protocol):
    """A page a card is paid on."""

    def pay_with_card(self, card: Card, *, email: str, name: str) -> None: ...

    def expect_declined(self, message: str) -> None: ...


# A hosted Checkout page's path, on Stripe's host, a custom Checkout domain or the embedded Stripe's.
HOSTED_PATH = re.compile(r"/c/pay/cs_")


def payment_form(page: Page) -> PaymentForm:
    """The form this page shows, once one is there, told apart by its URL.

    A hosted Checkout page's URL (``/c/pay/cs_…``): the embedded Stripe's page
    where its labelled form shows, else Stripe's. Any other page: the app's card
    element (PaymentIntents), found through the app's test-id attribute.
    """
    card_form = CheckoutPage(page)
    embedded = EmbeddedCheckoutPage(page)
    stripes = StripeCheckoutPage(page)
    # Whichever comes first: the app's card element, or a hosted page's form (the app redirects there).
    expect(card_form.card_element.or_(embedded.form).or_(stripes.pay_button).first).to_be_visible()
    if not HOSTED_PATH.search(urlsplit(page.url).path):
        return card_form
    return embedded if embedded.form.is_visible() else stripes
