"""What the default steps rely on in the app, declared once, beside the locators that use it.

Each page object (and ``Flows``) declares, as class attributes, the routes it
opens, the test ids it finds elements by, the attributes and the wording it
reads, the session statuses and endpoints it expects::

    class ChatPage:
        ROUTE = Route("/session/{session_id}", "a session's chat")
        INPUT = TestId("chat-input", "the message box")

A declaration is the ``str`` it declares, so the locators use it as it is
(``self.ROUTE.format(session_id=…)``); ``declarations(cls)`` lists a class's.

A test id may say where its element is on a page that renders no test ids
(``TestId("chat-send", …, by=By.role("button", "send"))``): ``locate`` then finds
either, so a default step works on an app without test ids where its guess of
role, label or text holds. A check that something is absent never leans on a
guess: what it looks in has a test id alone. ``docs/app-contract.md``'s generated
tables come from them (``harness.flows.contract_doc``), and a test keeps
the document and the declarations in agreement.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from playwright.sync_api import Locator, Page


class Declared(str):
    """One thing the steps rely on in the app: its value and what it is for."""

    kind: ClassVar[str] = "declared"
    meaning: str

    def __new__(cls, value: str, meaning: str = "") -> Self:
        declared = super().__new__(cls, value)
        declared.meaning = meaning
        return declared


class Route(Declared):
    """A path the steps open (``{name}`` parts are filled in)."""

    kind = "route"


ANY_TEST_ID = re.compile(".")  # ``get_by_test_id(ANY_TEST_ID)``: an element with any test id


@dataclass(frozen=True)
class By:
    """Where an element is by what a person sees: an ARIA role (``|`` between alternatives) and its
    accessible name, a label, or a text. Names, labels and texts are regular expressions, matched
    case-insensitively; ``{name}`` parts are filled in, escaped."""

    how: str  # "role", "label" or "text"
    what: str  # the role(s), the label or the text
    name: str = ""  # a role's accessible name

    @classmethod
    def role(cls, role: str, name: str = "") -> By:
        return cls("role", role, name)

    @classmethod
    def label(cls, label: str) -> By:
        return cls("label", label)

    @classmethod
    def text(cls, text: str) -> By:
        return cls("text", text)

    def locate(self, scope: Page | Locator, **parts: object) -> Locator:
        def pattern(source: str) -> re.Pattern[str]:
            # Only ``{name}`` parts given are filled in: a pattern's own braces (``\d{4}``) stay.
            filled = re.sub(
                r"\{(\w+)\}", lambda m: re.escape(str(parts[m[1]])) if m[1] in parts else m[0], source
            )
            return re.compile(filled, re.I)

        if self.how == "label":
            return scope.get_by_label(pattern(self.what))
        if self.how == "text":
            return scope.get_by_text(pattern(self.what))
        roles = [
            scope.get_by_role(role, name=pattern(self.name)) if self.name else scope.get_by_role(role)  # type: ignore[arg-type]
            for role in self.what.split("|")
        ]
        found = roles[0]
        for other in roles[1:]:
            found = found.or_(other)
        return found

    def unmarked(self, scope: Page | Locator) -> Locator:
        """The innermost elements this finds (an <article> in an <li>: the article) that carry no test
        id: on a page with test ids, a guess never competes with them."""
        found = self.locate(scope).filter(has_not=scope.get_by_test_id(ANY_TEST_ID))
        return found.filter(has_not=self.locate(scope))

    def __str__(self) -> str:
        if self.how == "role":
            return f"role {self.what}" + (f" named /{self.name}/i" if self.name else "")
        return f"{self.how} /{self.what}/i"


class TestId(Declared):
    """A test id: the value of the app's test-id attribute (``[tool.pitstop] test_id_attribute``)."""

    __test__ = False  # not a pytest test class
    kind = "test id"
    by: By | None

    def __new__(cls, value: str, meaning: str = "", *, by: By | None = None) -> Self:
        declared = super().__new__(cls, value, meaning + (f"; else by {by}" if by else ""))
        declared.by = by
        return declared

    def locate(self, scope: Page | Locator, **parts: object) -> Locator:
        """The element by this test id (``{name}`` parts filled in), or else where ``by`` says."""
        found = scope.get_by_test_id(self.format(**parts) if parts else str(self))
        return found.or_(self.by.locate(scope, **parts)) if self.by else found


class Attribute(Declared):
    """An HTML attribute the steps read (its name, not configurable)."""

    kind = "attribute"


class Wording(Declared):
    """Text the steps expect to see (matched as a substring unless said otherwise)."""

    kind = "wording"


class SessionStatus(Declared):
    """A session status word as the app shows it (the model's word by default)."""

    kind = "session status"


class HttpStatus(Declared):
    """An HTTP status code the steps expect."""

    kind = "HTTP status"


class Endpoint(Declared):
    """An HTTP endpoint of the app that pitstop calls (not a page)."""

    kind = "endpoint"


class Field(Declared):
    """A form field of a page that is not the app's (Stripe's, localstripe's): by its name or label."""

    kind = "field"


def declarations(owner: type) -> list[tuple[str, Declared]]:
    """A class's declarations, its bases' first, each name once (a subclass's value wins)."""
    found: dict[str, Declared] = {}
    for klass in reversed(owner.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, Declared):
                found[name] = value
    return list(found.items())


def summary(owner: type) -> str:
    """The first sentence of a class's docstring, on one line."""
    doc = inspect.getdoc(owner) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(owner: type, *, used_by: Iterable[str] = ()) -> str:
    """A markdown section for one class: its summary, where it is used and its declarations."""
    lines = [f"### `{owner.__name__}`", "", summary(owner).replace("``", "`")]
    users = ", ".join(f"`{name}`" for name in used_by)
    if users:
        lines += ["", f"Used by {users}."]
    lines += ["", "| kind | value | what for |", "|---|---|---|"]
    for _, value in declarations(owner):
        lines.append(f"| {value.kind} | `{_cell(str(value))}` | {_cell(value.meaning).replace('``', '`')} |")
    return "\n".join(lines)
