"""The generated part of docs/app-contract.md: the steps of ``Flows`` and what each page object declares.

``python -m harness.flows.contract_doc`` prints it; ``--write PATH``
replaces the part between the markers of that document. A test
(tests/test_app_contract.py) fails while the document and the declarations
disagree.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .pages import PAGE_OBJECTS, CheckoutPage, EmbeddedCheckoutPage, StripeCheckoutPage
from .pages.contract import declarations, summary, table
from .steps import Flows

BEGIN = "<!-- generated from the page objects and Flows: python -m harness.flows.contract_doc --write -->"
END = "<!-- end of the generated part -->"
# Steps that find their page object through payment_form (one of the kinds of payment page).
PAYMENT_FORMS = (CheckoutPage, EmbeddedCheckoutPage, StripeCheckoutPage)


def steps() -> list[tuple[str, Callable[..., Any]]]:
    """Flows' public methods, in the order the class defines them."""
    return [
        (name, member)
        for name, member in vars(Flows).items()
        if inspect.isfunction(member) and not name.startswith("_")
    ]


def drives(method: Callable[..., Any]) -> list[type]:
    """The page objects a default step uses itself (read from its source)."""
    source = inspect.getsource(method)
    used = [page for page in PAGE_OBJECTS if re.search(rf"\b{page.__name__}\b", source)]
    if "payment_form(" in source:
        used += [page for page in PAYMENT_FORMS if page not in used]
    return used


def calls(method: Callable[..., Any]) -> list[str]:
    """The other steps a default step takes (read from its source)."""
    names = {name for name, _ in steps()} - {"page"}
    found = re.findall(r"self\.(\w+)\(", inspect.getsource(method))
    return [name for name in dict.fromkeys(found) if name in names]


def _markdown(text: str) -> str:
    """A docstring's reStructuredText literals as markdown's, on one line, safe in a table."""
    return " ".join(text.split()).replace("``", "`").replace("|", "\\|")


def _signature(name: str, method: Callable[..., Any]) -> str:
    parameters = list(inspect.signature(method).parameters)[1:]  # without self
    return f"{name}({', '.join(parameters)})"


def _steps_table() -> str:
    lines = ["| step | what it does | the default drives |", "|---|---|---|"]
    for name, method in steps():
        doc = _markdown((inspect.getdoc(method) or "").split("\n\n")[0])
        pages = [f"`{page.__name__}`" for page in drives(method)]
        others = [f"`{other}`" for other in calls(method)]
        how = (
            ", ".join(pages)
            + ("; " if pages and others else "")
            + (f"through {', '.join(others)}" if others else "")
        )
        how = how or "no page: pitstop's own"
        lines.append(f"| `{_signature(name, method)}` | {doc} | {how} |")
    return "\n".join(lines)


def _flows_declarations() -> str:
    lines = ["| kind | value | what for |", "|---|---|---|"]
    for _, value in declarations(Flows):
        lines.append(f"| {value.kind} | `{value}` | {value.meaning} |")
    return "\n".join(lines)


def render_generated() -> str:
    """The generated part, markers included."""
    used_by: dict[type, list[str]] = {page: [] for page in PAGE_OBJECTS}
    for name, method in steps():
        for page in drives(method):
            used_by[page].append(f"Flows.{name}")
    parts = [
        BEGIN,
        "",
        "## The steps",
        "",
        _markdown(summary(Flows)),
        "",
        _steps_table(),
        "",
        "The session statuses the steps expect the app to show (`Flows`' own declarations):",
        "",
        _flows_declarations(),
        "",
        "## The pages",
        "",
        "What each page object relies on. A test id is the value of the app's test-id attribute",
        "(`[tool.pitstop] test_id_attribute`, default `data-testid`); `{name}` parts are filled in.",
        "",
    ]
    for page in PAGE_OBJECTS:
        parts += [table(page, used_by=used_by[page]), ""]
    parts.append(END)
    return "\n".join(parts)


def replace_generated(document: str) -> str:
    """The document with its generated part replaced by the current one."""
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + render_generated() + document[end:]


def generated_part(document: str) -> str:
    """The generated part as the document has it, markers included."""
    return document[document.index(BEGIN) : document.index(END) + len(END)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.flows.contract_doc", description=__doc__)
    parser.add_argument("--write", metavar="PATH", help="update the generated part of this document")
    args = parser.parse_args(argv)
    if args.write is None:
        print(render_generated())
        return 0
    path = Path(args.write)
    path.write_text(replace_generated(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated the generated part of {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
