"""pitstop's pytest fixtures, registered by ``harness.plugin``.

Public: ``pitstop`` (the handle), ``customer``, ``mechanic``, ``second_mechanic``
(test users), ``customer_page``, ``mechanic_page``, ``second_mechanic_page``
(signed-in pages), ``pitstop_flows`` (the steps the scenarios take in the app),
and the override points ``pitstop_flows_class`` (which ``Flows`` drives the
app's pages) and ``pitstop_make_mechanic`` (how a test mechanic is made when the
model keeps mechanics in a table of their own). They extend pytest-playwright's
``base_url``, ``browser_type_launch_args`` and ``connect_options``. Internal
fixtures start with ``_``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from harness.engine.identity import PERSONAS
from harness.errors import BadInput, PitstopError
from harness.plugin.hooks import given_base_url
from harness.plugin.stash_keys import EVIDENCE, PHASES, RECORDER, STATE, TEST_RECORD

if TYPE_CHECKING:  # the engine and the flows load when a test first asks for pitstop
    from harness.engine.handle import Pitstop
    from harness.engine.mechanics import MechanicFactory
    from harness.engine.personas import TestUser
    from harness.engine.run import Run
    from harness.flows.steps import Flows

PAGE_SUFFIX = "_page"


class LeakWarning(UserWarning):
    """A test left its users with pending, waiting or live sessions."""


def _run(config: pytest.Config) -> Run:
    return config.stash[STATE].run


def _fail(exc: PitstopError) -> NoReturn:
    """Fail the test with pitstop's message and fix, and no traceback."""
    __tracebackhide__ = True
    pytest.fail(f"pitstop: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def pitstop(pytestconfig: pytest.Config) -> Pitstop:
    """The harness for this worker: ``.store``, ``.cleanup``, ``.health()``, ``.seed()``, ``.step()``."""
    from harness.engine.handle import Pitstop

    error: PitstopError | None = None
    try:
        handle = Pitstop(_run(pytestconfig))
    except PitstopError as exc:
        error = exc
    else:
        recorder = pytestconfig.stash.get(RECORDER, None)  # none on an xdist worker
        if recorder is not None:
            recorder.note_health_start(handle.run.health)  # the report's health at the start
        return handle
    _fail(error)


@pytest.fixture(scope="session")
def pitstop_make_mechanic(pitstop: Pitstop) -> MechanicFactory:
    """How a test mechanic is made when the model has ``[tool.pitstop.model.mechanics] table``.

    Override it in your conftest.py (any scope) to return a function
    ``(conn, mechanic) -> id`` that inserts your app's row and returns its id:
    ``conn`` is pitstop's psycopg connection, in a transaction that pitstop
    commits after registering the row; ``mechanic`` is a
    ``harness.NewMechanic`` (``email``, which the row must carry,
    ``name``, ``password``, ``label``, ``run``, ``worker``, and ``user_id``: the
    test user made for ``mechanics.user``, when the model links one). pitstop
    registers the row with the run's tags and deletes it at the end of the run.

    The default inserts ``(id, email)`` (and ``user`` when the model links one);
    it fails naming this fixture when the table requires more. Unused when
    mechanics are test users (no mechanics table).
    """
    from harness.engine.mechanics import default_factory

    return default_factory(pitstop.run.config.settings.model)


def _use_mechanic_factory(request: pytest.FixtureRequest, run: Run, labels: list[str]) -> None:
    """Hand the ``pitstop_make_mechanic`` fixture's factory to the run before it makes a mechanic."""
    if (
        run.mechanic_factory is None
        and run.config.settings.model.has_mechanics_table
        and any(PERSONAS[label] == "mechanic" for label in labels)
    ):
        run.mechanic_factory = request.getfixturevalue("pitstop_make_mechanic")


@pytest.fixture(scope="session")
def pitstop_flows_class() -> type[Flows]:
    """The class of ``pitstop_flows``: how the scenarios act in the app. An override point.

    The default, ``harness.Flows``, drives the reference app's
    pages. Override it in your conftest.py (any scope) with a subclass that
    drives yours; ``pitstop run`` applies the conftest.py of the folder it is
    started from to the shipped scenarios::

        from harness import Flows

        class OurFlows(Flows):
            def sign_in(self, page, user): ...

        @pytest.fixture(scope="session")
        def pitstop_flows_class():
            return OurFlows
    """
    from harness.flows.steps import Flows

    return Flows


@pytest.fixture
def pitstop_flows(
    pitstop_flows_class: type[Flows], pitstop: Pitstop, request: pytest.FixtureRequest
) -> Flows:
    """The steps of this test in the app: ``pitstop_flows_class`` built with the handle,
    the test's pages and the app contract (``[tool.pitstop]``).

    A step names a test user; its page is that user's page fixture
    (``customer`` → ``customer_page``), made on first use. The user must be
    one the test asked for (``customer``, ``mechanic``, ``second_mechanic`` or
    their pages), so that pitstop purges it before the test and checks it after.
    """
    labels = [
        label
        for label in PERSONAS
        if label in request.fixturenames or label + PAGE_SUFFIX in request.fixturenames
    ]

    def page_of(user: TestUser) -> Any:
        for label in labels:
            if request.getfixturevalue(label) == user:
                return request.getfixturevalue(label + PAGE_SUFFIX)
        raise BadInput(
            f"{user.email} is none of this test's users ({', '.join(labels) or 'it has none'})",
            fix="ask for the user's fixture (customer, mechanic or second_mechanic) in the test",
        )

    return pitstop_flows_class(pitstop=pitstop, pages=page_of, contract=pitstop.run.config.contract)


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str | None:
    """The app under test, through the guard: ``--base-url``, or the embedded stack's app.

    A run that does not use pitstop (no pitstop option given, no collected test asking for
    a pitstop fixture) gets ``--base-url`` as given, or none, as without pitstop.
    """
    if not pytestconfig.stash[STATE].used:
        return given_base_url(pytestconfig)
    pitstop: Pitstop = request.getfixturevalue("pitstop")
    return pitstop.target.app_url


@pytest.fixture(scope="session")
def playwright(playwright: Any, pytestconfig: pytest.Config) -> Any:
    """pytest-playwright's, with ``get_by_test_id`` reading the app's attribute ([tool.pitstop])."""
    state = pytestconfig.stash[STATE]
    if state.used:
        playwright.selectors.set_test_id_attribute(state.config.contract.test_id_attribute)
    return playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], playwright: Any, browser_name: str, pytestconfig: pytest.Config
) -> dict[str, Any]:
    """pytest-playwright's launch options, plus a system Chromium where Playwright has none.

    Other browsers' options stay as they are; so do Chromium's where no Chromium is found and
    the run does not use pitstop (Playwright then says what is missing, as without pitstop), or
    the browsers are a remote server's (``--pitstop-browser-ws-endpoint``): the server launches
    its own, and takes a local executable's path from these options only when run ``--unsafe``.
    """
    if browser_name != "chromium":
        return browser_type_launch_args
    from harness.engine.browsers import find_chromium, launch_args

    error: PitstopError | None = None
    try:
        headless = bool(browser_type_launch_args.get("headless", True))
        executable = find_chromium(playwright.chromium.executable_path, headless=headless)
        return launch_args(browser_type_launch_args, executable)
    except PitstopError as exc:
        state = pytestconfig.stash[STATE]
        if not state.used or state.config.browser_ws_endpoint:
            return browser_type_launch_args
        error = exc
    _fail(error)


@pytest.fixture(scope="session")
def connect_options(
    connect_options: dict[str, Any] | None,
    browser_type_launch_args: dict[str, Any],
    pytestconfig: pytest.Config,
) -> dict[str, Any] | None:
    """Connect to a remote Playwright server when ``--pitstop-browser-ws-endpoint`` is given.

    The server reads the launch options from a header, in its own (camelCase) spelling.
    """
    endpoint = pytestconfig.stash[STATE].config.browser_ws_endpoint
    if not endpoint or connect_options:
        return connect_options
    launch = {_camel(k): v for k, v in browser_type_launch_args.items()}
    return {"endpoint": endpoint, "headers": {"x-playwright-launch-options": json.dumps(launch)}}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.fixture(autouse=True)
def _pitstop_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Internal: purge the test's users before it, check for leaks and keep evidence after it.

    Does nothing (and touches no database) for a test that uses no pitstop user.
    """
    labels = [
        label
        for label in PERSONAS
        if label in request.fixturenames or label + PAGE_SUFFIX in request.fixturenames
    ]
    if not labels:
        yield
        return
    handle: Pitstop = request.getfixturevalue("pitstop")
    run = handle.run
    _use_mechanic_factory(request, run, labels)
    error: PitstopError | None = None
    try:
        record = run.begin_test(labels)
        record.health_before = run.health()
    except PitstopError as exc:
        error = exc
    if error is not None:
        _fail(error)
    request.node.stash[TEST_RECORD] = record
    evidence = Path(request.getfixturevalue("output_path"))  # pytest-playwright's folder for this test
    yield
    phases = request.node.stash.get(PHASES, {})
    if any(r.failed for r in phases.values()):
        _keep_evidence(request, run, labels, evidence)
    marker = request.node.get_closest_marker("pitstop")
    if run.config.leaks == "off" or (marker and marker.kwargs.get("leaves_state")):
        return
    try:
        record.leak = run.leaks(labels)
    except PitstopError as exc:
        _fail(exc)
    if record.leak:
        left = ", ".join(f"{s['status']} session {s['id']} of {s['user']}" for s in record.leak)
        message = f"{request.node.nodeid} left {left}"
        if run.config.leaks == "fail":
            pytest.fail(
                f"pitstop: {message}; end them in the test, "
                "or mark it @pytest.mark.pitstop(leaves_state=True)",
                pytrace=False,
            )
        # Filed under the test, not this line: the report points where the leak comes from.
        path, line, _ = request.node.location
        warnings.warn_explicit(
            LeakWarning(message), LeakWarning, str(request.config.rootpath / path), (line or 0) + 1
        )


def _keep_evidence(request: pytest.FixtureRequest, run: Run, labels: list[str], folder: Path) -> None:
    """Write the users' rows and the health before and after, beside pytest-playwright's artifacts."""
    try:
        bundle = run.bundle(labels, run.health())
    except PitstopError as exc:
        warnings.warn(f"pitstop: no evidence kept for {request.node.nodeid}: {exc}", stacklevel=1)
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pitstop-bundle.json"
    path.write_text(json.dumps(bundle, indent=2, default=str), encoding="utf-8")
    request.node.stash[EVIDENCE] = path  # linked from the reports


MECHANIC_DOC = """

    When the model keeps mechanics in a table of their own, it is a row of that
    table made by ``pitstop_make_mechanic`` and registered by pitstop: ``id`` is
    the row's id, ``email`` (in the test domain), ``password`` and ``name`` are
    what the factory was given. Signing it in then needs the app's own way (an
    override of ``Flows.sign_in``, see ``pitstop_flows_class``) unless the row
    links to a test user (``mechanics.user``), who signs in through Supabase
    Auth with that email and password.
"""


def _user(label: str) -> Callable[..., TestUser]:
    def fixture(pitstop: Pitstop, request: pytest.FixtureRequest) -> TestUser:
        error: PitstopError | None = None
        try:
            _use_mechanic_factory(request, pitstop.run, [label])
            return pitstop.run.user(label)
        except PitstopError as exc:
            error = exc
        _fail(error)

    fixture.__name__ = label
    fixture.__doc__ = f"This worker's {label.replace('_', ' ')} (a test user), purged before the test."
    if PERSONAS[label] == "mechanic":
        fixture.__doc__ += MECHANIC_DOC
    return pytest.fixture(fixture)


def _page(label: str) -> Callable[..., Any]:
    def fixture(
        pitstop: Pitstop,
        pitstop_flows: Flows,
        new_context: Callable[..., Any],
        browser: Any,
        request: pytest.FixtureRequest,
    ) -> Any:
        user: TestUser = request.getfixturevalue(label)
        state = pitstop.storage_state(user, browser, pitstop_flows.sign_in)
        return new_context(storage_state=state).new_page()

    fixture.__name__ = label + PAGE_SUFFIX
    fixture.__doc__ = (
        f"A page signed in as the {label.replace('_', ' ')}, in its own browser context "
        "(signed in by ``pitstop_flows.sign_in``, once per worker)."
    )
    return pytest.fixture(fixture)


customer = _user("customer")
mechanic = _user("mechanic")
second_mechanic = _user("second_mechanic")
customer_page = _page("customer")
mechanic_page = _page("mechanic")
second_mechanic_page = _page("second_mechanic")
