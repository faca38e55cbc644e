"""The ``[tool.pitstop]`` tables: which TOML file holds them, and reading it once.

The file is the one named (``--config FILE``, the ini key ``pitstop_config``,
or ``PITSTOP_CONFIG``), else ``pyproject.toml`` in the folder pitstop starts
from (pytest's rootdir, or the current folder for the CLI), else none: every
table then has its defaults. Each part is read by its own module:
``harness.config.contract`` (the app's pages), ``harness.rules.model`` (its tables),
``harness.config.payments`` (how it takes payments).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.config.options import BY_NAME
from harness.errors import BadInput

ENV = str(BY_NAME["config"].env)


def config_file(explicit: str | None, env: Mapping[str, str], root: Path) -> Path | None:
    """The file that holds ``[tool.pitstop]``: the one named (it must exist), else ``root/pyproject.toml``."""
    named = explicit or env.get(ENV) or None
    if named:
        path = Path(named)
        if not path.is_file():
            raise BadInput(
                f"no configuration file {path}",
                fix=f"give a TOML file with [tool.pitstop] tables (--config FILE or {ENV})",
            )
        return path
    default = root / "pyproject.toml"
    return default if default.is_file() else None


def read_tables(path: Path | None) -> dict[str, Any]:
    """The ``[tool.pitstop]`` table of ``path`` (empty without a file or a table)."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path} is not valid TOML: {exc}", fix="correct the file's syntax") from None
    table = data.get("tool", {}).get("pitstop", {})
    if not isinstance(table, dict):
        raise BadInput(f"[tool.pitstop] of {path} must be a table", fix="write [tool.pitstop] and its keys")
    return table
