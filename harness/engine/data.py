"""The test data in ``fixtures/``, and the plans the reference app ships."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

# The plans the scenarios buy are the reference app's own, read from the file the app ships
# (``harness/stack/reference_app/plans.json``): one definition, so their prices cannot drift apart.
SHIPPED_BY_THE_APP = {"plans": "harness.stack.reference_app"}


@cache
def load(name: str) -> Any:
    """One JSON file of the test data by name: ``plans``, ``vehicles``, ``cards``, ``states`` or ``names``."""
    package = SHIPPED_BY_THE_APP.get(name, "harness.testdata")
    return json.loads(files(package).joinpath(f"{name}.json").read_text(encoding="utf-8"))
