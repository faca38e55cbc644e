"""The shipped scenarios (installed as ``harness.scenarios``): page objects, flows, tests.

``Flows`` is the one object through which the scenarios act in the app:
subclass it to drive your own pages (see ``harness.scenarios.flows``).
"""

from .flows import ChatProbe, Flows

__all__ = ["ChatProbe", "Flows"]
