"""How a command reaches its target: the configuration file, the settings, a store for reading."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.config.auth import load_auth
from harness.config.contract import load_contract
from harness.config.file import config_file, read_tables
from harness.config.options import AUTH, BY_NAME, CLI, SETTINGS, auth_given, resolve
from harness.config.payments import load_payments
from harness.config.settings import Settings
from harness.rules.model import load_model
from harness.store import Store, open_store

# The auth options the commands take (the others are the plugin's).
AUTH_CLI = tuple(BY_NAME[name] for name in AUTH if BY_NAME[name] in CLI)


def read_config(args: argparse.Namespace) -> tuple[Path | None, dict[str, Any]]:
    """The configuration file (``--config``, else ``pyproject.toml``) and its ``[tool.pitstop]`` table."""
    path = config_file(getattr(args, "config", None), os.environ, Path.cwd())
    return path, read_tables(path)


def settings_of(args: argparse.Namespace) -> Settings:
    return settings_with(args, read_config(args)[1])


def settings_with(args: argparse.Namespace, table: dict[str, Any]) -> Settings:
    """The settings of the options and of the ``[tool.pitstop]`` table ``table``."""
    given: dict[str, Any] = {option.field: getattr(args, option.field, None) for option in SETTINGS}
    auth = {option.field: getattr(args, option.field, None) for option in AUTH_CLI}
    return Settings.load(
        **given,
        login_path=load_contract(table).customer_login_path,
        model=load_model(table.get("model")),
        payments=load_payments(table.get("payments")),
        auth=load_auth(table.get("auth"), auth_given(resolve(AUTH_CLI, auth, os.environ, "cli"))),
    )


@contextmanager
def reading_store(settings: Settings) -> Iterator[Store]:
    """A store for reading: the hosts are guarded (``open_store``), not the Stripe key: nothing is written."""
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()
