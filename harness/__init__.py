"""pitstop: an end-to-end test harness for session-marketplace apps.

The public API, what users import and what stays stable, is the names below::

    from harness import Flows, Pitstop, TestUser, NewMechanic, BadInput

Everything else is internal and free to move. The cleanup rules live in SQL
(``harness.rules``); stores carry them to a target (``harness.store``); the pytest
plugin (``harness.plugin``) wires them into a test run. The names load on first use
(PEP 562): importing ``harness`` (as pytest does, for the plugin) costs nothing more.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

from harness.errors import BadInput, ExitCode, PitstopError, Refused, Unreachable, Unsupported
from harness.version import __version__

if TYPE_CHECKING:
    from harness.config.contract import AppContract
    from harness.engine.handle import Pitstop
    from harness.engine.mechanics import MechanicFactory, NewMechanic
    from harness.engine.personas import TestUser
    from harness.flows.finding import Find
    from harness.flows.pages import (
        Card,
        ChatPage,
        CheckoutPage,
        CustomerDashboard,
        EmbeddedCheckoutPage,
        IntakePage,
        LoginPage,
        MechanicDashboard,
        PaymentForm,
        Plan,
        PricingPage,
        StripeCheckoutPage,
        SuccessPage,
        Vehicle,
    )
    from harness.flows.probe import ChatProbe, delivery_ms
    from harness.flows.readiness import Ready
    from harness.flows.steps import Flows, card, plan, vehicle

# Each public name, and the module that holds it.
_HOMES = {
    "Pitstop": "harness.engine.handle",  # the handle: the `pitstop` fixture
    "TestUser": "harness.engine.personas",  # the `customer`, `mechanic`, `second_mechanic` fixtures
    "NewMechanic": "harness.engine.mechanics",  # what a `pitstop_make_mechanic` factory is given
    "MechanicFactory": "harness.engine.mechanics",
    "AppContract": "harness.config.contract",
    **dict.fromkeys(("Flows", "plan", "vehicle", "card"), "harness.flows.steps"),
    **dict.fromkeys(("ChatProbe", "delivery_ms"), "harness.flows.probe"),
    "Ready": "harness.flows.readiness",
    "Find": "harness.flows.finding",
    **dict.fromkeys(
        (
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
        ),
        "harness.flows.pages",
    ),
}

__all__ = [
    "AppContract",
    "BadInput",
    "Card",
    "ChatPage",
    "ChatProbe",
    "CheckoutPage",
    "CustomerDashboard",
    "EmbeddedCheckoutPage",
    "ExitCode",
    "Find",
    "Flows",
    "IntakePage",
    "LoginPage",
    "MechanicDashboard",
    "MechanicFactory",
    "NewMechanic",
    "PaymentForm",
    "Pitstop",
    "PitstopError",
    "Plan",
    "PricingPage",
    "Ready",
    "Refused",
    "StripeCheckoutPage",
    "SuccessPage",
    "TestUser",
    "Unreachable",
    "Unsupported",
    "Vehicle",
    "__version__",
    "card",
    "delivery_ms",
    "plan",
    "vehicle",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# Import paths the docs gave before the package had rooms: they keep working, with a
# DeprecationWarning, for one release (0.1.x); the names are in the public API above.
MOVED = {
    "harness.handle": "harness.engine.handle",
    "harness.mechanics": "harness.engine.mechanics",
    "harness.personas": "harness.engine.personas",
    "harness.scenarios.flows": "harness.flows.steps",
    "harness.scenarios.pages": "harness.flows.pages",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a moved module under its old name: the new module itself, after a warning."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """The new module itself (its spec kept aside: importlib sets the alias's on it)."""
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} is now {new}: import its names from harness (the public API); "
            "the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new)
        self._specs[new] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (``create_module`` gave the module, run already) but to give it its spec back."""
        module.__spec__ = self._specs[module.__name__]


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
