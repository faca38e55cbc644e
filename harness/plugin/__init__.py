"""The pytest plugin's entry (the ``pytest11`` entry point ``pitstop``): its options, and the wiring.

Every ``--pitstop-*`` option has an ini twin (same name, underscores) and an environment
default (``harness.config.options``); precedence: command line > ini > environment > default.

Light on purpose, as pytest-xdist's and Hypothesis's plugins are: pytest imports this module
at every start of every suite where pitstop is installed, used or not. It imports pytest and
the option declarations; configuring registers the hooks (``hooks``) and the fixtures
(``fixtures``), which load the engine, the stores, the browsers and the embedded stack only
when a test asks for a pitstop fixture. Under pytest-xdist the controller starts the target
when a worker first asks for it (``xdist``), hands it to every worker, collects what they
record and writes the report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from harness.config.contract import KEYS as CONTRACT_KEYS
from harness.config.contract import AppContract
from harness.config.options import PLUGIN
from harness.plugin.local_conftest import load_conftest


def _leave_own_modules_unrewritten() -> None:
    """Take pitstop's package off pytest's list of modules to assertion-rewrite.

    pytest marks every module of a plugin's installed distribution for rewriting, so each process
    of a run (xdist's controller and every worker) would parse, rewrite and compile all of
    ``harness`` anew where no bytecode is cached (~1 s each): its modules hold no asserts a user
    needs explained. The shipped scenarios, test files, are still rewritten by pytest's
    ``python_files`` patterns. Done through the rewrite hook's own set, the one place pytest
    keeps the marks; where a pytest keeps them elsewhere, nothing changes.
    """
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set) and "harness" in marked:
            marked.discard("harness")
            looked_up = getattr(finder, "_marked_for_rewrite_cache", None)  # the answers given so far
            if isinstance(looked_up, dict):
                looked_up.clear()


_leave_own_modules_unrewritten()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pitstop", "pitstop: reset, drive and report on a session marketplace")
    for option in PLUGIN:
        help_text = f"{option.help} (ini: {option.dest}; env: {option.env}; default: {option.default})"
        kwargs: dict[str, Any] = {"dest": option.dest, "help": help_text}
        if option.kind == "flag":
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        elif option.kind == "list":
            kwargs["action"] = "append"
        else:
            kwargs["choices"] = option.choices
        group.addoption(option.flag, **kwargs)
        if option.kind == "flag":
            parser.addini(option.dest, help_text, type="bool")
        else:
            parser.addini(option.dest, help_text, type="string")
    group.addoption(
        "--pitstop-conftest",
        dest="pitstop_conftest",
        metavar="PATH",
        help="a conftest.py to apply as if it were at the rootdir, to tests not under it "
        "(pitstop run passes ./conftest.py; command line only)",
    )
    defaults = AppContract()
    for key in CONTRACT_KEYS:
        help_text = f"the app contract's {key} (also [tool.pitstop] {key}; default: {getattr(defaults, key)})"
        parser.addini(f"pitstop_{key}", help_text, type="string")


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Register ``--pitstop-conftest`` before pytest loads the conftests it finds itself."""
    path = getattr(early_config.known_args_namespace, "pitstop_conftest", None)
    if path:
        load_conftest(early_config.pluginmanager, Path(path))


def pytest_configure(config: pytest.Config) -> None:
    # The hooks and the fixtures come from their own modules, registered now so that the
    # fixtures are found after pytest-playwright's and may extend those of the same name.
    from harness.plugin import fixtures, hooks

    hooks.configure(config)
    config.pluginmanager.register(hooks, "pitstop.hooks")
    config.pluginmanager.register(fixtures, "pitstop.fixtures")
