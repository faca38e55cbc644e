"""The app contract's adjustable parts: the paths and the test-id attribute pitstop relies on.

Defaults are the reference app's. A team whose app differs says so in a
``[tool.pitstop]`` table of its ``pyproject.toml``, or in pytest ini keys of the
same names with a ``pitstop_`` prefix (ini wins):

    [tool.pitstop]
    customer_login_path = "/login"
    mechanic_login_path = "/login"
    test_id_attribute = "data-test"
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import BadInput


@dataclass(frozen=True)
class AppContract:
    """Where the app's pages are and how its elements are marked for tests."""

    customer_login_path: str = "/customer/login"
    mechanic_login_path: str = "/mechanic/login"
    test_id_attribute: str = "data-testid"

    def login_path(self, role: str) -> str:
        """The login form for a role (an admin signs in where customers do)."""
        return self.mechanic_login_path if role == "mechanic" else self.customer_login_path


KEYS = tuple(f.name for f in dataclasses.fields(AppContract))


def load_contract(
    root: Path, ini: Callable[[str], str | None] | None = None, *, filename: str = "pyproject.toml"
) -> AppContract:
    """The contract: ini keys (``pitstop_<key>``) over ``[tool.pitstop]`` in ``root/pyproject.toml``."""
    values: dict[str, Any] = dict(_table(root / filename))
    unknown = set(values) - set(KEYS)
    if unknown:
        raise BadInput(
            f"unknown keys in [tool.pitstop] of {root / filename}: {', '.join(sorted(unknown))}",
            fix=f"use only {', '.join(KEYS)}",
        )
    for key in KEYS:
        value = ini(f"pitstop_{key}") if ini else None
        if value:
            values[key] = value
    for key, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise BadInput(f"[tool.pitstop] {key} must be a non-empty string, not {value!r}")
        if key.endswith("_path") and not value.startswith("/"):
            raise BadInput(f"[tool.pitstop] {key} must start with /, not {value!r}", fix=f"/{value}")
    return AppContract(**values)


def _table(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("pitstop", {})
    return table if isinstance(table, dict) else {}
