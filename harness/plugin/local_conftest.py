"""A conftest.py applied to tests that do not live under it: ``--pitstop-conftest PATH``.

``pitstop run`` runs the shipped scenarios from where pitstop is installed, so
pytest would never find the conftest.py of the folder it is started from. It
passes that file here, and the plugin registers it before pytest loads its
own conftests, as pytest registers a conftest (the same module name and
registration name, assertions rewritten), so that a conftest at the rootdir
(``pitstop run`` makes the folder the rootdir) applies to every test: its
fixtures override the plugins' (``pitstop_flows_class``), its hooks run.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest


def load_conftest(manager: pytest.PytestPluginManager, path: Path) -> ModuleType:
    """Import ``path`` as pytest imports a conftest (prepend mode) and register it as one."""
    path = Path(os.path.abspath(path))  # pytest's registration name: absolute, links not resolved
    if not path.is_file() or path.name != "conftest.py":
        raise pytest.UsageError(f"pitstop: --pitstop-conftest {path}: not a conftest.py file")
    existing = manager.get_plugin(str(path))
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    # A conftest in a package is imported by its dotted name from the package's root.
    root, names = path.parent, ["conftest"]
    while (root / "__init__.py").is_file():
        names.insert(0, root.name)
        root = root.parent
    name = ".".join(names)
    if name == "conftest":
        sys.modules.pop(name, None)  # another folder's conftest, as pytest does
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(name)
    manager.register(module, name=str(path))
    manager.consider_module(module)  # its pytest_plugins
    return module
