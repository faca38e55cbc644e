"""The embedded stack: PostgreSQL, a local Stripe API and the reference app, on loopback.

Used by ``pitstop serve``, ``pitstop demo`` and the pytest plugin when no
target is given. Every part listens on 127.0.0.1 on a free port and runs in a
process group of its own; ``stop()`` ends every process it started, with
whatever those started (by pid: ``harness.stack.processes``), and removes its
temporary directory. If the process that started the stack dies without
stopping it (SIGKILLed, say), the stack's watchdog (``harness.stack.watchdog``,
started first) does that. localstripe keeps its state in its own memory
(``harness.stack.localstripe_run``), never in its shared /tmp/localstripe.pickle.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from harness.config.settings import Settings
from harness.errors import BadInput, PitstopError, Refused, Unreachable
from harness.rules import sql as migrations
from harness.rules.marker import DEFAULT_TEST_DOMAIN
from harness.rules.model.catalog import PLATFORM_SCHEMAS
from harness.stack import processes
from harness.stack.extras import require_stack
from harness.stack.postgres import LocalPostgres, free_port
from harness.stack.reference_app.config import APP_UIS
from harness.stack.watchdog import Watchdog
from harness.store.cleanup import Cleanup
from harness.store.postgres import PostgresStore
from harness.store.safety import check_database_url

READY_TIMEOUT_S = 30
# The app's port is chosen before PostgreSQL starts: if another took it meanwhile, it starts again on another.
APP_START_ATTEMPTS = 3
STOP_TIMEOUT_S = 10
STRIPE_SECRET_KEY = "sk_test_pitstop_embedded"
STRIPE_PUBLISHABLE_KEY = "pk_test_pitstop_embedded"
WEBHOOK_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed")
# The app's events by its payment kind ([tool.pitstop.payments] kind, the app's PAYMENT_KIND).
WEBHOOK_EVENTS_BY_KIND = {
    "payment_intent": WEBHOOK_EVENTS,
    "checkout_session": ("checkout.session.completed",),
}
# The reference app's UIs (its APP_UI; harness/stack/reference_app/ui.py): a test and demo setting, from
# PITSTOP_APP_UI when not given. The second pays by Checkout Session only.
APP_UI_ENV = "PITSTOP_APP_UI"


@dataclass(frozen=True)
class StackInfo:
    """Where the parts listen: the ready file's one JSON object."""

    app_url: str
    database_url: str
    stripe_api_base: str
    admin_token: str
    # The project the app's sessions belong to, as a Supabase app knows it: its URL names the
    # session's cookie (no Supabase API is served there), its JWT secret signs the access tokens.
    supabase_url: str
    jwt_secret: str

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StackInfo:
        return cls(**json.loads(text))

    def write(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.to_json() + "\n", encoding="utf-8")
        partial.replace(path)


class EmbeddedStack:
    """``with EmbeddedStack() as info:`` starts everything; leaving stops everything."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        app_port: int | None = None,
        test_domain: str = DEFAULT_TEST_DOMAIN,
        settings: Settings | None = None,
        payment_kind: str | None = None,
        app_ui: str | None = None,
    ) -> None:
        """``payment_kind``: how the reference app takes payments (``PAYMENT_KIND``); default: the
        settings' ``[tool.pitstop.payments] kind``. ``app_ui``: which pages it serves (``APP_UI``:
        ``classic``, or ``second``, the proof that the scenarios drive other pages); default:
        ``PITSTOP_APP_UI``, else ``classic``."""
        self._database_url = database_url
        self._app_port = app_port
        self._test_domain = test_domain
        self._settings = settings or Settings.load(database_url=database_url)
        self.payment_kind = payment_kind or self._settings.payments.kind
        if self.payment_kind not in WEBHOOK_EVENTS_BY_KIND:
            raise BadInput(
                f"unknown payment kind {self.payment_kind!r}",
                fix=f"use one of {', '.join(WEBHOOK_EVENTS_BY_KIND)}",
            )
        self.app_ui = app_ui or os.environ.get(APP_UI_ENV) or "classic"
        if self.app_ui not in APP_UIS:
            raise BadInput(
                f"unknown reference app UI {self.app_ui!r} ({APP_UI_ENV})",
                fix=f"use one of {', '.join(APP_UIS)}",
            )
        if self.app_ui == "second" and self.payment_kind != "checkout_session":
            raise BadInput(
                "the reference app's second UI pays by Checkout Session only",
                fix='set [tool.pitstop.payments] kind = "checkout_session"',
            )
        self._dir: Path | None = None
        self._watchdog: Watchdog | None = None
        self._directories: list[Path] = []  # the temporary directories made, in the watchdog's care
        self._postgres: LocalPostgres | None = None
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.info: StackInfo | None = None
        self.webhook_secret: str | None = None  # the app's; not part of the ready file

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> StackInfo:
        # Before anything starts: the [stack] extra's libraries (pgserver only for a server of its own).
        require_stack(postgres=not self._database_url)
        # First the watchdog: from here on, whatever the stack makes goes when this process dies.
        self._watchdog = Watchdog()
        try:
            self._dir = Path(tempfile.mkdtemp(prefix="pitstop-stack-"))
            self._watch_dir(self._dir)
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> StackInfo:
        assert self._dir is not None
        stripe_port, app_port = free_port(), self._app_port or free_port()
        stripe_base = f"http://127.0.0.1:{stripe_port}"
        localstripe_port = free_port()  # internal: localstripe is reached through the front at stripe_base
        localstripe_base = f"http://127.0.0.1:{localstripe_port}"
        admin_token = "pitstop_" + secrets.token_urlsafe(24)  # never starts with "-", as a flag would
        webhook_secret = self.webhook_secret = "whsec_" + secrets.token_hex(16)
        jwt_secret = secrets.token_urlsafe(32)

        # localstripe, and the front serving Checkout Sessions beside it at stripe_base
        # (harness.stack.stripe_front), start while PostgreSQL does; all are waited for below.
        self._spawn(
            "localstripe",
            [
                sys.executable,
                "-m",
                "harness.stack.localstripe_run",  # on loopback, its state in its own memory only
                "--port",
                str(localstripe_port),
            ],
        )
        self._spawn(
            "stripe",
            [sys.executable, "-m", "harness.stack.stripe_front",
             "--port", str(stripe_port), "--localstripe", localstripe_base],
        )  # fmt: skip
        database_url = self._database()
        self._wait_for("localstripe", f"{localstripe_base}/v1/customers", auth=STRIPE_SECRET_KEY)
        self._wait_for("stripe", f"{stripe_base}/v1/customers", auth=STRIPE_SECRET_KEY)
        for attempt in range(1, APP_START_ATTEMPTS + 1):
            app_url = f"http://127.0.0.1:{app_port}"
            self._spawn(
                "app",
                [sys.executable, "-m", "uvicorn", "--factory", "harness.stack.reference_app.main:create_app",
                 "--host", "127.0.0.1", "--port", str(app_port), "--log-level", "warning"],
                env={
                    "DATABASE_URL": database_url,
                    "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
                    "STRIPE_PUBLISHABLE_KEY": STRIPE_PUBLISHABLE_KEY,
                    "STRIPE_API_BASE": stripe_base,
                    "STRIPE_JS_URL": f"{stripe_base}/js.stripe.com/v3/",
                    "STRIPE_WEBHOOK_SECRET": webhook_secret,
                    "ADMIN_TOKEN": admin_token,
                    "TEST_MODE": "1",
                    "SESSION_SECRET": secrets.token_hex(32),
                    "DATA_DIR": str(self._dir / "app-data"),
                    "TEST_DOMAIN": self._test_domain,
                    "PAYMENT_KIND": self.payment_kind,
                    "APP_UI": self.app_ui,
                    "SUPABASE_URL": app_url,
                    "SUPABASE_JWT_SECRET": jwt_secret,
                },
            )  # fmt: skip
            try:
                self._wait_for("app", f"{app_url}/healthz")  # up, with its chat listener subscribed
                break
            except Unreachable:
                # The port was free when chosen, while PostgreSQL started; something may have taken it
                # since (an outgoing connection's ephemeral port, another stack): a new one, unless given.
                taken = "address already in use" in self._log_tail("app")
                if not taken or self._app_port or attempt == APP_START_ATTEMPTS:
                    raise
                app_port = free_port()
        _post_json(
            f"{stripe_base}/_config/webhooks/pitstop",
            {
                "url": f"{app_url}/api/stripe/webhook",
                "secret": webhook_secret,
                "events": list(WEBHOOK_EVENTS_BY_KIND[self.payment_kind]),
            },
        )
        self.info = StackInfo(app_url, database_url, stripe_base, admin_token, app_url, jwt_secret)
        return self.info

    def stop(self) -> None:
        """Stop every part this stack started (by pid) and remove its files. Safe to repeat."""
        for name in ("app", "stripe", "localstripe"):
            process = self._processes.pop(name, None)
            if process is not None:
                _terminate(process)
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._watchdog is not None:  # last: had this process died before now, it would have done the above
            self._watchdog.stop()
            self._watchdog = None
        self._directories = []
        self.info = None

    def check(self) -> None:
        """Raise if a part has exited since the stack started."""
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise Unreachable(
                    f"the {name} process exited unexpectedly (code {process.returncode}): "
                    f"{self._log_tail(name)}",
                    fix="see the message above, then start the stack again",
                )

    @property
    def pids(self) -> dict[str, int]:
        """The processes this stack runs, by part (PostgreSQL's postmaster included)."""
        pids = {name: p.pid for name, p in self._processes.items()}
        if self._postgres is not None and self._postgres.pid is not None:
            pids["postgres"] = self._postgres.pid
        return pids

    @property
    def watchdog_pid(self) -> int | None:
        """The stack's watchdog process (``harness.stack.watchdog``), while the stack runs."""
        return self._watchdog.pid if self._watchdog is not None else None

    @property
    def directories(self) -> list[Path]:
        """The temporary directories the stack has made (its own, and its PostgreSQL's)."""
        return list(self._directories)

    def __enter__(self) -> StackInfo:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the parts ---------------------------------------------------------------

    def _database(self) -> str:
        """The database URL: the one given (guarded: installing writes), else a fresh server."""
        if self._database_url:
            check_database_url(self._database_url, self._settings.allowed_hosts)
            url = self._database_url
        else:
            try:
                self._postgres = LocalPostgres(on_directory=self._watch_postgres).start()
            except PitstopError as exc:
                raise Unreachable(f"postgres failed to start: {exc.message}", fix=exc.fix) from None
            url = self._postgres.url()
        # Bounded as every other statement pitstop sends (PITSTOP_STATEMENT_TIMEOUT: Settings).
        with PostgresStore(database_url=url, statement_timeout=self._settings.statement_timeout) as store:
            Cleanup(store, self._settings)  # the guard again, on the address actually reached
            if self._database_url:
                _refuse_unless_ours(store, url)
            with store.connection.transaction():  # the install and its mark, or neither
                found = store.install(test_domain=self._test_domain, with_app_schema=True)
                store.connection.execute(
                    "insert into pitstop.settings values (%s, %s)"
                    " on conflict (key) do update set value = excluded.value",
                    (STACK_MARK, ",".join(_app_tables(found.app_tables()))),
                )
        return url

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        assert self._dir is not None
        log = (self._dir / f"{name}.log").open("wb")
        self._processes[name] = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=self._dir,
            # A group of its own: stopped with whatever it starts (harness.stack.processes).
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()  # the child holds its own copy
        assert self._watchdog is not None
        self._watchdog.watch_group(self._processes[name].pid)

    def _watch_dir(self, path: Path) -> None:
        assert self._watchdog is not None
        self._watchdog.watch_dir(path)
        self._directories.append(path)

    def _watch_postgres(self, directory: Path, data_dir: Path) -> None:
        """``LocalPostgres``'s hook: its server and directory, before the server starts."""
        assert self._watchdog is not None
        self._watchdog.watch_postgres(data_dir)
        self._watch_dir(directory)

    def _wait_for(self, name: str, url: str, *, auth: str | None = None) -> None:
        """Poll ``url`` (bounded) until it answers; a part that exits or hangs stops the stack."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        request = urllib.request.Request(url)
        if auth:
            request.add_header("Authorization", f"Bearer {auth}")
        while True:
            process = self._processes[name]
            if process.poll() is not None:
                raise Unreachable(
                    f"{name} failed to start (exit {process.returncode}): {self._log_tail(name)}",
                    fix="see the message above",
                )
            try:
                with urllib.request.urlopen(request, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Unreachable(
                    f"{name} did not answer at {url} within {READY_TIMEOUT_S} s: {self._log_tail(name)}",
                    fix="see the message above; is the machine overloaded?",
                )
            time.sleep(0.05)

    def _log_tail(self, name: str) -> str:
        assert self._dir is not None
        log = self._dir / f"{name}.log"
        text = log.read_text(errors="replace").strip() if log.exists() else ""
        return text[-1500:] or "(no output)"


def _post_json(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """End a part and every process it started (SIGTERM, then SIGKILL after STOP_TIMEOUT_S)."""
    processes.stop(process, STOP_TIMEOUT_S)


# The key in pitstop.settings that says the embedded stack installed this database; its value
# is the app tables it left there (the reference app's).
STACK_MARK = "embedded_stack"
# Every object a user made outside PostgreSQL's own schemas and the platform's (Supabase's:
# PLATFORM_SCHEMAS), not one an extension owns: a blank database has none. Tables are not enough:
# views, sequences (a serial or identity column's goes with its table), composite types, functions
# and enum, domain and range types count too. Each row: its schema, its name (a function's with
# "()") and whether it is a table.
OWN_OBJECTS = """
with own(schema, name, is_table) as (
    select n.nspname, c.relname, c.relkind in ('r', 'p')
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S', 'c')
      and not exists (select from pg_depend d
                      where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
      and not (c.relkind = 'S' and exists (select from pg_depend d
                                           where d.classid = 'pg_class'::regclass and d.objid = c.oid
                                             and d.refclassid = 'pg_class'::regclass
                                             and d.deptype in ('a', 'i')))
    union all
    select n.nspname, p.proname || '()', false from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where not exists (select from pg_depend d
                      where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    union all
    select n.nspname, t.typname, false from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where t.typtype in ('e', 'd', 'r')
      and not exists (select from pg_depend d
                      where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e')
)
select schema, schema || '.' || name, is_table from own
where schema not in ('pg_catalog', 'information_schema') and schema <> all(%s)
  and schema not like 'pg\\_toast%%' and schema not like 'pg\\_temp%%'
order by 2
"""
# Where pitstop's rules and settings are: its schema, and the wrappers in public that Supabase's
# REST API calls (``public.pitstop_*()``, as each version of the rules names them).
PITSTOP_SCHEMA = "pitstop"
PITSTOP_WRAPPER = re.compile(r"public\.pitstop_\w+\(\)")


@cache
def reference_app() -> tuple[frozenset[str], frozenset[str]]:
    """The reference app's tables, and all its objects (the tables and its functions), named as
    OWN_OBJECTS names them: read from its schema (``harness.rules.sql.app_schema()``), what
    ``pitstop install --with-app-schema`` and the stack write."""
    script = migrations.app_schema()
    tables = frozenset(re.findall(r"(?im)^create table if not exists ([\w.]+)", script))
    functions = {f"{name}()" for name in re.findall(r"(?im)^create or replace function ([\w.]+)\(", script)}
    return tables, tables | functions


def _app_tables(tables: list[str]) -> list[str]:
    """The catalog's app tables less the platform's (``Catalog.app_tables`` leaves some in)."""
    return [t for t in tables if t.split(".", 1)[0] not in PLATFORM_SCHEMAS]


def _refuse_unless_ours(store: PostgresStore, url: str) -> None:
    """A given database takes the reference app's schema and rules only when it is blank, or the
    stack's own: never a database an app of its own lives in.

    Blank: nothing outside PostgreSQL's own schemas and the platform's (Supabase's, whatever they
    hold: a fresh local Supabase database is blank). The stack's own: marked by an earlier start,
    with no app table added since; or holding, besides, the reference app's tables and nothing but
    the reference app and pitstop's rules (``pitstop install --with-app-schema``).
    """
    rows = store.connection.execute(OWN_OBJECTS, (list(PLATFORM_SCHEMAS),)).fetchall()
    if not rows:
        return
    found = {name: is_table for _, name, is_table in rows}
    reference_tables, reference_objects = reference_app()
    ours = reference_objects | {
        name for schema, name, _ in rows if schema == PITSTOP_SCHEMA or PITSTOP_WRAPPER.fullmatch(name)
    }
    mark = store.installed().get(STACK_MARK)
    if mark is not None:  # the stack's own from an earlier start, with the app tables it left
        ours |= set(mark.split(","))
        if all(name in ours for name, is_table in found.items() if is_table):
            return
    elif reference_tables <= found.keys() and found.keys() <= ours:
        return
    # Name what is not the stack's (all of it when nothing else is there, as a lone reference name).
    theirs = [name for name in found if name not in ours] or list(found)
    shown = ", ".join(theirs[:5]) + (f" and {len(theirs) - 5} more" if len(theirs) > 5 else "")
    given = conninfo_to_dict(url)
    where = f"database {given.get('dbname', '?')} on {given.get('host', 'the local socket')}"
    raise Refused(
        f"the embedded stack installs the reference app into its database, and the {where} "
        f"holds objects of its own ({shown}); nothing was written",
        fix="to test your app, give --base-url (the app under test) with this database; for the "
        "embedded stack, name a blank database (Supabase's own schemas do not count), one that "
        "`pitstop install --with-app-schema` made, or none (it then starts a PostgreSQL of its own)",
    )


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM if the stack's process dies, so no part outlives it (a part's
    own children are not covered by this: ``stop`` ends them with their part, and the watchdog,
    ``harness.stack.watchdog``, when the stack's process dies)."""
    if sys.platform == "linux":
        prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
