"""``pitstop inspect``: what pitstop reads in a database's catalog, read-only.

Three answers: the foreign-key footprint a purge follows (``harness.rules.model.footprint``),
whether the configured model fits (``harness.rules.model.fit``, the checks ``install``
makes), and, when no model is declared or one is asked for, a proposed
``[tool.pitstop.model]`` (``harness.rules.model.propose``). The session is set to
read-only before anything is read.

A proposal that install would accept is then tried (``first_cleanup``): in one transaction that
is always rolled back, its rules are installed and the first ``pitstop cleanup`` is run, and the
rows of sessions and requests it changed are counted, those of non-test users apart. Nothing of
it stays: not the ``pitstop`` schema, not a changed row, whether it ends or fails midway (a
connection lost midway ends the transaction on the server, uncommitted).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from harness.errors import PitstopError
from harness.json_types import JSON
from harness.rules.marker import DEFAULT_TEST_DOMAIN
from harness.rules.model import Model
from harness.rules.model.catalog import Catalog
from harness.rules.model.fit import Misfit, misfits
from harness.rules.model.footprint import Footprint, footprint
from harness.rules.model.propose import FirstCleanup, Proposal, default_reader, propose, value_reader
from harness.rules.sql import migration
from harness.store.postgres import PostgresStore, translate

# What `pitstop cleanup` runs with when given no thresholds: what the first cleanup would do.
WAITING_MINUTES = 15
ORPHAN_MINUTES = 20


@dataclass(frozen=True)
class Inspection:
    target: str
    model: Model
    declared: bool  # [tool.pitstop.model] was there (else: the reference app's defaults)
    source: str | None  # the configuration file read, if any
    misfits: tuple[Misfit, ...]
    footprint: Footprint | None
    footprint_of: str | None  # "model" or "proposal": whose tables it starts from
    footprint_problem: str | None
    proposal: Proposal | None

    def to_json(self) -> JSON:
        rows: list[dict[str, Any]] = []
        for step in self.footprint.steps if self.footprint else ():
            for edge in step.edges:
                rows.append(
                    {
                        "table": step.table,
                        "column": edge.column,
                        "parent": edge.parent,
                        "parent_column": edge.parent_column,
                        "on_delete": edge.on_delete,
                        "depth": step.depth,
                    }
                )
        return {
            "target": self.target,
            "footprint": rows,
            "footprint_of": self.footprint_of,
            "footprint_problem": self.footprint_problem,
            "model": {
                "declared": self.declared,
                "source": self.source,
                "ok": not self.misfits,
                "misfits": [dataclasses.asdict(m) for m in self.misfits],
            },
            "proposal": self.proposal.to_json() if self.proposal else None,
        }

    def lines(self) -> list[str]:
        where = f" in {self.source}" if self.source else ""
        if self.declared:
            out = [f"model: [tool.pitstop.model]{where}"]
        else:
            out = [f"model: the reference app's (no [tool.pitstop.model]{where or ' configured'})"]
        if not self.misfits:
            out.append(f"  ok: it fits ({', '.join(self.model.tables)})")
        else:
            out.append("  does not fit (install would refuse it):")
            for m in self.misfits:
                out += [f"    {m.key}: {m.message}", f"      fix: {m.fix}"]
        out.append("")
        out += self._footprint_lines()
        if self.proposal is None:
            if self.misfits:
                out += ["", "`pitstop inspect --propose` proposes a model from the database"]
            return out
        out.append("")
        p = self.proposal
        if p.ok:
            out.append("proposal: install accepts it; put it in pyproject.toml (or the --config file):")
        else:
            out.append("proposal: incomplete: fill in what is marked NOT FOUND, then check it again:")
        out += ["", *p.toml.rstrip("\n").split("\n")]
        if p.misfits:
            out += ["", "as it stands, install would refuse it:"]
            for m in p.misfits:
                out += [f"  {m.key}: {m.message}", f"    fix: {m.fix}"]
        if p.notes:
            out += ["", "notes:", *(f"  - {n}" for n in p.notes)]
        return out

    def _footprint_lines(self) -> list[str]:
        if self.footprint_problem:
            return [f"footprint of a purge: cannot follow it: {self.footprint_problem}"]
        if self.footprint is None:
            return ["footprint of a purge: unknown (the model's tables are not in the database)"]
        whose = "the proposal's" if self.footprint_of == "proposal" else "the model's"
        out = [f"footprint of a purge (from {whose} {', '.join(self.footprint.roots)}):"]
        if not self.footprint.steps:
            out.append("  nothing else refers to them")
        for step in self.footprint.steps:
            for edge in step.edges:
                out.append(
                    f"  depth {step.depth}  {step.table}.{edge.column} -> {edge.parent}.{edge.parent_column}"
                    f"  on delete {edge.on_delete}"
                )
        for fk in self.footprint.ignored:
            out.append(f"  (not followed: {fk.table}.{fk.columns[0]} -> {fk.ref_table}, it closes a cycle)")
        return out


def inspect_database(
    store: PostgresStore,
    *,
    declared: bool,
    source: str | None,
    want_proposal: bool,
    test_domain: str | None = None,
) -> Inspection:
    """Read ``store``'s catalog (read-only) and answer for ``store.model``; a proposal is tried in a
    transaction that is rolled back (``first_cleanup``), its test users those of ``test_domain``
    (default: the installed rules' domain, else pitstop's)."""
    conn = store.connection
    try:
        conn.execute("set default_transaction_read_only = on")  # inspect never writes
    except psycopg.Error as exc:
        raise translate(exc) from None
    catalog = store.catalog()
    model = store.model
    found = tuple(misfits(model, catalog))
    proposal = propose(catalog, value_reader(conn), default_reader(conn)) if want_proposal else None
    if proposal is not None:
        domain = test_domain or _installed_domain(store) or DEFAULT_TEST_DOMAIN
        tried = first_cleanup(conn, proposal, catalog, domain)
        notes = proposal.notes
        if tried.rows:
            s, r = proposal.model.sessions, proposal.model.requests
            keys = [f"sessions.open ({', '.join(s.open)})"]
            if proposal.model.has_requests:
                keys.append(f"requests.pending ({r.pending})")
            keys += [f"queues.{name}.open ({', '.join(q.open)})" for name, q in proposal.model.queues]
            words = ", ".join(keys[:-1]) + " and " + keys[-1] if len(keys) > 1 else keys[0]
            notes += (
                f"first cleanup: it would change {tried.rows} row{'s' if tried.rows != 1 else ''} of "
                f"non-test users: check {words} before you run it; every stale row in these words is "
                "cancelled or expired",
            )
        proposal = dataclasses.replace(proposal, first_cleanup=tried, notes=notes)
    plan: Footprint | None = None
    of: str | None = None
    problem: str | None = None
    for name, candidate in (("model", model), ("proposal", proposal.model if proposal else None)):
        if candidate is not None and _roots_exist(candidate, catalog):
            try:
                plan, of = footprint(catalog, candidate), name
            except PitstopError as exc:
                problem = exc.message
            break
    return Inspection(store.describe(), model, declared, source, found, plan, of, problem, proposal)


def first_cleanup(
    conn: psycopg.Connection[Any],
    proposal: Proposal,
    catalog: Catalog,
    test_domain: str,
    *,
    waiting_minutes: int = WAITING_MINUTES,
    orphan_minutes: int = ORPHAN_MINUTES,
) -> FirstCleanup:
    """What the first ``pitstop cleanup`` with ``proposal`` would change, tried on ``conn``'s database.

    In one transaction, always rolled back: the proposal's rules are installed (as ``install`` would,
    for ``catalog``'s foreign keys), the stale cleanup runs, and the rows of the sessions, requests
    and queue tables it changed (their xmin is this transaction's) are counted by their customer (a
    queue row's: its customer column, else its session's), a test user or not. The connection's
    statement and lock timeouts bound every step. When it cannot be tried, the answer says why, and
    nothing was written.
    """
    base = FirstCleanup(waiting_minutes, orphan_minutes, test_domain)
    if not proposal.ok:
        return dataclasses.replace(
            base,
            unmeasured="the proposal is incomplete (NOT FOUND, or install would refuse it); once it is "
            "filled in and installed, `pitstop cleanup --dry-run` says what the cleanup would change",
        )
    model = proposal.model
    try:
        script = migration(test_domain, model, catalog)
    except PitstopError as exc:
        return dataclasses.replace(base, unmeasured=f"its rules could not be rendered: {exc.message}")
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("set transaction read write")  # inspect's session is read-only; this is undone
            conn.execute(script.encode())
            conn.execute("select pitstop.cleanup_stale(%s, %s)", (waiting_minutes, orphan_minutes))
            row = conn.execute(_changed(model)).fetchone()
    except psycopg.Error as exc:
        return dataclasses.replace(
            base, unmeasured=f"trying it failed, and nothing of it stayed: {translate(exc).message}"
        )
    assert row is not None
    sessions, requests, test_rows, *queues = (int(v) for v in row)
    return dataclasses.replace(
        base,
        sessions=sessions,
        requests=requests,
        test_rows=test_rows,
        queues=tuple((name, n) for (name, _), n in zip(model.queues, queues, strict=True)),
    )


def _changed(model: Model) -> sql.Composed:
    """The rows of the sessions, requests and queue tables this transaction changed: of non-test
    users' sessions, of their requests, of test users' (every table), then of non-test users' rows
    of each declared queue."""
    s, r = model.sessions, model.requests
    # A row this transaction wrote carries its id as xmin (the cleanup runs in no subtransaction).
    mine = sql.SQL("t.xmin::text = (txid_current() % 4294967296)::text")

    def count(table: str, user: sql.Composable, is_test: bool) -> sql.Composed:
        return sql.SQL("(select count(*) from {} t where {} and {}pitstop.is_test_user({}))").format(
            sql.Identifier(*table.split(".", 1)), mine, sql.SQL("") if is_test else sql.SQL("not "), user
        )

    def own(column: str) -> sql.Composable:
        return sql.SQL("t.{}").format(sql.Identifier(column))

    # A queue row's user: its customer column, else its session's customer (a row without one counts
    # as a non-test user's).
    queues = [
        (
            q.table,
            own(q.customer)
            if q.customer
            else sql.SQL("(select s.{} from {} s where s.{} = t.{})").format(
                sql.Identifier(s.customer), sql.Identifier(*s.table.split(".", 1)), sql.Identifier(s.id),
                sql.Identifier(q.session),
            ),
        )
        for _, q in model.queues
    ]  # fmt: skip
    none = sql.SQL("0::bigint")
    has_requests = model.has_requests
    tested: list[sql.Composable] = [count(s.table, own(s.customer), True)]
    tested.append(count(r.table, own(r.customer), True) if has_requests else none)
    tested += [count(table, user, True) for table, user in queues]
    return sql.SQL("select {}, {}, {}{}").format(
        count(s.table, own(s.customer), False),
        count(r.table, own(r.customer), False) if has_requests else none,
        sql.SQL(" + ").join(tested),
        sql.SQL("").join(sql.SQL(", {}").format(count(table, user, False)) for table, user in queues),
    )


def _installed_domain(store: PostgresStore) -> str | None:
    """The test domain the installed rules were given, if pitstop is installed and it can be read."""
    try:
        return store.installed().get("test_domain")
    except PitstopError:
        return None


def _roots_exist(model: Model, catalog: Catalog) -> bool:
    return all(t in catalog.tables for t in model.roots)
