"""The commands on a target: sql, install, reset, cleanup, force-cancel, health, doctor, inspect, browser."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.cli.doctor import diagnose
from harness.cli.target import read_config, reading_store, settings_of, settings_with
from harness.config.contract import CONTRACT_TABLES
from harness.config.settings import store_kind
from harness.engine.browsers import ensure_browser
from harness.errors import BadInput, ExitCode
from harness.rules import sql
from harness.rules.health import Health, protected_text
from harness.rules.model.render import answer_name
from harness.store import JSON, open_database
from harness.store.cleanup import Cleanup, parse_uuid


def cmd_sql(args: argparse.Namespace) -> int:
    if args.platform:  # for a bare PostgreSQL, before the app's own migrations: no target needed
        if args.with_app_schema or args.supabase_migration:
            raise BadInput(
                "--platform prints the platform alone",
                fix="leave out --with-app-schema and --supabase-migration (a Supabase project has it)",
            )
        sys.stdout.write(sql.platform())
        return ExitCode.OK
    settings = settings_of(args)
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
    settings = settings_of(args)
    with Cleanup.open(settings) as cleanup:  # installing is a write: guarded
        store = cleanup.store.database()
        if store is None:
            raise BadInput("install needs a direct database connection", fix="pass --database-url")
        store.install(test_domain=settings.test_domain, with_app_schema=args.with_app_schema)
        print(f"installed the pitstop functions into {store.describe()} (test domain {settings.test_domain})")
    return ExitCode.OK


def cmd_reset(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    with Cleanup.open(settings) as cleanup:
        user_id = cleanup.resolve_user(args.user)
        counts = cleanup.reset_user(user_id, dry_run=args.dry_run)
    if args.json:
        print_json({**counts, "dry_run": args.dry_run})
        return ExitCode.OK
    if isinstance(counts.get("tables"), dict):  # every table the purge reached, the model's first
        done = tables_line(counts["tables"], settings.model.roots)
    else:  # an answer without its tables (an app's debug API of old): the reference app's
        done = ", ".join(f"{t} {counts[t]}" for t in CONTRACT_TABLES if t in counts)
    verb = "would purge" if args.dry_run else "purged"
    # A user given by email is named by both; one given by its id (a user's, a mechanic's) once.
    who = f"{args.user.strip()} ({user_id})" if "@" in args.user else str(user_id)
    print(f"{verb} test user {who}: {done}")
    if counts["kept"]:
        print(f"kept {counts['kept']} sessions of customers who are not test users")
    if args.dry_run:
        print("dry run: nothing was changed")
    return ExitCode.OK


def cmd_cleanup(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    with Cleanup.open(settings) as cleanup:
        counts = cleanup.cleanup_stale(
            waiting_minutes=args.waiting_minutes,
            orphan_minutes=args.orphan_minutes,
            dry_run=args.dry_run,
        )
    protected = counts.get("protected")
    if args.json:
        # The answer's keys as they always were, then what the rules protected.
        print_json(
            {**{k: v for k, v in counts.items() if k != "protected"}, "dry_run": args.dry_run}
            | ({"protected": protected} if protected is not None else {})
        )
        return ExitCode.OK
    expire, cancel = ("would expire", "would cancel") if args.dry_run else ("expired", "cancelled")
    model = settings.model
    queues: dict[str, dict[str, int]] = counts.get("queues") or {}
    dropped = counts.get("requests_cancelled", 0)
    # The requests, where the app keeps them (an app's debug API speaks of them whatever its model).
    requests = (
        f"{expire} {counts['requests_expired']} pending requests older than {args.waiting_minutes} min; "
        if model.has_requests or not model.queues
        else ""
    )
    print(
        f"{requests}{cancel} {counts['sessions_cancelled']} sessions ({counts['orphans_cancelled']} orphaned)"
        + (f" and {dropped} of their pending requests" if dropped else "")
    )
    for name, n in queues.items():
        print(
            f"{name}: {expire} {n['expired']} open rows older than {args.waiting_minutes} min, "
            f"{cancel} the open and taken rows ({n['cancelled']}) of the sessions cancelled"
        )
    changed = counts.get("tables")
    if not isinstance(changed, dict):  # the rows the stale cleanup changes, by table
        changed = {model.sessions.table: counts["sessions_cancelled"]}
        if model.has_requests:
            changed[model.requests.table] = counts["requests_expired"] + counts.get("requests_cancelled", 0)
        for name, queue in model.queues:
            n = queues.get(name, {})
            changed[queue.table] = n.get("expired", 0) + n.get("cancelled", 0)
    print(f"{'would change' if args.dry_run else 'changed'}: {tables_line(changed, model.roots)}")
    if isinstance(protected, dict):
        kept = int(protected.get("requests", 0))
        rows = "pending requests" if not model.queues else "open queue rows"
        print(f"protected: {protected_text(protected)}" + (f"; kept {kept} of their {rows}" if kept else ""))
    if args.dry_run:
        print("dry run: nothing was changed")
    return ExitCode.OK


def cmd_force_cancel(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    session_id = parse_uuid(args.session_id, what="session")
    with Cleanup.open(settings) as cleanup:
        result = cleanup.force_cancel(session_id)
    if args.json:
        print_json(result)
    else:
        said = [f"{n} rows of {name} cancelled" for name, n in (result.get("queues") or {}).items()]
        if settings.model.has_requests or not said:
            said.insert(0, f"{result['requests_cancelled']} pending requests cancelled")
        print(f"cancelled session {session_id} (was {result['previous_status']}); {'; '.join(said)}")
    return ExitCode.OK


def cmd_health(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    with reading_store(settings) as store:
        health = Health(
            store.health(stale_minutes=args.stale_minutes, very_stale_minutes=args.very_stale_minutes)
        )
        target = store.describe()
    if args.json:
        print_json(health.to_json())
    else:
        print(f"pitstop health: {target}")
        for line in health.lines():
            print(f"  {line}")
    return ExitCode.PROBLEMS if args.strict and not health.ok else ExitCode.OK


def cmd_runs(args: argparse.Namespace) -> int:
    """The runs' leases in the target, alive or expired, with what each still owns."""
    settings = settings_of(args)
    with reading_store(settings) as store:
        runs = store.runs()
        target = store.describe()
    if args.json:
        print_json({"runs": runs})
        return ExitCode.OK
    print(f"pitstop runs: {target}")
    if not runs:
        print("  no run holds a lease")
    for run in runs:
        state = "alive" if run["alive"] else "EXPIRED"
        where = f"{run['host']} pid {run['pid']}" + (f", {run['ci_job']}" if run.get("ci_job") else "")
        shard = f", shard {run['shard']}" if run.get("shard") else ""
        print(f"  {run['run']}  {state} (lease {run['lease_seconds']} s, until {run['expires_at']})")
        print(f"    {where}{shard}; started {run['started_at']}")
        print(f"    owns {run['users']} test users, {run['mechanics']} test mechanics")
    return ExitCode.OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """A read-only check of the target: one line per check, a fix under each that fails."""
    report = diagnose(settings_of(args))  # opens with open_store: reads only, never installs
    if report.unreachable is not None and args.json:  # the text report's FAIL line says it already
        print(f"pitstop: error: {report.unreachable.message}", file=sys.stderr)
        print(f"  fix: {report.unreachable.fix}", file=sys.stderr)
    print_report("doctor", report, as_json=args.json)
    return report.exit_code


def cmd_inspect(args: argparse.Namespace) -> int:
    """Read-only: the footprint of a purge, the model checked against the catalog, a proposed model."""
    from harness.cli.inspection import inspect_database

    path, table = read_config(args)
    settings = settings_with(args, table)
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
            test_domain=settings.test_domain,
        )
    print_report("inspect", report, as_json=args.json)
    return ExitCode.OK


def tables_line(tables: dict[str, Any], first: tuple[str, ...]) -> str:
    """``table count, …``: the tables ``first`` (the model's sessions and requests), then the others
    by name; a table of ``public`` by its bare name."""
    order = [*(t for t in first if t in tables), *sorted(t for t in tables if t not in first)]
    return ", ".join(f"{answer_name(t) if '.' in t else t} {tables[t]}" for t in order)


def print_report(command: str, report: Any, *, as_json: bool) -> None:
    """A read-only command's report (doctor, inspect): one JSON object, or its target then its lines."""
    if as_json:
        print_json(report.to_json())
        return
    print(f"pitstop {command}: {report.target}")
    for line in report.lines():
        print(line)


def cmd_browser(args: argparse.Namespace) -> int:
    print(f"pitstop: browser: {ensure_browser(log=say)}")
    return ExitCode.OK


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_json(data: JSON) -> None:
    print(json.dumps(data, indent=2, sort_keys=False, default=str))
