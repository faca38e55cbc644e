"""The shipped scenarios (installed as ``harness.scenarios``): tests that drive the flow through ``Flows``.

``Flows`` and the page objects it drives are library code in ``harness.flows``.
"""

from harness.flows.steps import ChatProbe, Flows

__all__ = ["ChatProbe", "Flows"]
