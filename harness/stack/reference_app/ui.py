"""The app's UIs: one server, three sets of pages, chosen by ``APP_UI`` (``classic``, ``bare``, ``second``).

A UI is a template folder and the paths it serves its pages at. The routers
declare every page at its classic path; ``UI.routes`` maps a classic path to
this UI's (``None``: not served in this UI), and ``UI.routed`` re-registers a
router's pages there. Everything that is not a page (the JSON API under
``/api``, the chat's socket, photos and end under ``/session/{id}/…``, the
webhook, the debug API, ``/logout``, ``/admin/cleanup``) is the same in every
UI, as is all the logic behind the pages. The server's own links (redirects,
the ``url`` of a session or of an accepted request) go through ``UI.path``.

The second UI exists to prove that pitstop's scenarios drive an app whose pages
differ (``tests/examples/second_ui_conftest.py``): other paths, other wording,
test ids under ``data-test`` with other values, and Checkout Session payments
only (it has no card page). Its templates are ``templates_second/``; a template
it lacks (the admin page) is the classic one.

The bare UI is the classic one as most apps render it: without a single test id.
Its templates lose every ``data-testid`` attribute as they load (``WithoutTestIds``),
the ``<template>`` rows the scripts clone included, so no page ever shows one.
It proves that pitstop adopts such an app (``tests/examples/no_test_ids_conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from fastapi.routing import APIRoute
from jinja2.ext import Extension

HERE = Path(__file__).parent
HOME_BY_ROLE = {
    "customer": "/customer/dashboard",
    "mechanic": "/mechanic/dashboard",
    "admin": "/admin/cleanup",
}
LOGIN_BY_ROLE = {"customer": "/customer/login", "mechanic": "/mechanic/login", "admin": "/admin/login"}


@dataclass(frozen=True)
class UI:
    name: str
    templates: tuple[Path, ...]  # searched in order
    routes: Mapping[str, str | None]  # a page's classic path -> this UI's (None: not served)
    test_ids: bool = True  # False: the pages carry none (WithoutTestIds)

    def path(self, classic: str, **params: object) -> str:
        """Where this UI serves the page of ``classic`` (a classic route), its ``{params}`` filled in."""
        served = self.routes.get(classic, classic)
        if served is None:
            raise LookupError(f"the {self.name} UI has no page {classic}")
        return served.format(**params)

    def home(self, role: str) -> str:
        return self.path(HOME_BY_ROLE[role])

    def login(self, role: str) -> str:
        return self.path(LOGIN_BY_ROLE.get(role, LOGIN_BY_ROLE["customer"]))

    def routed(self, router: APIRouter) -> APIRouter:
        """``router`` with its pages at this UI's paths; a path two pages map to is served by the first."""
        if not self.routes:
            return router
        moved = APIRouter()
        served: set[tuple[str, frozenset[str]]] = set()
        for route in router.routes:
            if not (isinstance(route, APIRoute) and route.path in self.routes):
                moved.routes.append(route)
                continue
            path, methods = self.routes[route.path], frozenset(route.methods or ())
            if path is None or (path, methods) in served:
                continue
            served.add((path, methods))
            moved.add_api_route(
                path,
                route.endpoint,
                methods=sorted(methods),
                response_class=route.response_class,
                name=route.name,
            )
        return moved


class WithoutTestIds(Extension):
    """A template's source without its ``data-testid`` attributes (``{{ … }}`` in a value holds no quote)."""

    ATTRIBUTE = re.compile(r'\s+data-testid="[^"]*"')

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self.ATTRIBUTE.sub("", source)


CLASSIC = UI("classic", (HERE / "templates",), {})
BARE = UI("bare", CLASSIC.templates, {}, test_ids=False)
SECOND = UI(
    "second",
    (HERE / "templates_second", HERE / "templates"),
    {
        "/customer/login": "/signin",  # one sign-in page for every role
        "/mechanic/login": "/signin",
        "/admin/login": "/signin",
        "/customer/dashboard": "/app/home",
        "/mechanic/dashboard": "/garage/queue",
        "/onboarding/pricing": "/book",
        "/onboarding/intake": "/book/details",
        "/checkout/success": "/book/done",
        "/checkout/{intent_id}": None,  # no card page: Checkout Session payments only
        "/session/{session_id}": "/room/{session_id}",
    },
)
UIS = {ui.name: ui for ui in (CLASSIC, BARE, SECOND)}
