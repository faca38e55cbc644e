"""A fresh Chromium page per test, with a 15 s default timeout, for the modules that import it.

The fixture is named ``page``; the modules that want it import ``fresh_page``, which gives it to
them alone. Defined in tests/conftest.py it would replace pytest-playwright's own ``page`` for
every test module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page


@pytest.fixture(name="page")
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A fresh Chromium page (pytest-playwright's browser, launched as pitstop launches it)."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
