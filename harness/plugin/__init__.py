"""The pytest plugin: options, hooks and wiring. The work is done by ``harness.engine.run``.

Every ``--pitstop-*`` option has an ini twin (same name, underscores) and an
environment default; precedence: command line > ini > environment > default.
Under pytest-xdist the controller starts the target (the embedded stack when
no ``--base-url`` is given), runs the start-of-run reset once, hands the
target to the workers, collects what they record and writes the report.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.config.contract import KEYS as CONTRACT_KEYS
from harness.config.contract import AppContract, load_contract
from harness.config.file import config_file, read_tables
from harness.config.payments import load_payments
from harness.config.settings import (
    LEAK_MODES,
    PAYMENT_MODES,
    RESET_MODES,
    STORES,
    RunConfig,
    Settings,
    store_kind,
)
from harness.engine.run import Run
from harness.errors import BadInput, PitstopError
from harness.plugin.local_conftest import load_conftest
from harness.plugin.stash_keys import EVIDENCE, PHASES, RECORDER, REPORT, RUN, TEST_RECORD, USER_PROPERTY
from harness.report import html as report_html
from harness.report import recorder as report
from harness.rules.health import Health
from harness.rules.model import load_model
from harness.store.postgres import STATEMENT_TIMEOUT_S


@dataclass(frozen=True)
class Option:
    name: str  # without the leading --
    env: str | None
    help: str
    default: Any = None
    choices: tuple[str, ...] | None = None
    kind: str = "text"  # text, int, flag or list

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


OPTIONS = (
    Option(
        "pitstop-store", "PITSTOP_STORE", "how to reach the rules (default: by what is given)", None, STORES
    ),
    Option("pitstop-database-url", "DATABASE_URL", "the target's Postgres connection string"),
    Option(
        "pitstop-config",
        "PITSTOP_CONFIG",
        "a TOML file of [tool.pitstop] tables (default: pyproject.toml)",
    ),
    Option("pitstop-supabase-url", "SUPABASE_URL", "the target's Supabase project URL"),
    Option("pitstop-supabase-key", "SUPABASE_SERVICE_ROLE_KEY", "the project's service-role key"),
    Option("pitstop-admin-token", "PITSTOP_ADMIN_TOKEN", "the app's debug API token (given targets)"),
    Option("pitstop-allow-host", "PITSTOP_ALLOWED_HOSTS", "allow a non-loopback target host", kind="list"),
    Option("pitstop-test-domain", "PITSTOP_TEST_DOMAIN", "email domain of test users", "pitstop.test"),
    Option("pitstop-reset", "PITSTOP_RESET", "what to reset and when", "full", RESET_MODES),
    Option("pitstop-leaks", "PITSTOP_LEAKS", "what to do when a test leaves state", "warn", LEAK_MODES),
    Option("pitstop-health", "PITSTOP_HEALTH", "where to write the JSON report", "pitstop-health.json"),
    Option("pitstop-health-html", "PITSTOP_HEALTH_HTML", "where to write the HTML report"),
    Option(
        "pitstop-health-strict",
        "PITSTOP_HEALTH_STRICT",
        "fail the run on health problems",
        False,
        kind="flag",
    ),
    Option("pitstop-payment", "PITSTOP_PAYMENT", "how non-payment scenarios pay", "ui", PAYMENT_MODES),
    Option("pitstop-browser-ws-endpoint", "PITSTOP_BROWSER_WS_ENDPOINT", "a Playwright server to connect to"),
    Option(
        "pitstop-sweep-minutes", "PITSTOP_SWEEP_MINUTES", "age of dead runs' users to sweep", 30, kind="int"
    ),
    Option(
        "pitstop-statement-timeout",
        "PITSTOP_STATEMENT_TIMEOUT",
        "seconds a database statement may take, also against a stopped server (0: none)",
        STATEMENT_TIMEOUT_S,
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pitstop", "pitstop: reset, drive and report on a session marketplace")
    for option in OPTIONS:
        help_text = f"{option.help} (ini: {option.dest}; env: {option.env}; default: {option.default})"
        kwargs: dict[str, Any] = {"dest": option.dest, "help": help_text}
        if option.kind == "flag":
            kwargs["action"] = "store_const"
            kwargs["const"] = True
        elif option.kind == "list":
            kwargs["action"] = "append"
        else:
            kwargs["choices"] = option.choices
        group.addoption(f"--{option.name}", **kwargs)
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


def read_config(config: pytest.Config, env: dict[str, str] | None = None) -> RunConfig:
    """Resolve every option: command line > ini > environment > default."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    for option in OPTIONS:
        value = config.getoption(option.dest)
        if value == "" and option.kind == "text":
            # What `--pitstop-database-url "$DATABASE_URL"` gives when the variable is unset.
            raise pytest.UsageError(f"--{option.name} is empty: give it a value, or leave the option out")
        if value is None:
            ini = config.getini(option.dest)
            value = ini if ini not in ("", [], None) and (option.kind != "flag" or ini) else None
        if value is None and option.env and env.get(option.env):
            value = env[option.env]
        if value is None:
            value = option.default
        values[option.dest] = _convert(option, value)
    base_url = config.getoption("base_url", default=None) or config.getini("base_url") or None
    # The app is pytest-playwright's --base-url, never PITSTOP_APP_URL: without one, the embedded stack.
    env = {name: value for name, value in env.items() if name != "PITSTOP_APP_URL"}
    table = read_tables(config_file(values["pitstop_config"], {}, config.rootpath))
    contract = load_contract(table, lambda key: str(config.getini(key) or "") or None)
    settings = Settings.load(
        store=values["pitstop_store"],
        database_url=values["pitstop_database_url"],
        supabase_url=values["pitstop_supabase_url"],
        supabase_key=values["pitstop_supabase_key"],
        app_url=base_url.rstrip("/") if base_url else None,
        admin_token=values["pitstop_admin_token"],
        allowed_hosts=values["pitstop_allow_host"],
        test_domain=values["pitstop_test_domain"],
        login_path=contract.customer_login_path,
        model=load_model(table.get("model")),
        payments=load_payments(table.get("payments")),
        statement_timeout=values["pitstop_statement_timeout"],
        env=env,
    )
    return RunConfig(
        settings=settings,
        contract=contract,
        reset=values["pitstop_reset"],
        leaks=values["pitstop_leaks"],
        health_path=values["pitstop_health"],
        health_html=values["pitstop_health_html"],
        health_strict=values["pitstop_health_strict"],
        payment=values["pitstop_payment"],
        browser_ws_endpoint=values["pitstop_browser_ws_endpoint"],
        sweep_minutes=values["pitstop_sweep_minutes"],
    )


def _convert(option: Option, value: Any) -> Any:
    if option.kind == "list":
        if isinstance(value, str):
            value = value.split(",")
        return [v.strip() for v in value or [] if v and v.strip()]
    if option.kind == "flag":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    if value is None:
        return None
    if option.kind == "int":
        try:
            return int(value)
        except ValueError:
            raise pytest.UsageError(f"--{option.name}: {value!r} is not a whole number") from None
    if option.choices and value not in option.choices:
        raise pytest.UsageError(f"--{option.name}: {value!r} is not one of {', '.join(option.choices)}")
    return value


# -- configuration and the run's life -------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pitstop(leaves_state=False): pitstop settings for a test; leaves_state=True skips the leak check",
    )
    try:
        run_config = read_config(config)
    except PitstopError as exc:
        raise pytest.UsageError(f"pitstop: {exc}") from None
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None and "pitstop" in worker_input:
        run = Run.for_worker(run_config, worker_input["pitstop"], worker_input["workerid"])
    else:
        run = Run(run_config)
        config.stash[RECORDER] = report.Recorder()
        config.pluginmanager.register(Recording(config.stash[RECORDER]), "pitstop.recording")
        if config.pluginmanager.hasplugin("html") and getattr(config.option, "htmlpath", None):
            # pytest-html is installed and writes a report: pitstop adds to it (harness.plugin.html_report).
            from harness.plugin.html_report import HtmlReport

            config.pluginmanager.register(HtmlReport(config), "pitstop.html")
    config.stash[RUN] = run
    # Fixtures come from their own module, registered now so that they are
    # found after pytest-playwright's and may extend its fixtures of the same name.
    from harness.plugin import fixtures

    config.pluginmanager.register(fixtures, "pitstop.fixtures")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: start the target before the workers need it, and hand it over."""
    run = node.config.stash[RUN]
    try:
        node.workerinput["pitstop"] = run.worker_input()
    except PitstopError as exc:
        raise pytest.UsageError(f"pitstop: {exc}") from None
    # The health at the start, as the target is handed to the first worker (see ``Recorder``).
    node.config.stash[RECORDER].note_health_start(run.health)


def pytest_report_header(config: pytest.Config) -> list[str]:
    run_config = config.stash[RUN].config
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
        problem = item.config.stash[RUN].app_problem()
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
    run = config.stash[RUN]
    recorder = config.stash.get(RECORDER, None)
    try:
        if recorder is not None and run.started:
            _write_report(config, run, recorder, session)
    finally:
        run.close(delete_users=run.config.reset != "none")


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
    data = report.build(
        {**target.public(), **({"app_error": app_error} if app_error else {})}, health, recorder, left
    )
    config.stash[REPORT] = data
    run_config = run.config
    report.write(data, Path(run_config.health_path))
    if run_config.health_html:
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
    terminalreporter.write_line(f"report    {config.stash[RUN].config.health_path}")


def replace_config(config: pytest.Config, **changes: Any) -> None:
    """For tests of the plugin: change the run's options after configuration."""
    run = config.stash[RUN]
    run.config = dataclasses.replace(run.config, **changes)
