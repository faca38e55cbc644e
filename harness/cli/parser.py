"""The command line: every command, its options and their checks."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from harness.cli.commands import (
    cmd_browser,
    cmd_cleanup,
    cmd_doctor,
    cmd_force_cancel,
    cmd_health,
    cmd_inspect,
    cmd_install,
    cmd_reset,
    cmd_runs,
    cmd_sql,
)
from harness.cli.login import HELP as LOGIN_HELP
from harness.cli.login import cmd_login
from harness.cli.reports import MERGE_EPILOG, MERGE_HELP, cmd_report_merge
from harness.cli.scenarios import cmd_demo, cmd_run
from harness.cli.serve import cmd_serve
from harness.config import options
from harness.config.options import Option, seconds
from harness.errors import BadInput

# Options of one command, not of every command on a target.
COMMAND_OWN = ("user-password",)


def _add(parser: Any, option: Option) -> None:
    """The command's flag for ``option`` (``harness.config.options``); its value is checked when the
    settings are made (``Settings.load``), wherever it came from."""
    default = f"${option.env}" if option.env else ""
    if option.default not in (None, False):
        default = f"{default}, else {option.default}" if default else str(option.default)
    parser.add_argument(
        option.cli_flag,
        dest=option.field,
        metavar=option.metavar,
        choices=option.choices,
        action="append" if option.kind == "list" else "store",
        help=f"{option.help} (default: {default})" if default else option.help,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pitstop",
        description="Reset, clean up and check the session state of a marketplace app's test target.",
        epilog="exit codes: 0 ok, 1 problems found, 2 usage or bad input, "
        "3 refused by the safety guard, 4 target unreachable",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    target = argparse.ArgumentParser(add_help=False)
    group = target.add_argument_group(
        "target",
        "the store is --store, else postgres for a database URL, supabase for a Supabase URL, "
        "api for an app URL with an admin token",
    )
    for option in options.CLI:
        if option.name not in COMMAND_OWN:
            _add(group, option)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print one JSON object")

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help: str, *parents: Any, **options: Any
    ) -> Any:
        sub = commands.add_parser(name, help=help, description=help, parents=[target, *parents], **options)
        sub.set_defaults(command=func)
        return sub

    sub = command("sql", cmd_sql, "print the migration that installs the pitstop functions")
    sub.add_argument(
        "--with-app-schema",
        action="store_true",
        help="prepend the platform (Supabase's roles and auth schema, where missing) and the app's tables",
    )
    sub.add_argument(
        "--platform",
        action="store_true",
        help="print only the platform (Supabase's roles and auth schema, where missing): for a bare "
        "PostgreSQL, before the app's own migrations",
    )
    sub.add_argument(
        "--supabase-migration",
        metavar="DIR",
        help="write it as a timestamped migration into DIR (e.g. supabase/migrations) instead",
    )

    sub = command("install", cmd_install, "apply the migration to the target database (idempotent)")
    sub.add_argument(
        "--with-app-schema",
        action="store_true",
        help="on a blank database: also the platform (Supabase's roles, auth schema) and the app's tables",
    )

    sub = command("reset", cmd_reset, "purge one test user's session state", as_json)
    sub.add_argument("--user", required=True, metavar="EMAIL_OR_UUID", help="the test user to purge")
    _add(sub, options.BY_NAME["user-password"])
    sub.add_argument("--dry-run", action="store_true", help="print what would go; change nothing")

    sub = command("login", cmd_login, LOGIN_HELP, as_json)
    sub.add_argument("--user", required=True, metavar="EMAIL", help="the test user to sign in")
    sub.add_argument(
        "--storage-state", required=True, metavar="PATH", help="the Playwright storage-state file to write"
    )

    sub = command(
        "cleanup", cmd_cleanup, "expire stale requests and cancel stale sessions (never deletes)", as_json
    )
    sub.add_argument("--waiting-minutes", type=_minutes, default=15, metavar="N", help="default 15")
    sub.add_argument("--orphan-minutes", type=_minutes, default=20, metavar="N", help="default 20")
    sub.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")

    sub = command("force-cancel", cmd_force_cancel, "cancel one stuck session", as_json)
    sub.add_argument("session_id", metavar="SESSION_ID")

    sub = command("serve", cmd_serve, "run the embedded stack (PostgreSQL, local Stripe, reference app)")
    sub.add_argument(
        "--ready-file", metavar="PATH", help="write the stack's addresses here as JSON once it is up"
    )
    sub.add_argument("--port", type=_port, metavar="N", help="the app's port (default: a free one)")
    sub.add_argument(
        "--mechanic-factory",
        metavar="MODULE:FUNCTION",
        help="with a mechanics table in the model: the function (conn, mechanic) -> id that inserts "
        "the demo mechanic's row (default: pitstop's, which inserts id and email)",
    )

    sub = command("demo", cmd_demo, "run the shipped scenarios against the embedded stack, with the report")
    sub.add_argument(
        "--json", default="pitstop-health.json", metavar="PATH", help="the report (and .html beside it)"
    )
    sub.add_argument("--headed", action="store_true", help="show the browsers")
    sub.add_argument("-n", dest="workers", type=_port, metavar="N", help="run on N workers (pytest-xdist)")
    sub.add_argument(
        "--timeout",
        type=_seconds,
        default=900,
        metavar="SECONDS",
        help="stop the scenarios, and the stack, after this long; exit 4 (default 900; 0: no limit)",
    )

    sub = command(
        "run",
        cmd_run,
        "run the shipped scenarios against an app, with ./conftest.py applied "
        "(any other argument goes to pytest)",
        allow_abbrev=False,  # pytest's --co is not an abbreviation of --config
        usage="pitstop run [-h] [target options] [--base-url URL] [PYTEST_ARGS ...]",
        epilog="pytest arguments: any other, e.g. pitstop run -k full_flow --headed -n 2 "
        "(after --, every argument goes to pytest)",
    )
    sub.add_argument("--base-url", metavar="URL", help="the app under test (default: the embedded stack)")
    sub.add_argument(
        "--timeout",
        type=_seconds,
        default=1800,
        metavar="SECONDS",
        help="stop the scenarios, and a stack they started, after this long; exit 4 "
        "(default 1800; 0: no limit; a pytest plugin's own --timeout goes after --)",
    )
    sub.set_defaults(pytest_args=[])

    command("browser", cmd_browser, "make sure a Chromium can be driven (downloads or installs one)")

    sub = command("health", cmd_health, "report the target's session state", as_json)
    sub.add_argument("--strict", action="store_true", help="exit 1 when there are problems")
    sub.add_argument("--stale-minutes", type=_minutes, default=15, metavar="N", help="default 15")
    sub.add_argument("--very-stale-minutes", type=_minutes, default=60, metavar="N", help="default 60")

    command(
        "runs",
        cmd_runs,
        "list the runs' leases in the target (alive or expired) and what each run still owns",
        as_json,
    )

    command(
        "doctor",
        cmd_doctor,
        "check the target, read-only: reachable, pitstop installed and current, privileges",
        as_json,
    )

    sub = command(
        "inspect",
        cmd_inspect,
        "read-only: the tables a purge follows, whether the model fits, a proposed model (its first "
        "cleanup is tried in a transaction that is rolled back)",
        as_json,
    )
    sub.add_argument(
        "--propose",
        action="store_true",
        help="propose a [tool.pitstop.model] from the database even when one is configured",
    )

    # On report files, not on a target: no target options.
    report = commands.add_parser(
        "report", help="work on run reports (merge a suite's shards)", description="work on run reports"
    )
    actions = report.add_subparsers(title="actions", metavar="ACTION", required=True)
    sub = actions.add_parser("merge", help=MERGE_HELP, description=MERGE_HELP, epilog=MERGE_EPILOG)
    sub.add_argument("out", metavar="OUT.json", help="the merged report (replaced whole, never half-written)")
    sub.add_argument("inputs", metavar="IN.json", nargs="+", help="the shards' JSON reports")
    sub.add_argument("--html", metavar="OUT.html", help="also write the merged report's standalone page")
    sub.set_defaults(command=cmd_report_merge)
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


# About ten years: past it the database's integers and intervals overflow.
MAX_MINUTES = 5_256_000


def _minutes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_MINUTES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of minutes from 0 to {MAX_MINUTES}")
    return value


def _seconds(text: str) -> float:
    try:
        value = seconds(text, what="the time limit")
    except BadInput:
        value = None
    if value is None:  # refused, or "" (which config.seconds lets through as None)
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0: no limit)")
    return value
