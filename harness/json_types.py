"""Plain JSON shapes shared by every module (imports nothing from pitstop: a leaf)."""

from __future__ import annotations

from typing import Any

# A JSON object as the SQL functions, the debug API and the reports carry it.
JSON = dict[str, Any]
