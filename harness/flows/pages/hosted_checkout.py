"""Hosted Checkout pages: where an app that pays by Checkout Session sends its customer.

Neither is the app's: the app only redirects to the Checkout Session's
``url`` and takes the customer back at its ``success_url``. Their fields are
found by label or by name, never by the app's test-id attribute.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .checkout import Card
from .contract import Field, Route

# Stripe's page carries Stripe's own test ids: always data-testid, whatever the app's attribute is.
STRIPE_TEST_ID = "data-testid"


class EmbeddedCheckoutPage:
    """The embedded Stripe's hosted Checkout page (``harness.stack.stripe_front``), exercised by the tests.

    Served on the embedded Stripe's address (the Stripe API base the stack
    gives the app), at ``/c/pay/{checkout_session_id}``: labelled inputs named
    as on Stripe's page (``email``, ``cardNumber``, ``cardExpiry``,
    ``cardCvc``, ``billingName``, ``billingPostalCode``), a Pay button, and a
    declined card's message in an alert on the same page. The email is
    read-only when the session carries the customer's email.
    """

    ROUTE = Route("/c/pay/{checkout_session_id}", "on the embedded Stripe's address, not the app's")
    FORM = Field("Pay with card", "the payment form, by its accessible name")
    EMAIL = Field("Email", "label of the email input (read-only when the session carries it)")
    CARD_NUMBER = Field("Card number", "label of the card number input")
    EXPIRY = Field("Expiration date", "label of the expiry input (MM / YY)")
    CVC = Field("CVC", "label of the security code input")
    NAME = Field("Cardholder name", "label of the name input")
    POSTAL_CODE = Field("Postal code", "label of the postal code input")
    PAY = Field("Pay", "the submit button, by its name")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.form = page.get_by_role("form", name=self.FORM)
        self.email = self.form.get_by_label(self.EMAIL)
        self.card_number = self.form.get_by_label(self.CARD_NUMBER)
        self.expiry = self.form.get_by_label(self.EXPIRY)
        self.cvc = self.form.get_by_label(self.CVC)
        self.name = self.form.get_by_label(self.NAME)
        self.postal_code = self.form.get_by_label(self.POSTAL_CODE)
        self.pay_button = self.form.get_by_role("button", name=self.PAY, exact=True)
        self.error = self.form.get_by_role("alert")

    def pay_with_card(self, card: Card, *, email: str, name: str) -> None:
        """Fill the form (the email only where it may be typed) and press Pay."""
        expect(self.form).to_be_visible()
        if self.email.is_editable():
            self.email.fill(email)
        self.card_number.fill(card["number"])
        self.expiry.fill(f"{card['exp_month']} / {card['exp_year'][-2:]}")
        self.cvc.fill(card["cvc"])
        self.name.fill(name)
        self.postal_code.fill(card["postal_code"])
        self.pay_button.click()

    def expect_declined(self, message: str) -> None:
        expect(self.error).to_contain_text(message)


class StripeCheckoutPage:
    """Stripe's own hosted Checkout page, ``https://checkout.stripe.com/c/pay/{checkout_session_id}``.

    Written from the field names Stripe's hosted page uses (``email``,
    ``cardNumber``, ``cardExpiry``, ``cardCvc``, ``billingName``,
    ``billingCountry``, ``billingPostalCode``; the Pay button's
    ``data-testid="hosted-payment-submit-button"``), the names the embedded
    page copies. Not exercised here: Stripe's page is not reachable from the
    machines pitstop is built on (no network), so this page object has never
    run against it. If Stripe's page differs, override ``Flows.pay_with_card``
    (or subclass this page object) and tell us.
    """

    ROUTE = Route("https://checkout.stripe.com/c/pay/{checkout_session_id}", "Stripe's page, not the app's")
    CARD_METHOD = Field(
        "card-accordion-item-button", "the Card choice, when the session offers more than one way to pay"
    )
    EMAIL = Field("email", "the email input (absent when the session carries the customer's email)")
    CARD_NUMBER = Field("cardNumber", "the card number input")
    EXPIRY = Field("cardExpiry", "the expiry input (MM / YY, formatted as typed)")
    CVC = Field("cardCvc", "the security code input")
    NAME = Field("billingName", "the cardholder name input")
    COUNTRY = Field("billingCountry", "the country select")
    POSTAL_CODE = Field("billingPostalCode", "the postal code input (for countries that have one)")
    SUBMIT = Field("hosted-payment-submit-button", "Stripe's data-testid on the Pay button")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.card_method = page.locator(f'[{STRIPE_TEST_ID}="{self.CARD_METHOD}"]')
        self.email = self._named(self.EMAIL)
        self.card_number = self._named(self.CARD_NUMBER)
        self.expiry = self._named(self.EXPIRY)
        self.cvc = self._named(self.CVC)
        self.name = self._named(self.NAME)
        self.country = page.locator(f"select[name={self.COUNTRY}]")
        self.postal_code = self._named(self.POSTAL_CODE)
        self.pay_button = page.locator(f'[{STRIPE_TEST_ID}="{self.SUBMIT}"]')

    def _named(self, name: str) -> Locator:
        return self.page.locator(f"input[name={name}]")

    def pay_with_card(self, card: Card, *, email: str, name: str) -> None:
        """Choose Card where there is a choice, fill the fields as a person types them, press Pay."""
        expect(self.pay_button).to_be_visible()
        if self.card_method.count() and self.card_method.is_visible():
            self.card_method.click()
        if self.email.count() and self.email.is_editable():
            self.email.fill(email)
        # Stripe formats these as they are typed: type them key by key.
        self.card_number.press_sequentially(card["number"])
        self.expiry.press_sequentially(f"{card['exp_month']}{card['exp_year'][-2:]}")
        self.cvc.press_sequentially(card["cvc"])
        self.name.fill(name)
        if self.country.count():
            self.country.select_option("US")
        if self.postal_code.count() and self.postal_code.is_visible():
            self.postal_code.fill(card["postal_code"])
        self.pay_button.click()

    def expect_declined(self, message: str) -> None:
        expect(self.page.get_by_text(message)).to_be_visible()
