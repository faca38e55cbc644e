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
from collections.abc import Callable
from dataclasses import dataclass
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


# Parts of [tool.pitstop] that other modules read.
SUBTABLES = ("model", "payments", "auth")

# The reference app's tables a purge counts, in public, in their usual order: the debug API's
# answer (``harness.store.api``) and ``pitstop reset``'s line (``harness.cli``).
CONTRACT_TABLES = ("sessions", "session_requests", "session_participants", "session_files", "chat_messages")


def load_contract(
    table: dict[str, Any], ini: Callable[[str], str | None] | None = None, *, source: str = "[tool.pitstop]"
) -> AppContract:
    """The contract: ini keys (``pitstop_<key>``) over the keys of a ``[tool.pitstop]`` table."""
    values: dict[str, Any] = {k: v for k, v in table.items() if k not in SUBTABLES}
    unknown = set(values) - set(KEYS)
    if unknown:
        raise BadInput(
            f"unknown keys in {source}: {', '.join(sorted(unknown))}",
            fix=f"use only {', '.join(KEYS)} (and the tables {', '.join(SUBTABLES)})",
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
