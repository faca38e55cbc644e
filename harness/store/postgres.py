"""The postgres store: a direct psycopg connection, one round trip per rule."""

from __future__ import annotations

import re
import select
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from time import monotonic
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

import psycopg
from psycopg import errors, pq, sql
from psycopg.abc import PQGen
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from harness.config.options import STATEMENT_TIMEOUT_S
from harness.errors import BadInput, PitstopError, Refused, Unreachable
from harness.json_types import JSON
from harness.rules import sql as migrations
from harness.rules.model import Model, fit, seeding
from harness.rules.model.catalog import Catalog, Column, read_catalog
from harness.rules.model.declaration import Queue
from harness.rules.model.seeding import AUTH_USERS
from harness.store import auth_sessions, auth_users
from harness.store.closing import Closing
from harness.store.interface import NewUser, RunInfo, SeedState
from harness.store.retries import RETRIED, RETRIES, pause
from harness.store.safety import (
    DATABASE_URL_NAMED,
    Endpoint,
    check_hosts_and_ports,
    is_loopback,
    passwords_in,
    scrub,
)

CONNECT_TIMEOUT_S = 5
# Every statement pitstop sends is bounded on the server (``STATEMENT_TIMEOUT_S``, the option's
# default): a rule stuck behind another session's lock fails with a message instead of hanging the run.
LOCK_TIMEOUT_S = 10
# A stopped server (SIGSTOP, a frozen VM) ends no statement and TCP stays up: every round
# trip is bounded on the client too, this much past the server's bound, whose error comes
# first whenever the server runs.
CLIENT_MARGIN_S = 2
# A server host that vanishes mid-statement is noticed by TCP keepalives (~25 s).
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "10", "keepalives_interval": "5", "keepalives_count": "3"}

# SQLSTATEs raised by the rules (PostgREST's PTxxx convention) and by a
# database that lacks them, mapped to pitstop's errors.
_NOT_INSTALLED = (errors.UndefinedFunction, errors.InvalidSchemaName)
_APP_SCHEMA_MISSING = (errors.UndefinedTable,)
# The server ended the statement and said so (shutdown, crash): its transaction was rolled back.
_SERVER_ENDED = ("57P01", "57P02", "57P03")


class PostgresStore(Closing):
    """The rules over a direct connection (``DATABASE_URL``).

    Opens one autocommit connection; each verb is one statement, so each is
    atomic on its own. A dry run runs the same statement in a transaction
    that is always rolled back, so its counts are exact.

    Every round trip is bounded: on the server by the statement and lock
    timeouts, and ``CLIENT_MARGIN_S`` later on the client, for a server that
    does not answer at all (stopped, frozen): the connection is closed then
    and the call fails with ``Unreachable``.

    A connection the server dropped between two calls (a restart) is made
    anew, once, at the start of the next call. A statement in flight when
    the connection is lost is never sent again: its error says whether it
    was written.
    """

    name = "postgres"

    def __init__(
        self,
        *,
        database_url: str,
        model: Model | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        statement_timeout: float | None = None,
        lock_timeout: float = LOCK_TIMEOUT_S,
    ) -> None:
        """``statement_timeout``: seconds (default ``STATEMENT_TIMEOUT_S``; 0: none), on the
        server and, ``CLIENT_MARGIN_S`` later, on the client (``_BoundedConnection``)."""
        if statement_timeout is None:
            statement_timeout = STATEMENT_TIMEOUT_S
        if statement_timeout < 0:
            raise BadInput(
                f"the statement timeout is {statement_timeout:g} s",
                fix="give a number of seconds, 0 for none (PITSTOP_STATEMENT_TIMEOUT)",
            )
        # libpq's messages quote what they could not parse, often the password: it is kept to scrub.
        self._passwords = passwords_in(database_url)
        try:
            params = conninfo_to_dict(database_url)
        except psycopg.ProgrammingError as exc:
            raise _bad_url(exc, self._passwords) from None
        check_hosts_and_ports(params)
        params.setdefault("connect_timeout", str(max(1, round(connect_timeout))))
        params.setdefault("application_name", "pitstop")
        for name, value in KEEPALIVES.items():
            params.setdefault(name, value)
        # Ours first: settings already in the URL's options come later and win.
        bounds = (
            f"-c statement_timeout={round(statement_timeout * 1000)} "
            f"-c lock_timeout={round(lock_timeout * 1000)}"
        )
        own_options = str(params.get("options") or "")
        params["options"] = f"{bounds} {own_options}".strip()
        self._conninfo = make_conninfo("", **params)
        self._client_bound: float | None = statement_timeout + CLIENT_MARGIN_S if statement_timeout else None
        # The URL's options may set another statement timeout: the client's bound follows the server's.
        self._bound_from_server = "statement_timeout" in own_options.replace("-", "_")
        self._conn = self._connect()
        info = self._conn.info
        self._endpoint = Endpoint(host=info.host, address=info.hostaddr or None)
        self._dbname = info.dbname
        self._port = info.port
        self._user_sql: list[sql.SQL | sql.Composed] | None = None
        self._session_sql: sql.Composed | None = None  # a sign-in's rows, built on first use
        self._seed_catalog: Catalog | None = None  # the tables seeding writes, read on first use
        self.model = model or Model()
        self._model_checked = False

    # -- the Store interface ------------------------------------------------

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    def describe(self) -> str:
        return f"postgres {_where(self._endpoint, self._port, self._dbname)}"

    def purge_user(self, user_id: UUID, *, dry_run: bool = False) -> JSON:
        return self._call("select pitstop.purge_user(%s)", (user_id,), dry_run=dry_run)

    def purge_users(self, user_ids: list[UUID]) -> list[JSON]:
        """Purge several test users in one round trip and one transaction."""
        self._check_model()
        with self._errors():
            row = self._conn.execute(
                "select coalesce(jsonb_agg(pitstop.purge_user(u) order by n), '[]')"
                " from unnest(%s::uuid[]) with ordinality as t(u, n)",
                (user_ids,),
            ).fetchone()
        assert row is not None
        return list(row[0])

    def cleanup_stale(
        self, *, waiting_minutes: int = 15, orphan_minutes: int = 20, dry_run: bool = False
    ) -> JSON:
        return self._call(
            "select pitstop.cleanup_stale(%s, %s)",
            (waiting_minutes, orphan_minutes),
            dry_run=dry_run,
        )

    def force_cancel(self, session_id: UUID) -> JSON:
        return self._call("select pitstop.force_cancel(%s)", (session_id,))

    def customer_session_status(self, customer_id: UUID, *, minutes: int = 15) -> JSON:
        return self._call("select pitstop.customer_session_status(%s, %s)", (customer_id, minutes))

    def health(self, *, stale_minutes: int = 15, very_stale_minutes: int = 60) -> JSON:
        return self._call("select pitstop.health(%s, %s)", (stale_minutes, very_stale_minutes))

    def find_user(self, email: str) -> UUID | None:
        with self._errors():
            row = self._conn.execute(
                "select id from auth.users where lower(email) = lower(%s)", (email,)
            ).fetchone()
        return None if row is None else UUID(str(row[0]))

    def create_test_user(self, user: NewUser) -> UUID:
        """Make (or refresh) a test user as Supabase Auth would, with its identity and profile.

        Writes the columns the target's ``auth.users`` has (``harness.store.auth_users``).
        On Supabase a trigger may already have made the profile: it is updated.
        """
        params = {**user, "metadata": Jsonb(user["metadata"]), "id": None}
        with self._errors(), self._conn.transaction():
            statements = self._user_statements()
            row = self._conn.execute(statements[0], params).fetchone()
            assert row is not None
            params["user_id"] = row[0]
            for statement in statements[1:]:
                self._conn.execute(statement, params)
        return UUID(str(row[0]))

    def _user_statements(self) -> list[sql.SQL | sql.Composed]:
        """The statements that make a test user on this target, built once from its catalog."""
        if self._user_sql is None:
            shape = auth_users.read_shape(self._conn)
            identity = auth_users.create_identity_statement(shape)
            self._user_sql = [
                auth_users.create_user_statement(shape),
                *([identity] if identity is not None else []),
                *([PROFILE] if self._has_profiles() else []),
            ]
        return self._user_sql

    def _has_profiles(self) -> bool:
        """Whether the app keeps profiles as the reference app does (role and name by user id).

        Supabase apps often have a ``public.profiles`` table made by a trigger on
        ``auth.users``; one of another shape is left to the app (or its trigger).
        """
        row = self._conn.execute(
            "select count(*) = 3 from pg_attribute"
            " where attrelid = to_regclass('public.profiles') and not attisdropped"
            " and attname in ('id', 'role', 'full_name')"
        ).fetchone()
        return bool(row and row[0])

    def set_test_user_password(self, user_id: UUID, password: str) -> bool:
        """Give a test user this password (hashed as Supabase Auth hashes); False: not a test user."""
        params = {"user": user_id, "hash": auth_users.hash_password(password)}
        with self._errors(), self._conn.transaction():
            return self._conn.execute(auth_sessions.SET_PASSWORD, params).fetchone() is not None

    def open_auth_session(
        self, user_id: UUID, *, session_id: UUID, refresh_token: str, user_agent: str
    ) -> JSON | None:
        """Write a password sign-in's session for a test user (``harness.store.auth_sessions``);
        the user, without its secrets, or None when it is not a test user."""
        params = {"user": user_id, "session": session_id, "token": refresh_token, "agent": user_agent}
        with self._errors(), self._conn.transaction():
            if self._session_sql is None:
                self._session_sql = auth_sessions.open_session_statement(auth_sessions.read_shape(self._conn))
            row = self._conn.execute(self._session_sql, params).fetchone()
        return None if row is None else dict(row[0])

    def auth_shape(self) -> auth_users.AuthShape:
        with self._errors():
            return auth_users.read_shape(self._conn)

    def delete_test_user(self, user_id: UUID) -> JSON:
        return self._call("select pitstop.delete_test_user(%s)", (user_id,))

    def test_users(self) -> list[JSON]:
        return self._call_list("select pitstop.test_users()", ())

    def hold_run(self, lease: RunInfo) -> JSON:
        return self._call(
            "select pitstop.hold_run(%s, %s, %s, %s, %s, %s)",
            (lease.run, lease.host, lease.pid, lease.shard, lease.ci_job, lease.lease_seconds),
        )

    def end_run(self, run: str, *, expired: bool = False) -> JSON:
        return self._call("select pitstop.end_run(%s, %s)", (run, expired))

    def runs(self) -> list[JSON]:
        return self._call_list("select pitstop.runs()", ())

    def active_sessions(self, user_ids: list[UUID]) -> list[JSON]:
        return self._call_list("select pitstop.active_sessions(%s::uuid[])", (user_ids,))

    def sessions(self, session_ids: list[UUID]) -> list[JSON]:
        return self._call_list("select pitstop.sessions(%s::uuid[])", (session_ids,))

    def user_rows(self, user_ids: list[UUID]) -> JSON:
        return self._call("select pitstop.user_rows(%s::uuid[])", (user_ids,))

    def close(self) -> None:
        self._conn.close()

    def _connect(self) -> _BoundedConnection:
        try:
            conn = _BoundedConnection.connect(self._conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise connect_error(exc, self._passwords) from None
        info = conn.info
        conn.where = _where(Endpoint(host=info.host, address=info.hostaddr or None), info.port, info.dbname)
        conn.bound = self._client_bound
        if self._bound_from_server:
            try:
                row = conn.execute(
                    "select setting::float8 / 1000 from pg_settings where name = 'statement_timeout'"
                ).fetchone()
            except BaseException as exc:
                conn.close()
                if isinstance(exc, psycopg.Error):
                    raise translate(exc) from None
                raise
            assert row is not None
            conn.bound = float(row[0]) + CLIENT_MARGIN_S if row[0] else None
        return conn

    def _reconnect_if_dropped(self) -> None:
        """Connect again (once) if the server dropped the connection since the last call."""
        if not _dropped(self._conn):
            return
        self._conn.close()
        conn = self._connect()
        info = conn.info
        reached = Endpoint(host=info.host, address=info.hostaddr or None)
        # The guard checked the first address; a move off this machine needs its check again.
        if reached != self._endpoint and not (_on_loopback(reached) and _on_loopback(self._endpoint)):
            conn.close()
            raise Refused(
                f"the database now resolves to {reached.describe()}, not {self._endpoint.describe()}",
                fix="run again, so that the safety guard checks the new address",
            )
        self._conn = conn

    # -- a direct database connection only (``DatabaseStore``) ----------------

    def database(self) -> PostgresStore:
        return self

    def seed_session(self, state: SeedState) -> JSON | None:
        """Insert one named state (a session, its request, participants) for test users, in one statement.

        ``state`` carries the model's words; the statement is rendered for the
        model (``seed_statement``). Returns the ids, or None when the customer
        or mechanic is not a test user (nothing is written then).
        """
        self._check_model()
        with self._errors():
            if self._seed_catalog is None:
                self._seed_catalog = read_catalog(self._conn)
            statement, params = seed_statement(self.model, self._seed_catalog, state)
            try:
                row = self._conn.execute(statement, params).fetchone()
            except errors.IntegrityError as exc:
                raise self._seed_refused(exc) from None
        if row is None or row[0] is None:
            return None
        return {"session_id": str(row[0]), "request_id": None if row[1] is None else str(row[1])}

    def _seed_refused(self, exc: psycopg.errors.IntegrityError) -> PitstopError:
        """Why the database refused a seeded row, naming the table, the columns and what to change.

        The values pitstop writes are planned from the catalog (``seed_statement``), so what is left
        is what the catalog does not say: a check constraint a made value breaks, a declared value
        that names no row or repeats, a unique index the user's other rows hold, a column of the
        model this state leaves empty.
        """
        diag = exc.diag
        table = f"{diag.schema_name}.{diag.table_name}"
        part = seeding.part_of(self.model, table)
        columns = (
            [diag.column_name] if diag.column_name else self._constraint_columns(table, diag.constraint_name)
        )
        shown = ", ".join(columns) or "its columns"
        # The model's own columns (pitstop writes them) and those it declares values for.
        named = next((n for p, _, n, _ in self.model.value_parts() if p == part), {})
        given = set(self.model.values_for(table))
        ours = [c for c in columns if c not in named]
        declare = (
            f"declare a value for {', '.join(ours)} in [tool.pitstop.model.{part}.values]"
            if part and ours
            else "give the column a default"
        )
        if isinstance(exc, errors.NotNullViolation):
            if columns and columns[0] in named:
                return BadInput(
                    f"cannot seed into {table}: its column {shown} ({part}.{named[columns[0]]} of the model) "
                    "is NOT NULL, and this state leaves it empty",
                    fix="seed a state that has one, or make this state in a fixture of your own",
                )
            return BadInput(
                f"cannot seed into {table}: its column {shown} is NOT NULL and got no value "
                "(a trigger, or a default that gives NULL?)",
                fix=f"{declare} (nothing was written)",
            )
        said = diag.message_primary or _first_line(exc)
        detail = f" ({diag.message_detail})" if diag.message_detail else ""
        if isinstance(exc, errors.UniqueViolation) and given & set(columns):
            fix = f"leave {shown} undeclared, so that pitstop makes a value of its own for each row"
        elif isinstance(exc, errors.UniqueViolation):
            fix = (
                f"the app allows one such row ({shown}): reset the user's sessions first "
                "(pitstop.cleanup.reset_user), or seed this state for another user"
            )
        elif isinstance(exc, errors.ForeignKeyViolation) and given & set(columns):
            fix = f"declare an id of a row that is there for {shown} in [tool.pitstop.model.{part}.values]"
        elif ours:
            fix = f"{declare}, one that the constraint allows"
        else:
            fix = "the app refuses this state's row in the model's words: make it in a fixture of your own"
        return BadInput(f"cannot seed into {table}: {said}{detail}", fix=f"{fix} (nothing was written)")

    def _constraint_columns(self, table: str, constraint: str | None) -> list[str]:
        """The columns of ``table``'s constraint (or unique index) named ``constraint``, in order."""
        if not constraint:
            return []
        try:
            row = self._conn.execute(
                "select coalesce("
                " (select array(select a.attname::text from unnest(k.conkey) with ordinality u(num, i)"
                "   join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.num order by u.i)"
                "  from pg_constraint k where k.conname = %(name)s and k.conrelid = to_regclass(%(table)s)),"
                " (select array(select a.attname::text from unnest(x.indkey) with ordinality u(num, i)"
                "   join pg_attribute a on a.attrelid = x.indrelid and a.attnum = u.num order by u.i)"
                "  from pg_index x join pg_class i on i.oid = x.indexrelid"
                "  where i.relname = %(name)s and x.indrelid = to_regclass(%(table)s)))",
                {"name": constraint, "table": _table(table).as_string(self._conn)},
            ).fetchone()
        except psycopg.Error:  # what the columns were is a detail of the message: never a second failure
            return []
        return list(row[0]) if row and row[0] else []

    def register_mechanic(
        self, mechanic_id: UUID, *, run: str, worker: str, host: str | None = None, pid: int | None = None
    ) -> JSON:
        """Register a mechanic pitstop just made (a row of the model's mechanics table) with the run's tags.

        The registry entry is its second test mark, beside an email in the test domain.
        """
        self._need_mechanics_table()
        return self._call(
            "select pitstop.register_mechanic(%s, %s, %s, %s, %s)", (mechanic_id, run, worker, host, pid)
        )

    def delete_test_mechanic(self, mechanic_id: UUID) -> JSON:
        """Remove a registered test mechanic: its session state, its row and its registry entry."""
        self._need_mechanics_table()
        return self._call("select pitstop.delete_test_mechanic(%s)", (mechanic_id,))

    def test_mechanics(self) -> list[JSON]:
        """The registered test mechanics with their run tags; none when the model has no mechanics table."""
        if not self.model.has_mechanics_table:
            return []
        return self._call_list("select pitstop.test_mechanics()", ())

    def _need_mechanics_table(self) -> None:
        if not self.model.has_mechanics_table:
            raise BadInput(
                "the model has no mechanics table: its mechanics are test users",
                fix="set [tool.pitstop.model.mechanics] table, if your app keeps mechanics in a table",
            )

    def install(self, *, test_domain: str, with_app_schema: bool = False) -> Catalog:
        """Apply the rules for this store's model in one transaction, after checking the database;
        return the catalog they were rendered from.

        ``with_app_schema``: a blank database first gets the platform (Supabase's
        roles and auth schema, where missing) and the reference app's tables.
        Then ``auth.users`` and the model are checked against the catalog, and
        the rules are rendered for the model and the foreign keys found. Any
        refusal rolls everything back: nothing is written.
        """
        with self._errors(), self._conn.transaction():
            if with_app_schema:
                self._conn.execute(migrations.platform().encode())
            auth_users.read_shape(self._conn).check()
            if with_app_schema:
                self._conn.execute(migrations.app_schema().encode())
            found = read_catalog(self._conn)
            fit.check(self.model, found)
            self._conn.execute(migrations.migration(test_domain, self.model, found).encode())
        self._user_sql = None  # the shape may have changed
        self._seed_catalog = None
        self._model_checked = True
        return found

    def catalog(self) -> Catalog:
        """What the database's catalog says now (tables, columns, status words, foreign keys)."""
        with self._errors():
            return read_catalog(self._conn)

    def installed(self) -> dict[str, str]:
        """What ``install`` recorded (test domain, version, hash); empty where pitstop is not installed."""
        with self._errors():
            if self._conn.execute("select to_regclass('pitstop.settings')").fetchone() == (None,):
                return {}
            return dict(self._conn.execute("select key, value from pitstop.settings").fetchall())

    @property
    def connection(self) -> psycopg.Connection[Any]:
        """The underlying connection, for tests and seeding (its round trips are bounded too)."""
        return self._conn

    @property
    def client_bound(self) -> float | None:
        """Seconds after which a statement that got no answer is given up (None: never)."""
        return self._conn.bound

    # -- helpers ------------------------------------------------------------

    def _call(self, query: str, params: tuple[Any, ...], *, dry_run: bool = False) -> JSON:
        return cast(JSON, self._value(query, params, dry_run=dry_run))

    def _call_list(self, query: str, params: tuple[Any, ...]) -> list[JSON]:
        return cast(list[JSON], self._value(query, params))

    def _check_model(self) -> None:
        """Once per store: the rules in the database were rendered for this store's model."""
        if self._model_checked:
            return
        installed = self.installed()
        if installed and self.model.installed_for_another(installed):
            # Say now what install would refuse, rather than send the user round to learn it.
            found = fit.misfits(self.model, self.catalog())
            misfit = (
                "; and this model does not fit the database, so install would refuse it:\n    "
                + "\n    ".join(str(f) for f in found)
                if found
                else ""
            )
            raise BadInput(
                "the pitstop functions in this database were installed for another model of the app" + misfit,
                fix="correct [tool.pitstop.model] (`pitstop inspect` proposes one), then `pitstop install`"
                if found
                else "run `pitstop install` again with this [tool.pitstop.model] (or point pitstop at "
                "the configuration they were installed with: --config FILE)",
            )
        self._model_checked = True

    def _value(self, query: str, params: tuple[Any, ...], *, dry_run: bool = False) -> Any:
        """The one value of a one-row, one-column statement (a rule's JSON).

        Each rule is one transaction: one that the server ended for a deadlock or a serialization
        failure (another run's statement on the same rows) changed nothing, and is run again.
        """
        self._check_model()
        with self._errors():
            for attempt in range(RETRIES + 1):
                try:
                    if dry_run:
                        with self._conn.transaction(force_rollback=True):
                            row = self._conn.execute(query.encode(), params).fetchone()
                    else:
                        row = self._conn.execute(query.encode(), params).fetchone()
                    break
                except psycopg.Error as exc:
                    if exc.sqlstate not in RETRIED or attempt == RETRIES:
                        raise
                    pause(attempt)
        assert row is not None
        return row[0]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Translate database errors into pitstop's, with the fix in each."""
        self._reconnect_if_dropped()
        try:
            yield
        except PitstopError:
            raise
        except psycopg.Error as exc:
            raise translate(exc) from None


RV = TypeVar("RV")


class NoAnswer(psycopg.OperationalError):
    """A round trip got no answer within its connection's bound; the connection is closed.

    An ``OperationalError``, as a connection lost is; ``translate`` makes it ``Unreachable``.
    """

    def __init__(self, where: str, bound: float) -> None:
        super().__init__(f"the database {where} did not answer within {bound:g} s")
        self.where, self.bound = where, bound


class _Late(Exception):
    """Raised in a round trip's generator past its deadline."""


class _BoundedConnection(psycopg.Connection[Any]):
    """A connection that gives up on a round trip after ``bound`` seconds without an answer.

    psycopg drives each round trip (a statement, a commit) as a generator
    through ``Connection.wait``, the one method its cursors and transactions
    call for it, which resumes the generator when the socket is ready and
    every 0.1 s when it is not; here each resume also looks at a deadline: no
    thread, no extra system call. Past it the connection is closed unanswered
    (a cancel request would go to the same stopped server and hang as well)
    and the round trip fails with ``NoAnswer``; the store connects again on
    its next call.
    """

    bound: float | None = None
    where = "the database"

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        bound = self.bound
        if bound is not None:
            gen = _within(gen, monotonic() + bound)
        try:
            # psycopg 3.2's wait takes no timeout: pass one only when the caller gave it.
            return super().wait(gen, interval) if timeout is None else super().wait(gen, interval, timeout)
        except _Late:
            assert bound is not None
            self.close()
            raise NoAnswer(self.where, bound) from None


def _within(gen: PQGen[RV], deadline: float) -> PQGen[RV]:
    """``gen``, failing with ``_Late`` once it is resumed after ``deadline``."""
    try:
        waiting = next(gen)
        while True:
            ready = yield waiting
            if monotonic() >= deadline:
                raise _Late
            waiting = gen.send(ready)
    except StopIteration as done:
        return cast(RV, done.value)


# The reference app's profile of a test user; a trigger may have made it already.
PROFILE = sql.SQL(
    "insert into public.profiles (id, role, full_name) values (%(user_id)s, %(role)s, %(full_name)s)"
    " on conflict (id) do update set role = excluded.role, full_name = excluded.full_name"
)


# Columns the reference app has beyond the model, written when a table has them (with a fitting type).
_SESSION_EXTRAS = ("plan", "started_at")
_REQUEST_EXTRAS = ("plan", "vehicle", "accepted_at")


def seed_statement(model: Model, catalog: Catalog, state: SeedState) -> tuple[sql.Composed, dict[str, Any]]:
    """One statement that writes ``state`` through ``model``, and its parameters.

    Names are identifiers; status words, declared values and the values pitstop makes are
    literals or parameters, never pasted text.

    Besides the model's columns, every NOT NULL column without a default of the tables written
    (sessions, requests, participants: ``harness.rules.model.seeding``) gets a value: the model's
    declared one, else one made from its type. A column that needs a value pitstop cannot make
    refuses the state before anything is sent, in one error naming every such column of every
    table a named state writes, and the key that declares each.

    Participants (``seeding.participants``) are written for live and ended sessions: the customer,
    and the mechanic's sign-in user (its id, or the mechanics table's user column).

    Nothing is written unless every user named is a test user: every insert
    hangs off the guard. Ids are made here, so that a session and its request
    can name each other whichever way the model links them.
    """
    s, r = model.sessions, model.requests
    if state["request"] is not None and not model.has_requests:
        raise BadInput(
            "this state has a request, but the model has no requests table", fix="set requests.table"
        )
    mechanic = state["mechanic"] if s.mechanic else None
    status, request = state["status"], state["request"]
    served = status in s.live or status in s.done
    ended = status in s.done or status == s.cancelled
    params: dict[str, Any] = {
        "session_id": uuid4(),
        "request_id": uuid4() if request is not None else None,
        "customer": state["customer"],
        "mechanic": mechanic,
        "plan": state["plan"],
        "age_s": state["age_s"],
        "vehicle": Jsonb(state["vehicle"]),
    }
    created = sql.SQL("now() - make_interval(secs => %(age_s)s)")
    now = sql.SQL("now()")
    is_test_mechanic = "is_test_mechanic" if model.has_mechanics_table else "is_test_user"
    # The rows the statement has, by what refers to them: a column that must refer to one takes its id.
    known: dict[tuple[str, tuple[str, ...]], str] = {AUTH_USERS: "customer", (s.table, (s.id,)): "session_id"}
    if request is not None:
        known[(r.table, (r.id,))] = "request_id"
    fill = _Filler(model, catalog, known, params)

    session: dict[str, sql.Composable] = {
        s.id: sql.SQL("%(session_id)s"),
        s.customer: sql.SQL("%(customer)s"),
        s.status: sql.Literal(status),
        s.created_at: created,
    }
    if mechanic is not None:
        session[s.mechanic] = sql.SQL("%(mechanic)s")
    if s.ended_at and ended:
        session[s.ended_at] = now
    if s.updated_at:
        session[s.updated_at] = now
    if s.request and request is not None:
        session[s.request] = sql.SQL("%(request_id)s")
    extras = {"plan": sql.SQL("%(plan)s"), "started_at": created if served else None}
    now_needed = fill.row(session, s.table, _SESSION_EXTRAS, extras)
    ctes = [
        sql.SQL(
            "guard as (select pitstop.is_test_user(%(customer)s::uuid)"
            " and (%(mechanic)s::uuid is null or pitstop.{}(%(mechanic)s::uuid)) as ok)"
        ).format(sql.Identifier(is_test_mechanic)),
        sql.SQL("s as (insert into {} ({}) select {} from guard where ok returning {})").format(
            _table(s.table), *_columns_values(session), sql.Identifier(s.id)
        ),
    ]
    if model.has_requests:  # planned for every state, so that one error names all a state may need
        accepted = request == r.accepted
        row: dict[str, sql.Composable] = {
            r.id: sql.SQL("%(request_id)s"),
            r.customer: sql.SQL("%(customer)s"),
            r.status: sql.Literal(request or r.pending),
            r.created_at: created,
        }
        if r.session:
            row[r.session] = sql.SQL("%(session_id)s")
        if r.mechanic and accepted and mechanic is not None:
            row[r.mechanic] = sql.SQL("%(mechanic)s")
        extras = {
            "plan": sql.SQL("%(plan)s"),
            "vehicle": sql.SQL("%(vehicle)s"),
            "accepted_at": now if accepted else None,
        }
        needs = fill.row(row, r.table, _REQUEST_EXTRAS, extras)
        if request is not None:
            now_needed += needs
            ctes.append(
                sql.SQL("r as (insert into {} ({}) select {} from s returning {})").format(
                    _table(r.table), *_columns_values(row), sql.Identifier(r.id)
                )
            )
    for n, (_, queue) in enumerate(model.queues):  # planned for every state, as the requests are
        word = _queue_word(model, queue, status, mechanic is not None, state["queued"])
        row = {queue.status: sql.Literal(word or queue.open[0]), queue.created_at: created}
        if queue.session:
            row[queue.session] = sql.SQL("%(session_id)s")
        if queue.customer:
            row[queue.customer] = sql.SQL("%(customer)s")
        if queue.mechanic and mechanic is not None and word not in queue.open:
            row[queue.mechanic] = sql.SQL("%(mechanic)s")
        if queue.updated_at:
            row[queue.updated_at] = now
        needs = fill.row(row, queue.table)
        if word is not None:
            now_needed += needs
            ctes.append(
                sql.SQL("{} as (insert into {} ({}) select {} from s returning 1)").format(
                    sql.Identifier(f"q{n}"), _table(queue.table), *_columns_values(row)
                )
            )
    for n, people in enumerate(seeding.participants(model, catalog)):
        users: list[tuple[str, sql.Composable]] = [("customer", sql.SQL("%(customer)s::uuid"))]
        mechanic_user = _mechanic_user(model, catalog)
        if mechanic is not None and mechanic_user is not None:
            users.append(("mechanic", mechanic_user))
        for role, user in users:
            person: dict[str, sql.Composable] = {
                people.session: sql.SQL("s.{}").format(sql.Identifier(s.id)),
                people.user: user,
                people.role: sql.Literal(role),
            }
            needs = fill.row(person, people.table)
            if not served:
                continue
            now_needed += needs
            insert = "{} as (insert into {} ({}) select {} from s where {} is not null returning 1)"
            ctes.append(
                sql.SQL(insert).format(
                    sql.Identifier(f"p{n}_{role}"), _table(people.table), *_columns_values(person), user
                )
            )
    if now_needed:
        raise fill.refusal()
    request_id = (
        sql.SQL("(select {} from r)").format(sql.Identifier(r.id)) if request is not None else sql.NULL
    )
    statement = sql.SQL("with {} select (select {} from s), {}::uuid").format(
        sql.SQL(", ").join(ctes), sql.Identifier(s.id), request_id
    )
    return statement, params


def _queue_word(model: Model, queue: Queue, status: str, assigned: bool, role: str | None) -> str | None:
    """The word of a seeded session's row in ``queue``: open while it waits, taken once a mechanic
    has it, done when it is over, cancelled with it, expired where the state's request expired (as
    the stale cleanup leaves it); None where the queue has no such word, or the state puts its
    session in no queue (``role`` None: an orphan, which no mechanic can accept)."""
    s = model.sessions
    if role is None:
        return None
    if role == "expired":
        return queue.expired
    if status == s.cancelled:
        return queue.cancelled
    if status in s.done:
        return next(iter(queue.done), None)
    if status in s.live or (assigned and status not in s.open):
        return next(iter(queue.taken), None)
    return queue.open[0]


class _Filler:
    """Completes the rows of one seed statement: declared values, the reference app's extras, then
    a value for every other required column; keeps every ``Need`` met on the way, once per column."""

    def __init__(
        self,
        model: Model,
        catalog: Catalog,
        known: Mapping[tuple[str, tuple[str, ...]], str],
        params: dict[str, Any],
    ) -> None:
        self.model, self.catalog, self.known, self.params = model, catalog, known, params
        self.needs: dict[tuple[str, str], seeding.Need] = {}

    def row(
        self,
        row: dict[str, sql.Composable],
        table: str,
        names: tuple[str, ...] = (),
        extras: Mapping[str, sql.Composable | None] | None = None,
    ) -> list[seeding.Need]:
        """Complete ``row`` of ``table`` in place; return what it needs that pitstop cannot make."""
        declared, needs = seeding.declared_fills(self.model, self.catalog, table)
        for column, value in declared.items():
            row[column] = self._value(value)
        _extras(row, self.catalog, table, names, extras or {})
        part = seeding.part_of(self.model, table)
        made, missing = seeding.required_fills(self.catalog, table, set(row), self.known, part)
        for column, value in made.items():
            row[column] = self._value(value)
        needs += missing
        for need in needs:
            self.needs.setdefault((need.table, need.column), need)
        return needs

    def _value(self, fill: seeding.Fill) -> sql.Composable:
        if fill.kind == "now":
            return sql.SQL("now()")
        if fill.kind == "param":
            return sql.Placeholder(fill.text)
        name = f"v{len(self.params)}"  # a parameter, never pasted: a literal's % is no placeholder
        self.params[name] = fill.text
        return sql.Placeholder(name)

    def refusal(self) -> BadInput:
        """One error naming every column of every table the named states write that needs a value,
        and every declared value that does not fit."""
        needs = [n for n in self.needs.values() if not n.declared]
        wrong = [n for n in self.needs.values() if n.declared]
        declare: dict[str, list[str]] = {}
        for need in needs:
            if need.part is not None:
                declare.setdefault(need.part, []).append(f"{need.column} = {need.example}")
        fixes = [f"declare [tool.pitstop.model.{p}.values] {', '.join(ls)}" for p, ls in declare.items()]
        if any(need.part is None for need in needs):
            fixes.append("give the other tables' columns a default")
        if wrong:
            fixes.append("correct the declared values named")
        said = []
        if needs:
            many = len(needs) > 1
            said.append(
                f"{len(needs)} required column{'s' if many else ''} (NOT NULL, no default, not named by the "
                f"model) need{'' if many else 's'} a value pitstop cannot make"
            )
        if wrong:
            said.append(f"{len(wrong)} declared value{'s do' if len(wrong) > 1 else ' does'} not fit")
        return BadInput(
            f"cannot seed a state: {' and '.join(said)}:\n    "
            + "\n    ".join(str(n) for n in (*needs, *wrong)),
            fix="; ".join(fixes) + " (nothing was written)",
        )


def _mechanic_user(model: Model, catalog: Catalog) -> sql.Composable | None:
    """The seeded mechanic's sign-in user, as an expression; None when mechanics have none."""
    how = seeding.mechanic_is_user(model, catalog)
    if how == "id":
        return sql.SQL("%(mechanic)s::uuid")
    if how == "user":
        m = model.mechanics
        return sql.SQL("(select m.{} from {} m where m.{} = %(mechanic)s::uuid)").format(
            sql.Identifier(m.user), _table(m.table), sql.Identifier(m.id)
        )
    return None


def _table(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split(".", 1))


def _columns_values(row: dict[str, sql.Composable]) -> tuple[sql.Composed, sql.Composed]:
    return sql.SQL(", ").join(sql.Identifier(c) for c in row), sql.SQL(", ").join(row.values())


_EXTRA_FITS: dict[str, Callable[[Column], bool]] = {
    "plan": lambda c: c.is_text,
    "vehicle": lambda c: c.type in ("json", "jsonb"),
    "started_at": lambda c: c.is_timestamptz,
    "accepted_at": lambda c: c.is_timestamptz,
}


def _extras(
    row: dict[str, sql.Composable],
    catalog: Catalog,
    table: str,
    names: tuple[str, ...],
    values: Mapping[str, sql.Composable | None],
) -> None:
    """Add the reference app's extra columns that ``table`` has with a fitting type (not the model's own)."""
    for name in names:
        column = catalog.column(table, name)
        value = values[name]
        if column is not None and value is not None and name not in row and _EXTRA_FITS[name](column):
            row[name] = value


def translate(exc: psycopg.Error) -> PitstopError:
    """pitstop's error for a database error: its SQLSTATE, the server's message and what to check.

    Bad data or a schema that does not fit is bad input (exit 2); a lost
    connection or a statement that ran out of time is unreachable (exit 4).
    """
    diag = exc.diag
    message = diag.message_primary or _first_line(exc)
    hint = diag.message_hint
    if isinstance(exc, NoAnswer):  # given up on the client: no server said anything
        return Unreachable(
            f"{exc} (its statement timeout and {CLIENT_MARGIN_S} s more): its server may be stopped "
            "or overloaded, so pitstop closed the connection; the statement is one transaction: "
            "it was written in full or not at all",
            fix="check that the database server runs and is not stopped or overloaded; "
            "pitstop reconnects on its next call",
        )
    if exc.sqlstate == "PT403":
        return Refused(message, fix=hint)
    if exc.sqlstate in ("PT404", "PT409", "22023", "22P02"):
        return BadInput(message, fix=hint)
    if isinstance(exc, _NOT_INSTALLED):
        return BadInput(
            f"the pitstop functions are not installed in this database ({message})",
            fix="run `pitstop install` (or apply the output of `pitstop sql` as a migration)",
        )
    if isinstance(exc, _APP_SCHEMA_MISSING):
        return BadInput(
            f"the app's tables are missing ({message})",
            fix="apply the app's migrations, or `pitstop install --with-app-schema` on a blank database",
        )
    if isinstance(exc, errors.QueryCanceled | errors.LockNotAvailable):
        return Unreachable(
            f"the database did not finish in time: {message}",
            fix="another session may hold locks on the app's tables (see pg_stat_activity); run again",
        )
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError) and (
        exc.sqlstate is None or exc.sqlstate.startswith("08") or exc.sqlstate in _SERVER_ENDED
    ):
        if exc.sqlstate in _SERVER_ENDED:
            written = "the server ended the statement, so it was rolled back: nothing of it was written"
        else:
            written = "the statement is one transaction: it was written in full or not at all"
        return Unreachable(
            f"lost the database connection: {message}; {written}",
            fix="check that the database server is running; pitstop reconnects on its next call",
        )
    if exc.sqlstate and exc.sqlstate[:2] in ("53", "54", "55", "57", "58", "XX"):
        return Unreachable(
            f"the database failed [{exc.sqlstate}]: {message}", fix="see the database server's log"
        )
    if isinstance(exc, errors.InsufficientPrivilege):
        return BadInput(
            f"the database refused [{exc.sqlstate}]: {message}",
            fix="connect as the database's owner (or a role with its rights), as `pitstop install` did",
        )
    detail = f" ({diag.message_detail})" if diag.message_detail else ""
    return BadInput(
        f"the database refused a statement [{exc.sqlstate or 'no SQLSTATE'}]: {message}{detail}",
        fix=hint
        or "the database's schema may not fit what pitstop expects: run `pitstop doctor`, "
        "and `pitstop install` again after a migration",
    )


def _where(endpoint: Endpoint, port: int, dbname: str) -> str:
    """host:port/database (a socket has no port)."""
    where = endpoint.describe()
    if not endpoint.is_socket:
        where += f":{port}"
    return f"{where}/{dbname}"


def _on_loopback(endpoint: Endpoint) -> bool:
    return is_loopback(endpoint.address or endpoint.host)


def _dropped(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server has ended ``conn``, found without a round trip.

    An idle connection has nothing to read unless the server said goodbye
    (a restart's "terminating connection") or closed it.
    """
    if conn.closed or conn.broken:
        return True
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        return False
    # Read what is there: the goodbye message, then (on a second read) the end of the stream.
    for _ in range(3):
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
        if not readable:
            break
        try:
            conn.pgconn.consume_input()
        except psycopg.OperationalError:
            return True
    return conn.pgconn.status != pq.ConnStatus.OK


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# libpq's and psycopg's words for a connection string they will not use, and the server's for a
# setting in its ``options`` that it will not take: the URL is to change, not the server.
_BAD_OPTION = re.compile(
    r"bad value for|invalid (?:[\w ]+ )?value|invalid port number|for connection option"
    r"|could not parse network address|could not match \d+ (?:host names|port numbers)"
    r"|invalid URI|invalid connection option|missing \"=\"|unterminated quoted string"
    r"|unrecognized configuration parameter|invalid command-line argument"
)
# A login the server refused: SQLSTATE 28P01 (invalid_password) or 28000
# (invalid_authorization_specification), which a failed connection does not carry (no result holds
# it) so its words are read; "no password supplied" is libpq's; "Tenant or user not found" is
# Supabase's pooler (Supavisor) not knowing the user name (postgres.<project ref>).
_LOGIN_REFUSED = re.compile(
    r"authentication failed|no password supplied|role \"[^\"]*\" does not exist|pg_hba\.conf"
    r"|Tenant or user not found"
)
_NO_DATABASE = re.compile(r"database \"[^\"]*\" does not exist")  # SQLSTATE 3D000
# psycopg's prefix of a connection error, before libpq's words.
_ATTEMPT_PREFIX = re.compile(r"^connection (?:is bad|failed): ")
# libpq's prefix of a failed attempt: `connection to server at "h" (a), port 5432 failed: FATAL:  …`.
_ATTEMPT = re.compile(r"connection to server (?P<where>.*?) failed: (?:FATAL:\s+)?(?P<reason>.*)")


def connect_error(exc: psycopg.Error, passwords: tuple[str, ...] = ()) -> PitstopError:
    """pitstop's error for a connection that was not made.

    A URL that libpq or psycopg will not use, a login the server refused and a
    database it does not have are bad input (exit 2, as a rejected key is for
    the other stores); a server that did not answer is unreachable (exit 4).
    ``passwords``: the URL's password as it may be written (``harness.store.safety.passwords_in``),
    scrubbed from libpq's and psycopg's words (which may quote a fragment of the
    URL); the server's (a refused login, a missing database) are shown as said,
    since the server is never told the password and the user name may be alike.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # psycopg's own words before libpq's; each failed attempt (a host with two addresses) is a line.
    reasons = [_ATTEMPT_PREFIX.sub("", line) for line in lines]
    first = reasons[0] if reasons else type(exc).__name__  # an exception may say nothing
    login = next((r for r in reasons if _LOGIN_REFUSED.search(r)), None)
    # psycopg (3.3) gives a failed connection no SQLSTATE (no result holds one), so the server's
    # words are read; the SQLSTATEs are checked too in case a later version sets them.
    if login is not None or exc.sqlstate in ("28P01", "28000"):
        said = _server_words(login or first)
        fix = f"check the user name and password in {DATABASE_URL_NAMED}"
        if "pg_hba.conf" in said:
            fix += ", and that the server's pg_hba.conf lets this host in"
        elif "Tenant or user not found" in said:
            fix += " (Supabase's pooler takes the user as postgres.<project ref>)"
        return BadInput(f"the database refused the login: {said}", fix=fix)
    missing = next((r for r in reasons if _NO_DATABASE.search(r)), None)
    if missing is not None or exc.sqlstate == "3D000":
        return BadInput(
            f"the database server refused the connection: {_server_words(missing or first)}",
            fix=f"check the database name (the URL's path, after host:port/) in {DATABASE_URL_NAMED}",
        )
    if isinstance(exc, psycopg.ProgrammingError) or (reasons and _BAD_OPTION.search(reasons[0])):
        return _bad_url(exc, passwords)
    return Unreachable(
        f"could not connect to the database: {scrub(_first_line(exc), passwords)}",
        fix="check --database-url / DATABASE_URL and that the server is running",
    )


def _bad_url(exc: psycopg.Error, passwords: tuple[str, ...] = ()) -> BadInput:
    """The database URL, or an option in it, that psycopg, libpq or the server will not take."""
    reason = _server_words(_ATTEMPT_PREFIX.sub("", _first_line(exc)))
    reason = re.sub(r"(://[^:/@\s\"]*:)[^@\s\"]*@", r"\1***@", reason)  # no password in the message
    reason = scrub(reason, passwords)  # nor the fragment of it libpq quotes
    option = _option_named(reason)
    if query := re.search(r'invalid URI query parameter: "([^"]*)"', reason):
        fix = f"remove ?{query[1]}= from {DATABASE_URL_NAMED}: it is not a libpq connection option"
    elif option is not None:
        fix = f"correct {option} in {DATABASE_URL_NAMED}, or leave it out"
    else:
        fix = f"give {DATABASE_URL_NAMED} as postgresql://user:password@127.0.0.1:5432/postgres"
    return BadInput(f"the database URL is not a valid connection string: {reason}", fix=fix)


def _server_words(line: str) -> str:
    """What the server (or libpq) said in a failed attempt's line, and to which server."""
    found = _ATTEMPT.search(line)
    if found is None:
        return line
    return f"{found['reason'].strip()} (server {found['where']})"


def _option_named(reason: str) -> str | None:
    """The connection option (libpq's keyword) that ``reason`` names, if any."""
    if quoted := re.search(r'for connection option "(\w+)"', reason):
        return quoted[1]
    if 'parameter "' in reason or "command-line argument" in reason:  # the server's, for a -c setting
        return "options"
    if "network address" in reason:
        return "hostaddr"
    keywords = {o.keyword.decode() for o in pq.Conninfo.get_defaults()}
    return next((w for w in re.findall(r"\w+", reason) if w in keywords), None)
