"""Which extra an install lacks: the embedded stack's libraries, looked up without importing them.

A base install (``pip install pytest-pitstop``) tests a target of the user's own. The embedded
stack (``pitstop serve``, ``pitstop demo``, the plugin given no target) needs the ``[stack]``
extra: its parts run as processes of their own, and one started without its library would die
with a traceback in its log. ``require_stack`` says which extra to install before anything starts.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec

from harness.errors import BadInput

STACK_FIX = "pip install 'pytest-pitstop[stack]'"
# The [stack] extra's requirements (pyproject.toml), each with the modules it installs: any one will do.
STACK_MODULES: dict[str, tuple[str, ...]] = {
    "pgserver": ("pgserver",),  # the embedded PostgreSQL, unless a database is given
    "fastapi": ("fastapi",),
    "uvicorn": ("uvicorn",),
    "websockets": ("websockets", "wsproto"),  # uvicorn[standard]'s: the reference app's chat
    "python-multipart": ("python_multipart", "multipart"),  # the latter before 0.0.13
    "itsdangerous": ("itsdangerous",),
    "stripe": ("stripe",),
    "psycopg-pool": ("psycopg_pool",),
    "httpx": ("httpx",),
    "localstripe": ("localstripe",),
}


def installed(module: str) -> bool:
    """Whether ``module`` (a top-level name) can be imported; nothing is imported."""
    try:
        return module in sys.modules or find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_for_stack(*, postgres: bool = True) -> list[str]:
    """The [stack] requirements not installed; ``postgres=False``: a database is given, no pgserver."""
    return [
        requirement
        for requirement, modules in STACK_MODULES.items()
        if (postgres or requirement != "pgserver") and not any(installed(m) for m in modules)
    ]


def require_stack(*, postgres: bool = True) -> None:
    """Raise ``BadInput`` naming what the embedded stack lacks, with the extra to install.

    ``postgres=False``: the stack is given a database and starts no PostgreSQL of its own.
    """
    missing = missing_for_stack(postgres=postgres)
    if missing:
        raise BadInput(
            f"the embedded stack needs pitstop's [stack] extra; not installed: {', '.join(missing)}",
            fix=STACK_FIX,
        )
