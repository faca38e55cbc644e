"""Page objects: one per page of the app contract, locators by test id (else by role, label and text),
methods that speak intent.

Each declares what it relies on in the app (``contract``): docs/app-contract.md lists it.
"""

from .chat import ChatPage
from .checkout import Card, CheckoutPage
from .customer_dashboard import CustomerDashboard
from .hosted_checkout import EmbeddedCheckoutPage, StripeCheckoutPage
from .intake import IntakePage, Vehicle
from .login import LoginPage
from .mechanic_dashboard import MechanicDashboard
from .payment import PaymentForm, payment_form
from .pricing import Plan, PricingPage
from .success import SuccessPage

# The app's pages, then the pages that are Stripe's: the order of docs/app-contract.md.
PAGE_OBJECTS: tuple[type, ...] = (
    LoginPage,
    PricingPage,
    IntakePage,
    CheckoutPage,
    SuccessPage,
    CustomerDashboard,
    MechanicDashboard,
    ChatPage,
    EmbeddedCheckoutPage,
    StripeCheckoutPage,
)

__all__ = [
    "PAGE_OBJECTS",
    "Card",
    "ChatPage",
    "CheckoutPage",
    "CustomerDashboard",
    "EmbeddedCheckoutPage",
    "IntakePage",
    "LoginPage",
    "MechanicDashboard",
    "PaymentForm",
    "Plan",
    "PricingPage",
    "StripeCheckoutPage",
    "SuccessPage",
    "Vehicle",
    "payment_form",
]
