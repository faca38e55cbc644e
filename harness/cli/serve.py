"""``pitstop serve``: the embedded stack, with a test user per role to sign in as by hand."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import time
from pathlib import Path

from harness.cli.target import settings_of
from harness.config.settings import Settings
from harness.engine.identity import ROLES
from harness.engine.mechanics import MechanicFactory, load_factory, make_test_mechanic
from harness.engine.personas import Personas
from harness.errors import BadInput, ExitCode
from harness.stack.embedded import EmbeddedStack, StackInfo
from harness.stack.extras import require_stack
from harness.store.postgres import PostgresStore
from harness.store.safety import check_stripe_key


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    # Before anything else: the [stack] extra (no pgserver needed when a database is given).
    require_stack(postgres=not settings.database_url)
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
    signal.signal(signal.SIGTERM, interrupt)
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
    it (``harness.stack.reference_app.ui``, where its routes are declared).
    """
    from harness.stack.reference_app.ui import UIS  # the stack's extra (FastAPI): here only, as the stack

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


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
