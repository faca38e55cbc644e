"""The ``pitstop`` command: ``main(argv) -> int``; exit codes in ``harness.errors.ExitCode``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from harness import sql
from harness.browsers import ensure_browser
from harness.cleanup import Cleanup, parse_uuid
from harness.config import STORES, Settings, seconds, store_kind
from harness.contract import CONTRACT_TABLES, load_contract
from harness.doctor import diagnose
from harness.errors import BadInput, ExitCode, PitstopError, Unreachable
from harness.health import Health
from harness.mechanics import MechanicFactory, load_factory, make_test_mechanic
from harness.model import load_model
from harness.model.render import answer_name
from harness.payment_config import load_payments
from harness.personas import ROLES, Personas
from harness.safety import check_stripe_key
from harness.stack import EmbeddedStack, StackInfo
from harness.store import JSON, Store, open_database, open_store
from harness.store.postgres import PostgresStore
from harness.tool_config import config_file, read_tables


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        # `pitstop run` hands what it does not know to pytest (`pitstop run -k full_flow --headed`).
        args, unknown = parser.parse_known_args(argv)
        if unknown and not hasattr(args, "pytest_args"):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exit_:  # argparse has printed the usage error
        return int(exit_.code or 0)
    if unknown:
        args.pytest_args = unknown
    try:
        command: Callable[[argparse.Namespace], int] = args.command
        return command(args)
    except PitstopError as exc:
        print(f"pitstop: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("pitstop: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


# -- commands -------------------------------------------------------------


def cmd_sql(args: argparse.Namespace) -> int:
    if args.platform:  # for a bare PostgreSQL, before the app's own migrations: no target needed
        if args.with_app_schema or args.supabase_migration:
            raise BadInput(
                "--platform prints the platform alone",
                fix="leave out --with-app-schema and --supabase-migration (a Supabase project has it)",
            )
        sys.stdout.write(sql.platform())
        return ExitCode.OK
    settings = _settings(args)
    catalog = None
    if settings.database_url:  # the foreign keys a purge follows come from the app's own database
        with open_database(settings) as store:  # a read, but of a guarded host like every connection
            catalog = store.catalog()
    script = sql.migration(settings.test_domain, settings.model, catalog)
    if args.with_app_schema:
        script = "\n".join((sql.platform(), sql.app_schema(), script))
    if args.supabase_migration is None:
        sys.stdout.write(script)
        return ExitCode.OK
    path, written = sql.write_supabase_migration(Path(args.supabase_migration), script)
    if written:
        print(f"wrote {path}; apply it with `supabase db push` (hosted) or `supabase migration up` (local)")
    else:
        print(f"{path} already holds this migration; nothing written")
    return ExitCode.OK


def cmd_install(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with Cleanup.open(settings) as cleanup:  # installing is a write: guarded
        store = cleanup.store
        if not isinstance(store, PostgresStore):
            raise BadInput("install needs a direct database connection", fix="pass --database-url")
        store.install(test_domain=settings.test_domain, with_app_schema=args.with_app_schema)
        print(f"installed the pitstop functions into {store.describe()} (test domain {settings.test_domain})")
    return ExitCode.OK


def cmd_reset(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with Cleanup.open(settings) as cleanup:
        user_id = cleanup.resolve_user(args.user)
        counts = cleanup.reset_user(user_id, dry_run=args.dry_run)
    if args.json:
        _print_json({**counts, "dry_run": args.dry_run})
        return ExitCode.OK
    if all(t in counts for t in CONTRACT_TABLES):  # the reference app's tables, in their usual order
        done = ", ".join(f"{t} {counts[t]}" for t in CONTRACT_TABLES)
    else:  # another model's: its sessions and requests first, then every table the purge touched
        tables: dict[str, int] = counts["tables"]
        roots = [t for t in settings.model.roots if t in tables]
        order = [*roots, *(t for t in tables if t not in roots)]
        done = ", ".join(f"{answer_name(t)} {tables[t]}" for t in order)
    verb = "would purge" if args.dry_run else "purged"
    print(f"{verb} test user {args.user} ({user_id}): {done}")
    if counts["kept"]:
        print(f"kept {counts['kept']} sessions of customers who are not test users")
    if args.dry_run:
        print("dry run: nothing was changed")
    return ExitCode.OK


def cmd_cleanup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with Cleanup.open(settings) as cleanup:
        counts = cleanup.cleanup_stale(
            waiting_minutes=args.waiting_minutes,
            orphan_minutes=args.orphan_minutes,
            dry_run=args.dry_run,
        )
    if args.json:
        _print_json({**counts, "dry_run": args.dry_run})
        return ExitCode.OK
    verb = "would expire" if args.dry_run else "expired"
    print(
        f"{verb} {counts['requests_expired']} pending requests older than {args.waiting_minutes} min; "
        f"{'would cancel' if args.dry_run else 'cancelled'} {counts['sessions_cancelled']} sessions "
        f"({counts['orphans_cancelled']} orphaned)"
    )
    if args.dry_run:
        print("dry run: nothing was changed")
    return ExitCode.OK


def cmd_force_cancel(args: argparse.Namespace) -> int:
    settings = _settings(args)
    session_id = parse_uuid(args.session_id, what="session")
    with Cleanup.open(settings) as cleanup:
        result = cleanup.force_cancel(session_id)
    if args.json:
        _print_json(result)
    else:
        print(
            f"cancelled session {session_id} (was {result['previous_status']}); "
            f"{result['requests_cancelled']} pending requests cancelled"
        )
    return ExitCode.OK


def cmd_health(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _store(settings) as store:
        health = Health(
            store.health(stale_minutes=args.stale_minutes, very_stale_minutes=args.very_stale_minutes)
        )
        target = store.describe()
    if args.json:
        _print_json(health.to_json())
    else:
        print(f"pitstop health: {target}")
        for line in health.lines():
            print(f"  {line}")
    return ExitCode.PROBLEMS if args.strict and not health.ok else ExitCode.OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """A read-only check of the target: one line per check, a fix under each that fails."""
    report = diagnose(_settings(args))  # opens with open_store: reads only, never installs
    if report.unreachable is not None and args.json:  # the text report's FAIL line says it already
        print(f"pitstop: error: {report.unreachable.message}", file=sys.stderr)
        print(f"  fix: {report.unreachable.fix}", file=sys.stderr)
    _print_report("doctor", report, as_json=args.json)
    return report.exit_code


def cmd_inspect(args: argparse.Namespace) -> int:
    """Read-only: the footprint of a purge, the model checked against the catalog, a proposed model."""
    from harness.inspection import inspect_database

    path, table = _config(args)
    settings = _settings_of(args, table)
    declared = "model" in table  # else the model is the reference app's, by default
    if store_kind(settings) != "postgres" or not settings.database_url:
        raise BadInput(
            "inspect reads the database's catalog: it needs a direct database connection",
            fix="pass --database-url URL (or set DATABASE_URL)",
        )
    with open_database(settings) as store:  # a read, but of a guarded host like every connection
        report = inspect_database(
            store,
            declared=declared,
            source=str(path) if path else None,
            want_proposal=args.propose or not declared,
        )
    _print_report("inspect", report, as_json=args.json)
    return ExitCode.OK


def _print_report(command: str, report: Any, *, as_json: bool) -> None:
    """A read-only command's report (doctor, inspect): one JSON object, or its target then its lines."""
    if as_json:
        _print_json(report.to_json())
        return
    print(f"pitstop {command}: {report.target}")
    for line in report.lines():
        print(line)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    check_stripe_key(settings.stripe_secret_key)
    factory = None
    if args.mechanic_factory:
        if not settings.model.has_mechanics_table:
            raise BadInput(
                "--mechanic-factory makes mechanics of a table of their own, but the model has none",
                fix="set [tool.pitstop.model.mechanics] table, or leave the option out",
            )
        factory = load_factory(args.mechanic_factory)
    ready_file = Path(args.ready_file) if args.ready_file else None
    if ready_file and not ready_file.parent.is_dir():
        raise BadInput(
            f"cannot write the ready file: {ready_file.parent} is not a folder",
            fix="give a path in a folder that exists",
        )
    # SIGTERM stops the stack the way Ctrl-C does, during start-up too.
    signal.signal(signal.SIGTERM, _interrupt)
    stack = EmbeddedStack(
        database_url=settings.database_url,
        app_port=args.port,
        test_domain=settings.test_domain,
        settings=settings,
        payment_kind=settings.payments.kind,  # [tool.pitstop.payments] kind
    )
    try:
        with stack as info:
            people = _demo_users(
                info,
                settings,
                factory,
                origin=f"--mechanic-factory {args.mechanic_factory}",
                app_ui=stack.app_ui,  # the printed sign-in pages are the served UI's
            )
            if ready_file:
                info.write(ready_file)
            print(info.to_json(), flush=True)
            print(f"pitstop: stack ready, app at {info.app_url}; sign in as", file=sys.stderr)
            for line in people:
                print(f"  {line}", file=sys.stderr)
            print("pitstop: Ctrl-C to stop", file=sys.stderr, flush=True)
            while True:
                stack.check()
                time.sleep(0.5)
    except KeyboardInterrupt:
        print("pitstop: stack stopped", file=sys.stderr)
        return ExitCode.OK
    finally:
        if ready_file:
            ready_file.unlink(missing_ok=True)


def _demo_users(
    info: StackInfo,
    settings: Settings,
    factory: MechanicFactory | None = None,
    *,
    origin: str = "",
    app_ui: str = "classic",
) -> list[str]:
    """One test user per role, for a person who walks the flow by hand; their sign-in lines.

    With a mechanics table in the model the mechanic is a row of it, made by
    ``factory`` (``--mechanic-factory``; default: pitstop's) and registered.
    Each line's sign-in page is where the reference app's UI ``app_ui`` serves
    it (``harness.reference_app.ui``, where its routes are declared).
    """
    from harness.reference_app.ui import UIS  # the stack's extra (FastAPI): here only, as the stack

    ui = UIS[app_ui]
    personas = Personas(
        run_id="demo", worker_id="serve", test_domain=settings.test_domain, seed=secrets.token_hex(8)
    )
    lines = []
    with PostgresStore(
        database_url=info.database_url, model=settings.model, statement_timeout=settings.statement_timeout
    ) as store:
        for role in ROLES:
            user, password = personas.build(role, role)
            if role == "mechanic" and settings.model.has_mechanics_table:
                make_test_mechanic(
                    store,
                    factory,
                    user,
                    password,
                    label=role,
                    run=personas.run_id,
                    worker=personas.worker_id,
                    host=user["metadata"]["host"],
                    pid=user["metadata"]["pid"],
                    origin=origin if factory else "pitstop's default mechanic factory",
                )
            else:
                store.create_test_user(user)
            lines.append(f"{role:<9} {user['email']:<40} {password}  {info.app_url}{ui.login(role)}")
    return lines


def cmd_browser(args: argparse.Namespace) -> int:
    print(f"pitstop: browser: {ensure_browser(log=_say)}")
    return ExitCode.OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The shipped scenarios against the embedded stack, with the health report (and a failed
    test's traces kept in ``test-results/``, ``_keep_traces``)."""
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
    return _pytest_scenarios(_target_args(args) + pytest_args + _keep_traces([]), timeout=args.timeout)


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
    here = Path.cwd()
    local = ["--rootdir", str(here)]
    if (here / "conftest.py").is_file():
        local += ["--pitstop-conftest", str(here / "conftest.py")]
    return _pytest_scenarios(
        _target_args(args) + base_url + local + _keep_traces(extra) + extra, timeout=args.timeout
    )


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
    """The target options of the command line, as the plugin's options (``--name=value``: a
    value that starts with "-", as a token may, is never read as an option)."""
    given = [
        ("--pitstop-database-url", args.database_url),
        ("--pitstop-config", args.config),
        ("--pitstop-store", args.store),
        ("--pitstop-supabase-url", args.supabase_url),
        ("--pitstop-supabase-key", args.supabase_key),
        ("--pitstop-admin-token", args.admin_token),
        *(("--pitstop-allow-host", host) for host in args.allow_host or []),
        ("--pitstop-test-domain", args.test_domain),
    ]
    return [f"{option}={value}" for option, value in given if value]


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
    process = subprocess.Popen(command, start_new_session=True)
    # The terminal's signals no longer reach its group: they reach it through here (Ctrl-C
    # as KeyboardInterrupt; SIGTERM and SIGHUP too, where handlers may be set).
    signals = (signal.SIGTERM, signal.SIGHUP) if threading.current_thread() is threading.main_thread() else ()
    previous = {signum: signal.signal(signum, _interrupt) for signum in signals}
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


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# -- the parser -------------------------------------------------------------


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
    group.add_argument(
        "--store",
        choices=STORES,
        help="how to reach the cleanup rules (default: $PITSTOP_STORE, else by what is given)",
    )
    group.add_argument(
        "--database-url", metavar="URL", help="Postgres connection string (default: $DATABASE_URL)"
    )
    group.add_argument(
        "--supabase-url", metavar="URL", help="the Supabase project's URL (default: $SUPABASE_URL)"
    )
    group.add_argument(
        "--supabase-key", metavar="KEY", help="its service-role key (default: $SUPABASE_SERVICE_ROLE_KEY)"
    )
    group.add_argument(
        "--app-url", metavar="URL", help="the app, for its debug API (default: $PITSTOP_APP_URL)"
    )
    group.add_argument(
        "--admin-token", metavar="TOKEN", help="the app's debug API token (default: $PITSTOP_ADMIN_TOKEN)"
    )
    group.add_argument(
        "--allow-host",
        metavar="HOST",
        action="append",
        help="allow this non-loopback host (repeatable; default: $PITSTOP_ALLOWED_HOSTS, comma-separated)",
    )
    group.add_argument(
        "--test-domain",
        metavar="DOMAIN",
        help="email domain of test users (default: $PITSTOP_TEST_DOMAIN or pitstop.test)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML file with the [tool.pitstop] tables, e.g. the model "
        "(default: $PITSTOP_CONFIG, else ./pyproject.toml)",
    )
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
    sub.add_argument(
        "--password",
        metavar="PASSWORD",
        help="the user's password: the api store signs in as the user (default: $PITSTOP_USER_PASSWORD)",
    )
    sub.add_argument("--dry-run", action="store_true", help="print what would go; change nothing")

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
        "doctor",
        cmd_doctor,
        "check the target, read-only: reachable, pitstop installed and current, privileges",
        as_json,
    )

    sub = command(
        "inspect",
        cmd_inspect,
        "read-only: the tables a purge follows, whether the model fits, a proposed model",
        as_json,
    )
    sub.add_argument(
        "--propose",
        action="store_true",
        help="propose a [tool.pitstop.model] from the database even when one is configured",
    )
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


def _config(args: argparse.Namespace) -> tuple[Path | None, dict[str, Any]]:
    """The configuration file (``--config``, else ``pyproject.toml``) and its ``[tool.pitstop]`` table."""
    path = config_file(getattr(args, "config", None), os.environ, Path.cwd())
    return path, read_tables(path)


def _settings(args: argparse.Namespace) -> Settings:
    return _settings_of(args, _config(args)[1])


def _settings_of(args: argparse.Namespace, table: dict[str, Any]) -> Settings:
    """The settings of the options and of the ``[tool.pitstop]`` table ``table``."""
    return Settings.load(
        store=args.store,
        database_url=args.database_url,
        supabase_url=args.supabase_url,
        supabase_key=args.supabase_key,
        app_url=args.app_url,
        admin_token=args.admin_token,
        user_password=getattr(args, "password", None),
        allowed_hosts=args.allow_host,
        test_domain=args.test_domain,
        login_path=load_contract(table).customer_login_path,
        model=load_model(table.get("model")),
        payments=load_payments(table.get("payments")),
    )


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    """A store for reading: the hosts are guarded (``open_store``), not the Stripe key: nothing is written."""
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


def _print_json(data: JSON) -> None:
    print(json.dumps(data, indent=2, sort_keys=False, default=str))
