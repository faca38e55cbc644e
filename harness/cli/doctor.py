"""``pitstop doctor``: a read-only check of a target, one ``Check`` per question.

Which checks apply depends on the store:

- ``postgres``: ``reachable``, ``auth_users``, ``functions``, ``test_domain``,
  ``privileges``, ``row_level_security`` (the catalog can be read);
- ``supabase``: ``reachable``, ``functions``, ``test_domain`` (through the
  ``public.pitstop_installed`` wrapper; the catalog is out of the API's reach);
- ``api``: ``reachable``, ``debug_api`` (the app keeps its own rules).

Nothing here writes: the store comes from ``open_store`` (no guard is needed
for reading; the Supabase key check in it still applies), and the postgres
checks run on a session set to read-only. A target that does not answer
ends the checks with one failing ``reachable``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import psycopg
from psycopg.conninfo import conninfo_to_dict

from harness.config.settings import Settings, store_kind
from harness.errors import BadInput, ExitCode, PitstopError, Unreachable
from harness.rules.model import Model
from harness.rules.model.catalog import Catalog
from harness.rules.model.fit import misfits
from harness.rules.model.footprint import footprint
from harness.rules.sql import rules_hash
from harness.store import JSON, Store, open_store
from harness.version import __version__

if TYPE_CHECKING:
    from harness.store.api import ApiStore
    from harness.store.auth_users import AuthShape
    from harness.store.postgres import PostgresStore
    from harness.store.supabase import SupabaseStore

Level = Literal["error", "warning"]
REACHABLE = "reachable"
API_ROLES = ("service_role", "anon", "authenticated")
# How many names a message lists before "and N more".
SHOWN = 4


@dataclass(frozen=True)
class Check:
    """One answer: ``ok``, or not with a ``fix``; a failed ``warning`` does not fail the target."""

    name: str
    ok: bool
    message: str
    fix: str | None = None
    level: Level = "error"

    @property
    def failed(self) -> bool:
        return not self.ok and self.level == "error"

    def to_json(self) -> JSON:
        return {
            "name": self.name,
            "ok": self.ok,
            "message": self.message,
            "fix": self.fix,
            "level": self.level,
        }


@dataclass(frozen=True)
class Report:
    """The checks of one target, and what they add up to."""

    target: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def unreachable(self) -> Check | None:
        """The failed ``reachable`` check, when the target did not answer."""
        return next((c for c in self.checks if c.name == REACHABLE and not c.ok), None)

    @property
    def exit_code(self) -> ExitCode:
        if self.unreachable is not None:
            return ExitCode.UNREACHABLE
        return ExitCode.OK if self.ok else ExitCode.PROBLEMS

    def to_json(self) -> JSON:
        return {"checks": [c.to_json() for c in self.checks], "ok": self.ok}

    def lines(self) -> list[str]:
        """One line per check (``ok``, ``warn`` or ``FAIL``), with a ``fix:`` line under each not ok."""
        width = max((len(c.name) for c in self.checks), default=0)
        out = []
        for c in self.checks:
            status = "ok" if c.ok else "FAIL" if c.level == "error" else "warn"
            out.append(f"{status:<4} {c.name:<{width}}  {c.message}")
            if not c.ok and c.fix:
                out.append(f"       fix: {c.fix}")
        return out


def diagnose(settings: Settings) -> Report:
    """Open the target that ``settings`` name, run its checks, close it."""
    try:
        store = open_store(settings)
    except Unreachable as exc:
        return Report(_describe(settings), (_unreachable(exc),))
    try:
        return Report(store.describe(), tuple(run_checks(store, test_domain=settings.test_domain)))
    finally:
        store.close()


def run_checks(store: Store, *, test_domain: str) -> list[Check]:
    """The checks that apply to ``store``; a target that stops answering ends them with ``reachable``."""
    checks: dict[str, Check] = {}
    try:
        for check in _checks(store, test_domain):
            checks[check.name] = check
            if check.name == REACHABLE and not check.ok:
                break
    except Unreachable as exc:
        checks[REACHABLE] = _unreachable(exc)
    return list(checks.values())


def _checks(store: Store, test_domain: str) -> Iterator[Check]:
    # Dispatched by name: importing the supabase store loads supabase-py, which only it needs.
    if store.name == "postgres":
        return _postgres_checks(cast("PostgresStore", store), test_domain)
    if store.name == "supabase":
        return _supabase_checks(cast("SupabaseStore", store), test_domain)
    return _api_checks(cast("ApiStore", store))


# -- the stores ---------------------------------------------------------------


def _postgres_checks(store: PostgresStore, test_domain: str) -> Iterator[Check]:
    conn = store.connection
    _rows(conn, "set default_transaction_read_only = on")  # belt and braces: doctor never writes
    version = conn.info.parameter_status("server_version") or "?"
    yield Check(REACHABLE, True, f"PostgreSQL {version} answers")
    shape = store.auth_shape()
    yield _auth_users(shape)
    catalog = store.catalog()
    yield _model(store.model, catalog)
    installed = store.installed()
    yield _functions(
        installed,
        model=store.model,
        rules=rules_hash(store.model, catalog),
        install="run `pitstop install` (on a blank database: `pitstop install --with-app-schema`)",
        again="run `pitstop install` again",
    )
    yield _test_domain(installed, test_domain, install=f"`pitstop install --test-domain {test_domain}`")
    yield _privileges(conn, supabase=shape.is_supabase)
    tables = _app_tables(store.model, catalog)
    yield _row_level_security(conn, tables, others=any(t not in tables for t in catalog.app_tables()))


def _supabase_checks(store: SupabaseStore, test_domain: str) -> Iterator[Check]:
    from harness.store.supabase import INSTALL_FIX

    installed = store.installed()
    yield Check(REACHABLE, True, f"PostgREST answers at {store.url}")
    migration = "pitstop sql --supabase-migration supabase/migrations"
    yield _functions(
        installed,
        model=store.model,
        rules=None,  # rendered for a catalog the API cannot show: the version and the model are compared
        install=INSTALL_FIX,
        again=f"write the migration again (`{migration}`) and `supabase db push`",
        absent=f" (PostgREST has no public.pitstop_installed: none, or older than pitstop {__version__})",
    )
    domain = f"`pitstop sql --test-domain {test_domain} --supabase-migration supabase/migrations`"
    yield _test_domain(installed, test_domain, install=f"{domain} and `supabase db push`")


def _api_checks(store: ApiStore) -> Iterator[Check]:
    # Opening the store called the debug API once: the app answers and takes the token.
    yield Check(REACHABLE, True, f"the app answers at {store.app_url}")
    try:
        store.health()
    except Unreachable:
        raise
    except PitstopError as exc:
        yield Check("debug_api", False, exc.message, exc.fix)
    else:
        yield Check("debug_api", True, "/api/debug/session-health answers with the admin token")
    # The other checks read the database's catalog: they need --database-url (the postgres store).


# -- the checks ------------------------------------------------------------------


def _auth_users(shape: AuthShape) -> Check:
    identities = "with auth.identities" if shape.identities else "no auth.identities"
    try:
        shape.check()
    except BadInput as exc:
        message = f"{exc.message} ({identities})" if shape.columns else exc.message
        return Check("auth_users", False, message, exc.fix)
    if shape.is_supabase:
        return Check("auth_users", True, f"Supabase Auth's auth.users, {identities}")
    message = f"{shape.describe()}, {identities}"
    if not shape.sign_in_gaps:
        return Check("auth_users", True, message)
    return Check(
        "auth_users",
        False,
        f"{message}; Supabase Auth's sign-in would also need {_names(shape.sign_in_gaps)}",
        "nothing, if the app signs users in on its own; if it uses Supabase Auth, point pitstop at "
        "the Supabase database (its auth.users has those columns)",
        level="warning",
    )


def _model(model: Model, catalog: Catalog) -> Check:
    found = misfits(model, catalog)
    if found:
        return Check(
            "model",
            False,
            "[tool.pitstop.model] does not fit the database: " + "; ".join(str(f) for f in found),
            "correct [tool.pitstop.model] (`pitstop inspect` proposes one from the database)",
        )
    return Check("model", True, f"the model fits: {', '.join(model.tables)}")


def _functions(
    installed: dict[str, str], *, model: Model, rules: str | None, install: str, again: str, absent: str = ""
) -> Check:
    """``rules``: the hash of what this pitstop renders for the target (None: not comparable)."""
    if not installed:
        return Check("functions", False, f"pitstop's functions are not installed{absent}", install)
    version, digest = installed.get("version"), installed.get("sql_hash")
    if version is None or digest is None:
        return Check("functions", False, f"installed by a pitstop older than {__version__}", again)
    if version != __version__:
        return Check("functions", False, f"installed by pitstop {version}, not pitstop {__version__}", again)
    if model.installed_for_another(installed):
        return Check("functions", False, "installed for another [tool.pitstop.model] than this one", again)
    if rules is not None and digest != rules:
        return Check(
            "functions",
            False,
            f"installed rules (sql {digest[:8]}) differ from what pitstop {__version__} renders for this "
            f"model and schema (sql {rules[:8]}): the schema's foreign keys changed since the install?",
            again,
        )
    return Check("functions", True, f"pitstop {version} installed (sql {digest[:8]})")


def _test_domain(installed: dict[str, str], configured: str, *, install: str) -> Check:
    """``install``: the command that records ``configured``."""
    recorded = installed.get("test_domain")
    if recorded is None:
        return Check("test_domain", False, "no test domain recorded", f"run {install}")
    if recorded != configured:
        return Check(
            "test_domain",
            False,
            f"the database enforces {recorded}, pitstop is configured for {configured}",
            f"run {install} to enforce {configured}, or pass --test-domain {recorded} "
            f"(or set PITSTOP_TEST_DOMAIN={recorded})",
        )
    return Check("test_domain", True, f"{recorded} (test users' emails end in @{recorded})")


def _privileges(conn: psycopg.Connection[Any], *, supabase: bool) -> Check:
    """service_role may run every pitstop function (rules and wrappers); anon and authenticated none."""
    functions = _rows(conn, FUNCTIONS)
    if not functions:
        return Check("privileges", True, "nothing to check: pitstop's functions are not installed")
    roles = {
        r for (r,) in _rows(conn, "select rolname from pg_roles where rolname = any(%s)", (list(API_ROLES),))
    }
    may: dict[str, list[str]] = {role: [] for role in roles}
    for role, function in _rows(conn, GRANTED, (list(roles),)):
        may[role].append(function)
    again = "run `pitstop install` again: it grants them to service_role and revokes them from the others"
    too_many = [f"{r} may execute {_names(may[r])}" for r in ("anon", "authenticated") if may.get(r)]
    if too_many:
        return Check("privileges", False, "; ".join(too_many), again)
    kept_out = [r for r in ("anon", "authenticated") if r in roles]
    absent = [r for r in ("anon", "authenticated") if r not in roles]
    tail = (f"; {' and '.join(kept_out)} may not" if kept_out else "") + (
        f"; there is no {' or '.join(absent)} role" if absent else ""
    )
    if "service_role" not in roles:
        return Check(
            "privileges",
            False,
            f"there is no service_role role: only the functions' owner may run them{tail}",
            "if an API client (the supabase store) must run them, create the role "
            "(`create role service_role nologin bypassrls`) and run `pitstop install` again",
            level="error" if supabase else "warning",
        )
    denied = sorted({f for f, _ in functions} - set(may["service_role"]))
    if denied:
        return Check("privileges", False, f"service_role may not execute {_names(denied)}", again)
    return Check("privileges", True, f"service_role may execute the {len(functions)} pitstop functions{tail}")


# pitstop's functions: the rules (schema pitstop) and their API wrappers (public.pitstop_*).
FUNCTIONS = """
    select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.oid
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'pitstop' or (n.nspname = 'public' and starts_with(p.proname, 'pitstop_'))
    order by 1
"""
GRANTED = f"""
    select r.rolname, f.name
    from ({FUNCTIONS}) as f(name, oid) cross join pg_roles r
    where r.rolname = any(%s) and has_function_privilege(r.oid, f.oid, 'execute')
    order by 1, 2
"""


def _app_tables(model: Model, catalog: Catalog) -> list[str]:
    """The model's tables and those of its footprint: what the API must not open to anon."""
    try:
        steps = [step.table for step in footprint(catalog, model).steps]
    except PitstopError:
        steps = []
    return list(dict.fromkeys([*model.tables, *steps]))


def _row_level_security(conn: psycopg.Connection[Any], tables: list[str], *, others: bool) -> Check:
    """``others``: whether the database has app tables the model does not name (which advice fits)."""
    rows = _rows(
        conn,
        "select t, c.relrowsecurity from unnest(%s::text[]) with ordinality as u(t, n)"
        " left join pg_class c on c.oid = to_regclass(t) order by n",
        (tables,),
    )
    missing = [t for t, on in rows if on is None]
    off = [t for t, on in rows if on is False]
    if missing:
        return Check(
            "row_level_security",
            False,
            f"the model's tables are missing: {_names(missing)}",
            # Tables of another name: the model is what is wrong, not the database.
            "declare the app's own tables in [tool.pitstop.model] (`pitstop inspect --propose` proposes "
            "a model)"
            if others
            else "apply the app's migrations, or `pitstop install --with-app-schema` on a blank database",
            level="warning",
        )
    if off:
        return Check(
            "row_level_security",
            False,
            f"row-level security is off on {_names(off)}: the API's anon key can read and write them",
            "; ".join(f"alter table {t} enable row level security" for t in off) + ", and add policies",
            level="warning",
        )
    return Check("row_level_security", True, f"on for the {len(tables)} app tables", level="warning")


# -- helpers ---------------------------------------------------------------------


def _rows(
    conn: psycopg.Connection[Any], query: str, params: Sequence[Any] | None = None
) -> list[tuple[Any, ...]]:
    """A catalog query's rows; a database error becomes pitstop's."""
    from harness.store.postgres import translate

    try:
        cursor = conn.execute(query.encode(), params)
        return cursor.fetchall() if cursor.description else []
    except psycopg.Error as exc:
        raise translate(exc) from None


def _unreachable(exc: Unreachable) -> Check:
    return Check(REACHABLE, False, exc.message, exc.fix)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown if len(names) <= SHOWN else f"{shown} and {len(names) - SHOWN} more"


def _describe(settings: Settings) -> str:
    """The target, as its store would name it, for a target that could not be opened."""
    kind = store_kind(settings)
    if kind == "supabase":
        return f"supabase {(settings.supabase_url or '').rstrip('/')}"
    if kind == "api":
        return f"api {(settings.app_url or '').rstrip('/')}/api/debug"
    params = conninfo_to_dict(settings.database_url or "")
    host, dbname = str(params.get("host") or "localhost"), params.get("dbname") or ""
    if host.startswith("/"):
        return f"postgres unix socket {host}/{dbname}"
    return f"postgres {host}:{params.get('port') or 5432}/{dbname}"
