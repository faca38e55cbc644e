"""The test data of ``fixtures/`` (installed as the package ``harness.testdata``)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def load(name: str) -> Any:
    """One JSON file of the test data by name: ``plans``, ``vehicles``, ``cards`` or ``states``."""
    return json.loads(files("harness.testdata").joinpath(f"{name}.json").read_text(encoding="utf-8"))
