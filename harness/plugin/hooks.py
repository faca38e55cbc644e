"""The plugin's hooks: the run's life (configure, the xdist controller, the report) and each test's record.

Registered by the entry module (``harness.plugin``) at configure time. Light at import, as
the entry is: the run (``harness.engine.run``) is made by the ``State`` when a fixture or a
hook first needs it, so hooks on a suite that uses no pitstop fixture read the options and
touch nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.config.auth import load_auth
from harness.config.contract import load_contract
from harness.config.file import config_file, read_tables
from harness.config.options import PLUGIN, SETTINGS, auth_given, resolve
from harness.config.payments import load_payments
from harness.config.settings import RunConfig, Settings, store_kind
from harness.errors import BadInput, PitstopError
from harness.plugin.stash_keys import EVIDENCE, PHASES, RECORDER, REPORT, STATE, TEST_RECORD, USER_PROPERTY
from harness.plugin.state import State
from harness.report import recorder as report
from harness.rules.health import Health
from harness.rules.model import load_model

if TYPE_CHECKING:
    from harness.engine.run import Run


def configure(config: pytest.Config) -> None:
    """Read the options (a usage error when they are wrong) and keep this process's ``State``."""
    config.addinivalue_line(
        "markers",
        "pitstop(leaves_state=False): pitstop settings for a test; leaves_state=True skips the leak check",
    )
    try:
        run_config = read_config(config)
    except PitstopError as exc:
        raise pytest.UsageError(f"pitstop: {exc}") from None
    engaged = _engaged(config, os.environ)
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None and "pitstop" in worker_input:
        worker = {**worker_input["pitstop"], "worker_id": worker_input["workerid"]}
        config.stash[STATE] = State(run_config, engaged=engaged, worker=worker)
        return
    config.stash[STATE] = State(run_config, engaged=engaged)
    config.stash[RECORDER] = report.Recorder(shard=run_config.shard_label)
    config.pluginmanager.register(Recording(config.stash[RECORDER]), "pitstop.recording")
    if config.pluginmanager.hasplugin("html") and getattr(config.option, "htmlpath", None):
        # pytest-html is installed and writes a report: pitstop adds to it (harness.plugin.html_report).
        from harness.plugin.html_report import HtmlReport

        config.pluginmanager.register(HtmlReport(config), "pitstop.html")


def read_config(config: pytest.Config, env: dict[str, str] | None = None) -> RunConfig:
    """Resolve every option: command line > ini > environment > default (``harness.config.options``)."""
    env = dict(os.environ) if env is None else env
    given = _given(config)
    in_settings = {option.field for option in SETTINGS}
    values = resolve((option for option in PLUGIN if option.field not in in_settings), given, env)
    base_url = given_base_url(config)
    # The app is pytest-playwright's --base-url, never PITSTOP_APP_URL: without one, the embedded stack.
    env = {name: value for name, value in env.items() if name != "PITSTOP_APP_URL"}
    table = read_tables(config_file(values["config"], {}, config.rootpath))
    contract = load_contract(table, lambda key: str(config.getini(key) or "") or None)
    settings = Settings.load(
        **{field: value for field, value in given.items() if field in in_settings},
        app_url=base_url.rstrip("/") if base_url else None,
        login_path=contract.customer_login_path,
        model=load_model(table.get("model")),
        payments=load_payments(table.get("payments")),
        auth=load_auth(table.get("auth"), auth_given(values)),
        env=env,
        surface="plugin",
    )
    return RunConfig(
        settings=settings,
        contract=contract,
        reset=values["reset"],
        leaks=values["leaks"],
        health_path=values["health"],
        health_html=values["health_html"],
        health_strict=values["health_strict"],
        payment=values["payment"],
        browser_ws_endpoint=values["browser_ws_endpoint"],
        sweep_minutes=values["sweep_minutes"],
        lease_seconds=values["lease_seconds"],
        shard=values["shard"].strip() if values["shard"] else None,
        split_shard=_split_shard(config),
    )


def _split_shard(config: pytest.Config) -> str | None:
    """pytest-split's group of its splits (``--group K --splits N``), where it is installed and given."""
    try:
        group, splits = config.getoption("group", None), config.getoption("splits", None)
    except ValueError:
        return None
    return f"{group}/{splits}" if isinstance(group, int) and isinstance(splits, int) else None


@pytest.hookimpl(trylast=True)  # after any other plugin that orders or deselects the items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--pitstop-shard K/N``: keep the K-th of every N collected tests, deselect the others. The
    tests are dealt by their ids in sorted order, which every shard (and every xdist worker) sees the
    same whatever order a plugin runs them in, so each test runs in exactly one shard."""
    shard = config.stash[STATE].config.shard_of
    if shard is None:
        return
    k, n = shard
    dealt = {nodeid: i % n == k - 1 for i, nodeid in enumerate(sorted(item.nodeid for item in items))}
    kept = [item for item in items if dealt[item.nodeid]]
    deselected = [item for item in items if not dealt[item.nodeid]]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept


def given_base_url(config: pytest.Config) -> str | None:
    """pytest-playwright's ``--base-url`` (or its ini key) as given; None without one (or without it)."""
    try:
        return config.getoption("base_url", default=None) or config.getini("base_url") or None
    except ValueError:  # pytest-playwright is not loaded (-p no:playwright): no ini key of that name
        return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Whether this run uses pitstop (a collected test asks for a pitstop fixture, or an option was
    given); and, in a run without workers, whether it can: the embedded stack's extra, up front."""
    state = session.config.stash[STATE]
    state.used = state.engaged or any("pitstop" in getattr(i, "fixturenames", ()) for i in session.items)
    if state.used and state.config.embedded and state.worker is None:
        from harness.stack.extras import require_stack

        try:
            require_stack(postgres=not state.config.settings.database_url)
        except PitstopError as exc:
            raise pytest.UsageError(f"pitstop: {exc}") from None


def _given(config: pytest.Config) -> dict[str, Any]:
    """Each plugin option as given, by field: on the command line, else in the ini file; None: not given."""
    given: dict[str, Any] = {}
    for option in PLUGIN:
        value = config.getoption(option.dest)
        if value is None:
            ini = config.getini(option.dest)
            value = ini if ini not in ("", [], None) and (option.kind != "flag" or ini) else None
        given[option.field] = value
    return given


def _engaged(config: pytest.Config, env: Mapping[str, str]) -> bool:
    """Whether a pitstop option was given: on the command line, in the ini file, or as a variable
    of pitstop's own (``PITSTOP_…``; ``DATABASE_URL`` and Supabase's are not pitstop's alone)."""
    if any(value is not None for value in _given(config).values()):
        return True
    return any(o.env and o.env.startswith("PITSTOP_") and env.get(o.env) for o in PLUGIN)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand each worker the run's id and the way to ask for the target, which
    the controller starts when a worker first asks (``harness.plugin.xdist``)."""
    config = node.config
    state = config.stash[STATE]
    if state.broker is None:
        from harness.plugin.xdist import TargetBroker

        state.broker = TargetBroker(lambda: _hand_over(config))
    node.workerinput["pitstop"] = {
        "run_id": state.run_id,
        "run_pid": state.run_pid,
        "target": state.broker.wire(),
    }


def _hand_over(config: pytest.Config) -> Any:
    """The controller's target for a worker, started on the first request; the health at the start."""
    run = config.stash[STATE].run
    target = run.target().to_json()
    config.stash[RECORDER].note_health_start(run.health)
    return target


def pytest_report_header(config: pytest.Config) -> list[str]:
    run_config = config.stash[STATE].config
    settings = run_config.settings
    target = settings.app_url or "the embedded stack (started on first use)"
    try:
        store = store_kind(settings, embedded=run_config.embedded)
    except BadInput:
        store = "none (give a database, Supabase or admin token)"
    return [
        f"pitstop: target {target}; store {store}; "
        f"reset={run_config.reset} leaks={run_config.leaks} "
        f"payment={run_config.payment}; test domain {settings.test_domain}; "
        f"report {run_config.health_path}"
    ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    test_report = yield
    item.stash.setdefault(PHASES, {})[test_report.when] = test_report
    if test_report.when == "call" and test_report.failed:
        # A dead app explains a failure better than the browser's error does.
        run = item.config.stash[STATE].made_run
        problem = run.app_problem() if run is not None else None
        if problem:
            test_report.sections.append(("pitstop", problem))
    if test_report.when == "teardown":
        record = item.stash.get(TEST_RECORD, None)
        data = record.to_json() if record is not None else {}
        artifacts = _artifacts(item, test_report)
        if artifacts:
            data["artifacts"] = artifacts
        if data:
            test_report.user_properties.append((USER_PROPERTY, data))
    return test_report


PLAYWRIGHT_ARTIFACTS = {"trace": "trace*.zip", "screenshot": "test-*.png", "video": "*.webm"}


def _artifacts(item: pytest.Item, test_report: pytest.TestReport) -> list[dict[str, str]]:
    """What a test left to look at: pytest-playwright's trace, screenshots and video, pitstop's evidence.

    pytest-playwright names what it kept in the teardown report's user
    properties (``playwright_trace``, ...); an older one does not, and what
    its output folder for the test holds is taken instead. A path is relative
    to the folder pytest was started from when it lies inside it.
    """
    found = [
        {"kind": str(name).removeprefix("playwright_"), "path": str(value)}
        for name, value in test_report.user_properties
        if str(name).startswith("playwright_")
        and str(name).removeprefix("playwright_") in PLAYWRIGHT_ARTIFACTS
    ]
    folder = (getattr(item, "funcargs", None) or {}).get("output_path")
    if not found and folder and Path(folder).is_dir():
        for kind, pattern in PLAYWRIGHT_ARTIFACTS.items():
            found += [{"kind": kind, "path": str(path)} for path in sorted(Path(folder).glob(pattern))]
    evidence = item.stash.get(EVIDENCE, None)
    if evidence is not None:
        found.append({"kind": "evidence", "path": str(evidence)})
    root = item.config.invocation_params.dir
    for artifact in found:
        path = Path(artifact["path"])
        if path.is_absolute() and path.is_relative_to(root):
            artifact["path"] = str(path.relative_to(root))
    return found


class Recording:
    """Registered on the controller (or a run without workers): every phase's report,
    workers' included, is folded into the run's record."""

    def __init__(self, recorder: report.Recorder) -> None:
        self.recorder = recorder

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.recorder.outcome(report.nodeid, report.when, report.outcome, report.duration)
        for name, value in report.user_properties:
            if name == USER_PROPERTY and isinstance(value, dict):
                self.recorder.test_data(report.nodeid, value)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash[STATE]
    run = state.made_run
    recorder = config.stash.get(RECORDER, None)
    if state.broker is not None:  # no target starts from here on; one starting is waited for
        state.broker.stop()
    try:
        if recorder is not None and run is not None and run.started:
            _write_report(config, run, recorder, session)
    finally:
        try:
            if run is not None:
                run.close(delete_users=run.config.reset != "none")
        finally:
            if state.broker is not None:  # after the stack stopped: its thread is the servers' parent
                state.broker.release()


def _write_report(
    config: pytest.Config, run: Run, recorder: report.Recorder, session: pytest.Session
) -> None:
    target = run.target()
    try:
        left = run.release_users() if run.config.reset != "none" else []
        health = Health(run.health()).to_json()
    except PitstopError as exc:
        left, health = run.left, {"error": str(exc)}
    app_error = run.app_problem()
    said = {"app_error": app_error, "lease_problem": run.lease_problem}
    data = report.build({**target.public(), **{k: v for k, v in said.items() if v}}, health, recorder, left)
    config.stash[REPORT] = data
    run_config = run.config
    report.write(data, Path(run_config.health_path))
    if run_config.health_html:
        from harness.report import html as report_html

        html_path = Path(run_config.health_html)
        html_path.parent.mkdir(parents=True, exist_ok=True)
        page = report_html.html_page(
            data, page=html_path, json_report=Path(run_config.health_path), root=config.invocation_params.dir
        )
        html_path.write_text(page, encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(report.markdown(data))
    if run_config.health_strict and health.get("problems") and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    data = config.stash.get(REPORT, None)
    if data is None:
        return
    terminalreporter.section("pitstop health")
    for line in report.terminal_lines(data):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"report    {config.stash[STATE].config.health_path}")
