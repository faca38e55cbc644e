"""Page objects: one per page of the app contract, locators by test id, methods that speak intent."""

from .chat import ChatPage
from .checkout import Card, CheckoutPage
from .customer_dashboard import CustomerDashboard
from .intake import IntakePage, Vehicle
from .login import LoginPage
from .mechanic_dashboard import MechanicDashboard
from .pricing import PricingPage
from .success import SuccessPage

__all__ = [
    "Card",
    "ChatPage",
    "CheckoutPage",
    "CustomerDashboard",
    "IntakePage",
    "LoginPage",
    "MechanicDashboard",
    "PricingPage",
    "SuccessPage",
    "Vehicle",
]
