"""How a team tells pitstop where something is on a page: ``Find``, a selector or a function to a Locator.

One page object serves both actors of a step (the sender's page and the receiver's, the
customer's and the mechanic's), so what a probe or a readiness wait looks for is given for any
page, not as a Locator bound to one.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page

# A Playwright selector ("#chat-input", "role=button[name='Send']", "[data-qa=log]"), or a function from
# a page to its Locator (``lambda page: page.get_by_role("log")``).
Find = str | Callable[[Page], Locator]


def locate(page: Page, find: Find) -> Locator:
    """``find`` on ``page``."""
    return page.locator(find) if isinstance(find, str) else find(page)


def describe(find: Find | Callable[..., object]) -> str:
    """``find`` (or any function a team gave) as a message names it."""
    if isinstance(find, str):
        return repr(find)
    owner = getattr(find, "__self__", None)  # a declaration's own ``locate``: say what it looks for
    meaning = getattr(owner, "meaning", None)
    if isinstance(owner, str) and meaning is not None:
        return f"{getattr(owner, 'kind', '')} {str(owner)!r}: {meaning}".strip()
    return str(getattr(find, "__qualname__", repr(find)))
