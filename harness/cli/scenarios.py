"""``pitstop demo`` and ``pitstop run``: the shipped scenarios in a pytest of their own."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
from importlib.resources import files
from pathlib import Path

from harness.cli.serve import interrupt
from harness.cli.target import settings_of
from harness.config import options
from harness.errors import ExitCode, Unreachable
from harness.stack.extras import require_stack


def cmd_demo(args: argparse.Namespace) -> int:
    """The shipped scenarios against the embedded stack, with the health report (and a failed
    test's traces kept in ``test-results/``, ``_keep_traces``); the folder it starts from applies
    to them as for ``pitstop run`` (``_local``)."""
    _require_stack(args)
    pytest_args = [
        "--pitstop-health",
        args.json,
        "--pitstop-health-html",
        str(Path(args.json).with_suffix(".html")),
    ]
    if args.headed:
        pytest_args.append("--headed")
    if args.workers:
        pytest_args += ["-n", str(args.workers)]
    return _pytest_scenarios(
        _target_args(args) + _local() + pytest_args + _keep_traces([]), timeout=args.timeout
    )


def cmd_run(args: argparse.Namespace) -> int:
    """The shipped scenarios against a given app (or the embedded stack when none is given).

    Run as if they lived in the folder ``pitstop run`` starts from: it is
    pytest's rootdir (its ``pyproject.toml`` holds ``[tool.pitstop]``), and its
    ``conftest.py``, if any, applies to them as a conftest at the rootdir does
    (``--pitstop-conftest``): that is where a ``pitstop_flows_class`` override
    lives. Every argument pitstop does not know goes to pytest, in order; after
    ``--``, every argument does. A failed test's traces are kept unless pytest is
    given ``--tracing`` (``_keep_traces``).
    """
    extra = list(args.pytest_args)
    if "--" in extra:
        extra.remove("--")
    url = args.base_url or args.app_url
    base_url = ["--base-url", url] if url else []
    return _pytest_scenarios(
        _target_args(args) + base_url + _local() + _keep_traces(extra) + extra, timeout=args.timeout
    )


def _local() -> list[str]:
    """The folder the command starts from, as the scenarios' home: pytest's rootdir (its
    ``pyproject.toml`` holds ``[tool.pitstop]``), and its ``conftest.py``, if any, applied to them
    (``--pitstop-conftest``): where a ``pitstop_flows_class`` override lives."""
    here = Path.cwd()
    local = ["--rootdir", str(here)]
    if (here / "conftest.py").is_file():
        local += ["--pitstop-conftest", str(here / "conftest.py")]
    return local


def _require_stack(args: argparse.Namespace) -> None:
    """Before pytest starts: the embedded stack's extra is installed (its PostgreSQL's too, unless a
    database is given), else bad input saying which extra to install (``harness.stack.extras``)."""
    require_stack(postgres=not settings_of(args).database_url)


def _keep_traces(pytest_args: list[str]) -> list[str]:
    """pytest-playwright's ``--tracing=retain-on-failure``, unless ``pytest_args`` (or
    ``PYTEST_ADDOPTS``) give ``--tracing``: a failed test's Playwright traces are kept in
    its folder under ``--output`` (default ``test-results/``), beside pitstop's evidence
    bundle, and the report links them."""
    given = [*pytest_args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    if any(arg == "--tracing" or arg.startswith("--tracing=") for arg in given):
        return []
    return ["--tracing=retain-on-failure"]


def _target_args(args: argparse.Namespace) -> list[str]:
    """The options of the command line that the plugin has too, as the plugin's options
    (``--name=value``: a value that starts with "-", as a token may, is never read as an option)."""
    given = []
    for option in options.CLI:
        if option.surface == "both":
            value = getattr(args, option.field, None)
            given += [f"{option.flag}={v}" for v in (value if isinstance(value, list) else [value]) if v]
    return given


# How long interrupted scenarios may take to end as on Ctrl-C (write the report, stop the
# stack they started) before they are killed.
STOP_GRACE_S = 60


def _pytest_scenarios(pytest_args: list[str], *, timeout: float = 0) -> int:
    """Run the shipped scenarios in pytest, for at most ``timeout`` seconds (0: no limit).

    pytest runs in a process group of its own. Past the limit, or on Ctrl-C or
    SIGTERM here, it is interrupted as Ctrl-C would interrupt it: it writes the
    report and stops the embedded stack it started. If it has not ended
    ``STOP_GRACE_S`` later, its whole group (xdist workers, the stack's parts) is
    killed. A time limit that passed exits 4.
    """
    scenarios = Path(str(files("harness.scenarios")))
    command = [sys.executable, "-m", "pytest", str(scenarios), "-p", "no:cacheprovider", *pytest_args]
    # The scenarios are stopped with SIGINT: they must not inherit it ignored, as a job started in the
    # background by a script (``cmd &``, nohup) does, and Python then never raises KeyboardInterrupt.
    process = subprocess.Popen(command, start_new_session=True, preexec_fn=_interruptible)
    # The terminal's signals no longer reach its group: they reach it through here (Ctrl-C
    # as KeyboardInterrupt; SIGTERM and SIGHUP too, where handlers may be set).
    signals = (signal.SIGTERM, signal.SIGHUP) if threading.current_thread() is threading.main_thread() else ()
    previous = {signum: signal.signal(signum, interrupt) for signum in signals}
    try:
        try:
            code = process.wait(timeout=timeout or None)
        except subprocess.TimeoutExpired:
            ended = _stop(process)
            raise Unreachable(
                f"the time limit passed: the scenarios did not finish within {timeout:g} s "
                f"(--timeout {timeout:g}); "
                + (
                    "pitstop interrupted them as Ctrl-C would, and they ended as an interrupted run ends, "
                    "with its report written and its stack stopped (their output above shows where they were)"
                    if ended
                    else f"they did not end within {STOP_GRACE_S} s of being interrupted and were "
                    "killed: their report may be missing"
                ),
                fix="give them more time (--timeout SECONDS; 0: no limit), or run fewer (-k EXPRESSION)",
            ) from None
        except KeyboardInterrupt:
            _stop(process)
            return 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    # pytest: 0 passed, 1 failures, 2 interrupted, 3 internal error, 4 usage, 5 no tests.
    return {0: ExitCode.OK, 1: ExitCode.PROBLEMS, 2: 130}.get(code, ExitCode.USAGE)


def _interruptible() -> None:
    """In the scenarios' process, before it starts pytest: SIGINT as the system has it by default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """Interrupt ``process`` (SIGINT), give it ``STOP_GRACE_S`` to end, then kill its group.

    True when it ended by itself. A second Ctrl-C kills at once.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=STOP_GRACE_S)
        return True
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    # Not reaped yet, so its pid (its group's id) is still its own.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_GRACE_S)
    return False
