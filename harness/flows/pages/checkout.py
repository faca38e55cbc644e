from __future__ import annotations

from typing import TypedDict

from playwright.sync_api import FrameLocator, Locator, Page, expect

from .contract import By, Field, TestId


class Card(TypedDict):
    number: str
    exp_month: str
    exp_year: str
    cvc: str
    postal_code: str


class CheckoutPage:
    """The app's own card form (PaymentIntents): a Stripe card element and the pay button.

    The card element is either Stripe's (an iframe) or localstripe's stand-in
    (five plain inputs with placeholders ``number``, ``exp_month``,
    ``exp_year``, ``cvc``, ``postal_code``); ``pay_with_card`` fills either.
    """

    CARD_ELEMENT = TestId("card-element", "where Stripe.js mounts the card element")
    CARD_ELEMENT_BY_ID = Field(
        "#card-element", "without test ids: where Stripe's guides mount the card element"
    )
    PAY = TestId("pay-button", "pays with the card entered", by=By.role("button", r"^\s*pay\b"))
    ERROR = TestId("payment-error", "why the card was declined (Stripe's message)", by=By.role("alert"))
    PLAN = TestId("checkout-plan", "the plan being paid for")
    STAND_IN = Field(
        "number, exp_month, exp_year, cvc, postal_code",
        "localstripe's stand-in for the card element: five inputs, by placeholder",
    )
    STRIPE_INPUTS = Field(
        "cardnumber, exp-date, cvc, postal", "Stripe's card element: the iframe's inputs, by name"
    )

    def __init__(self, page: Page) -> None:
        self.page = page
        self.card_element = self.CARD_ELEMENT.locate(page).or_(page.locator(self.CARD_ELEMENT_BY_ID))
        self.pay_button = self.PAY.locate(page)
        self.error = self.ERROR.locate(page)
        self.plan = page.get_by_test_id(self.PLAN)

    def pay_with_card(self, card: Card, *, email: str = "", name: str = "") -> None:
        """Fill the card element and pay (the email and name are the app's to know: unused here)."""
        stand_in = self.card_element.get_by_placeholder("number")
        iframe = self.card_element.locator("iframe")
        expect(stand_in.or_(iframe).first).to_be_visible()
        if stand_in.count():
            self._fill_stand_in(card)
        else:
            self._fill_stripe(self.card_element.frame_locator("iframe").first, card)
        self.pay_button.click()

    def _fill_stand_in(self, card: Card) -> None:
        fields = {
            "number": card["number"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"][-2:],  # the stand-in prefixes "20"
            "cvc": card["cvc"],
            "postal_code": card["postal_code"],
        }
        for name, value in fields.items():
            self.card_element.get_by_placeholder(name).fill(value)

    @staticmethod
    def _fill_stripe(frame: FrameLocator, card: Card) -> None:
        inputs: dict[str, Locator] = {
            "cardnumber": frame.locator("input[name=cardnumber]"),
            "exp-date": frame.locator("input[name=exp-date]"),
            "cvc": frame.locator("input[name=cvc]"),
            "postal": frame.locator("input[name=postal]"),
        }
        inputs["cardnumber"].fill(card["number"])
        inputs["exp-date"].fill(f"{card['exp_month']}{card['exp_year'][-2:]}")
        inputs["cvc"].fill(card["cvc"])
        if inputs["postal"].count():
            inputs["postal"].fill(card["postal_code"])

    def expect_declined(self, message: str) -> None:
        expect(self.error).to_contain_text(message)
