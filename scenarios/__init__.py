"""The shipped scenarios (installed as ``harness.scenarios``): tests that drive the flow through ``Flows``.

``Flows`` and the page objects it drives are library code in ``harness.flows``; import them
from ``harness`` (the public API).
"""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    """``from harness.scenarios import Flows``, as the docs once said: kept for one release (0.1.x)."""
    if name not in ("Flows", "ChatProbe"):
        raise AttributeError(f"module 'harness.scenarios' has no attribute {name!r}")
    warnings.warn(
        f"harness.scenarios.{name} is now harness.{name} (the public API); "
        "the old path goes in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    from harness.flows import steps

    value = getattr(steps, name)
    globals()[name] = value  # warned once
    return value
