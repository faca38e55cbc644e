"""A model proposed from the database's catalog, for an app that has not declared one.

The sessions and requests tables are found by name and shape (a name like
``sessions`` / ``requests``, a uuid id, a status column, a created time), the
customer and mechanic columns by their foreign keys (``auth.users`` or a
mechanics-like table) and names, the link between the two tables by a foreign
key, and the status words from the column's enum, its check constraint, or the
values present in the table, mapped to the model's lists by meaning.

Every value is a guess, so every key gets a comment saying where it came from;
a key that could not be found keeps the reference app's value, is marked
``NOT FOUND`` and is listed in ``missing``. The proposal is checked the way
``install`` checks a declaration (``load_model`` of its TOML, then ``misfits``).

A proposal must never be the cause of changed real data, so where a guess could
cancel a real customer's row it is made only on evidence: a word goes into
``open`` (cancelled once stale) only when it is a known waiting word or the
column's default, never when it reads as booked for later, taken, interrupted or
in progress; a link column is chosen by its exact name and foreign key, never one
named as another row's link (``parent_session_id``), with every other candidate
in a note; and with no words to read, or only such links, the key is NOT FOUND.
``harness.cli.inspection`` then tries the first cleanup (``FirstCleanup``).

Queues (``[tool.pitstop.model.queues.<name>]``): a table that refers to the sessions by a foreign
key, has a status column, and is named like a queue (assignment, queue, offer, dispatch, request, …)
or has a mechanic column, is proposed as one, named by its bare name; one of the kind that is never
a queue (participants, messages, events, files, payments, …) is not. A requests-like table with a
customer column stays the requests part; one without a customer column is a queue. Its words are
read by meaning as the others are: ``open`` only on evidence (a known waiting word such as queued or
offered, or the column's default), never a word of a row a mechanic has (accepted, assigned,
scheduled, in progress); ``expired`` and ``cancelled`` only where the column has such a word, else
NOT FOUND. ``holds`` (every open session has a row here: one without is an orphan) is true only on
evidence: the row's session column is NOT NULL and a key to the sessions, a row is made waiting
(the status column's default is an open word), and the app keeps no requests (which would hold the
open sessions themselves); else false, and health reports no orphans for it.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from harness.errors import BadInput
from harness.rules.model.catalog import Catalog, Column, ForeignKey
from harness.rules.model.declaration import PARTS, Mechanics, Model, Queue, Requests, Sessions, load_model
from harness.rules.model.fit import AUTH_USERS, Misfit, misfits

# How many distinct values of a free-text status column are read.
VALUES_READ = 50

# The words a table's name is matched by (substrings of its bare name), best first.
SESSION_NAMES = ("session", "booking", "appointment", "consultation", "meeting", "call", "job", "visit")
REQUEST_NAMES = ("request", "ticket", "inquiry", "enquiry")
MECHANIC_NAMES = ("mechanic", "technician", "expert", "helper", "provider", "specialist", "agent", "worker")
# Column names (substrings), best first; a mechanic's is looked for before a customer's.
MECHANIC_COLUMNS = (*MECHANIC_NAMES, "accepted_by", "assigned", "tech")
CUSTOMER_COLUMNS = (
    "customer",
    "client",
    "driver",
    "owner",
    "requester",
    "requested_by",
    "created_by",
    "user",
)

# Status words by meaning: the tokens of a word (split on _ - and spaces), best first.
# A word goes into ``open`` (cancelled once stale) only on evidence: it is a known waiting word, or
# the column's default and means nothing else. A booking for later, a session a mechanic took, one
# in progress or one that lost its connection for a moment is never open, whatever its age.
OPEN = ("pending", "waiting", "searching", "requested", "queued", "awaiting", "unassigned", "matching")
SCHEDULED = ("scheduled", "schedule", "booked", "upcoming", "reserved", "planned", "future")
LIVE = (
    "live",
    "in_progress",
    "inprogress",
    "progress",
    "active",
    "ongoing",
    "started",
    "running",
    "connected",
)
ENGAGED = ("accepted", "assigned", "matched", "confirmed", "claimed")  # active, neither open nor live
HELD = ("reconnecting", "reconnect", "paused", "on_hold", "hold", "interrupted", "disconnected", "suspended")
DONE = ("completed", "complete", "done", "ended", "finished", "closed", "resolved", "fulfilled")
CANCELLED = ("cancelled", "canceled", "cancel")
TERMINAL = ("expired", "failed", "refunded", "rejected", "declined", "aborted", "abandoned", "timeout",
            "timed_out", "missed", "no_show", "void")  # fmt: skip
R_PENDING = ("pending", "waiting", "open", "new", "requested", "queued", "searching", "awaiting",
             "unassigned", "created")  # fmt: skip
R_ACCEPTED = ("accepted", "assigned", "matched", "claimed", "taken", "confirmed")
R_EXPIRED = ("expired", "timed_out", "timeout", "lapsed", "stale")
R_CANCELLED = ("cancelled", "canceled", "cancel", "withdrawn", "aborted", "rejected", "declined")

# Queues. A table is taken for one by the tokens of its bare name (a token starting with one of these)
# or by a mechanic column; one whose name has a token of NOT_QUEUES is never one (singular tokens).
QUEUE_NAMES = ("assign", "queue", "offer", "dispatch", "request", "match", "invite", "invitation", "bid",
               "claim", "broadcast", "allocation", "ticket", "inquiry", "enquiry")  # fmt: skip
NOT_QUEUES = ("participant", "member", "attendee", "crew", "message", "chat", "event", "log", "history",
              "audit", "note", "comment", "file", "attachment", "photo", "image", "media", "upload",
              "document", "recording", "transcript", "payment", "invoice", "charge", "refund",
              "transaction", "receipt", "payout", "review", "rating", "feedback", "transition",
              "notification", "metric", "stat", "snapshot", "version")  # fmt: skip
# A queue's words by meaning (tokens, best first); a word with tokens of several meanings takes the
# first of cancelled, expired, done, taken, open: a word that also reads as taken is never open.
Q_OPEN = ("queued", "pending", "waiting", "open", "offered", "offering", "searching", "requested",
          "awaiting", "unassigned", "new", "available", "matching", "broadcast", "created")  # fmt: skip
Q_TAKEN = (*ENGAGED, "taken", "accept", "en_route", "enroute", "arrived", "working", *LIVE, *SCHEDULED,
           *HELD)  # fmt: skip
Q_DONE = ("declined", "rejected", "refused", "completed", "complete", "done", "finished", "ended",
          "closed", "resolved", "fulfilled", "failed", "missed", "skipped", "passed", "superseded",
          "reassigned", "no_show")  # fmt: skip
Q_EXPIRED = ("expired", "lapsed", "timed_out", "timeout", "expire", "stale")
Q_CANCELLED = ("cancelled", "canceled", "cancel", "withdrawn", "revoked", "rescinded", "retracted", "pulled",
               "aborted")  # fmt: skip

# Reads the distinct values of ``table.column`` (None: they could not be read).
ValueReader = Callable[[str, str], list[str] | None]
# Reads the word ``table.column`` defaults to (None: no constant default, or it could not be read).
DefaultReader = Callable[[str, str], str | None]


@dataclass(frozen=True)
class FirstCleanup:
    """What the first ``pitstop cleanup`` with a proposal would change, measured by running it on the
    database the proposal was read from, in a transaction that is always rolled back.

    ``unmeasured`` says why there is no count (then the counts are None).
    """

    waiting_minutes: int
    orphan_minutes: int
    test_domain: str
    sessions: int | None = None  # rows of non-test users' sessions it would change
    requests: int | None = None  # rows of non-test users' requests it would change
    test_rows: int | None = None  # rows of test users' sessions, requests and queues it would change
    unmeasured: str | None = None
    # Rows of non-test users it would change in each declared queue, by name (a row's user: its
    # customer column, else its session's customer).
    queues: tuple[tuple[str, int], ...] = ()

    @property
    def rows(self) -> int | None:
        """The rows of non-test users it would change (None: not measured)."""
        if self.sessions is None or self.requests is None:
            return None
        return self.sessions + self.requests + sum(n for _, n in self.queues)

    def summary(self) -> str:
        """One sentence: what the first cleanup would do to the rows of non-test users."""
        rows = self.rows
        if rows is None:
            return (
                "the first `pitstop cleanup` with this model could not be counted, so its effect on the rows "
                f"of non-test users is unknown: {self.unmeasured}"
            )
        when = (
            f"open sessions older than {self.waiting_minutes} min, orphans older than "
            f"{self.orphan_minutes} min"
        )
        if rows == 0:
            changed = "would change no row of non-test users"
        else:
            queues = "".join(f", {_rows(n)} of queue {name}" for name, n in self.queues)
            changed = (
                f"would change {_rows(rows)} of non-test users ({_count(self.sessions, 'session')}, "
                f"{_count(self.requests, 'request')}{queues})"
            )
        return (
            f"the first `pitstop cleanup` with this model ({when}) {changed}, and "
            f"{_rows(self.test_rows or 0)} of test users (an email @{self.test_domain} and pitstop: true): "
            "counted by running it on this database in a transaction that was rolled back"
        )

    def to_json(self) -> dict[str, Any]:
        """Its fields and ``rows``; ``queues`` (by name) only where the model declares queues."""
        out = {**dataclasses.asdict(self), "rows": self.rows}
        del out["queues"]
        if self.queues:
            out["queues"] = dict(self.queues)
        return out


def _rows(n: int) -> str:
    return _count(n, "row")


def _count(n: int | None, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class Proposal:
    model: Model
    comments: dict[str, str]  # by "part.key"
    notes: tuple[str, ...]
    missing: tuple[str, ...]  # the keys that could not be found ("sessions.table", …)
    misfits: tuple[Misfit, ...]  # what install would refuse
    first_cleanup: FirstCleanup | None = None  # measured on the database, when it could be

    @property
    def ok(self) -> bool:
        """A model install accepts, with nothing left to fill in."""
        return not self.missing and not self.misfits

    @property
    def toml(self) -> str:
        head = ""
        if self.first_cleanup is not None:
            head = "".join(f"# {line}\n" for line in _wrap(self.first_cleanup.summary() + "."))
        return head + self.model.to_toml(self.comments)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "toml": self.toml,
            "model": self.model.to_json() if self.ok else None,
            "notes": list(self.notes),
            "missing": list(self.missing),
            "misfits": [dataclasses.asdict(m) for m in self.misfits],
            "first_cleanup": self.first_cleanup.to_json() if self.first_cleanup else None,
        }


def _wrap(text: str, width: int = 98) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    lines[0] = lines[0][:1].upper() + lines[0][1:]
    return lines


def propose(
    catalog: Catalog, read_values: ValueReader | None = None, read_default: DefaultReader | None = None
) -> Proposal:
    """The model that ``catalog`` suggests; ``read_values`` gives a free-text status column's words,
    ``read_default`` a status column's default (evidence for an open word)."""
    return _Builder(
        catalog, read_values or (lambda table, column: None), read_default or (lambda table, column: None)
    ).build()


def value_reader(conn: psycopg.Connection[Any], limit: int = VALUES_READ) -> ValueReader:
    """Reads up to ``limit`` distinct non-null values of a column, in order; None when it cannot."""

    def read(table: str, column: str) -> list[str] | None:
        schema, name = table.split(".", 1)
        query = sql.SQL(
            "select distinct {c}::text from {t} where {c} is not null order by 1 limit {n}"
        ).format(c=sql.Identifier(column), t=sql.Identifier(schema, name), n=sql.Literal(limit))
        try:
            return [str(row[0]) for row in conn.execute(query).fetchall()]
        except psycopg.Error:
            return None

    return read


# A constant default as pg_get_expr prints it: 'word' or 'word'::type.
_DEFAULT = re.compile(r"'((?:[^']|'')*)'(?:::[\w .\"\[\]()]+)?")


def default_reader(conn: psycopg.Connection[Any]) -> DefaultReader:
    """Reads the constant a column defaults to (``'pending'::text`` -> pending); None when it has none."""

    def read(table: str, column: str) -> str | None:
        schema, name = table.split(".", 1)
        try:
            row = conn.execute(
                "select pg_get_expr(d.adbin, d.adrelid) from pg_attrdef d"
                " join pg_class c on c.oid = d.adrelid join pg_namespace n on n.oid = c.relnamespace"
                " join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum"
                " where n.nspname = %s and c.relname = %s and a.attname = %s",
                (schema, name, column),
            ).fetchone()
        except psycopg.Error:
            return None
        found = _DEFAULT.fullmatch(str(row[0]).strip()) if row and row[0] is not None else None
        return found.group(1).replace("''", "'") if found else None

    return read


# -- the search ---------------------------------------------------------------------


class _Builder:
    def __init__(self, catalog: Catalog, read_values: ValueReader, read_default: DefaultReader) -> None:
        self.catalog = catalog
        self.read_values = read_values
        self.read_default = read_default
        self.values: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
        self.comments: dict[str, str] = {}
        self.notes: list[str] = []
        self.missing: list[str] = []

    def set(self, key: str, value: Any, comment: str) -> None:
        part, name = key.rsplit(".", 1)  # a queue's part is queues.<name>
        self.values.setdefault(part, {})[name] = tuple(value) if isinstance(value, list) else value
        self.comments[key] = comment

    def lack(self, key: str, what: str, fill: str, *, note: bool = True) -> None:
        """``key`` was not found: it keeps the reference app's value (a queue's: the default), marked,
        and is listed."""
        part, name = key.rsplit(".", 1)
        self.values.setdefault(part, {}).pop(name, None)
        default = getattr(PARTS[part]() if part in PARTS else Queue(), name)
        self.comments[key] = f"NOT FOUND: {what}; {fill}"
        self.missing.append(key)
        if note:
            whose = "the reference app's" if part in PARTS else "the default"
            self.notes.append(f"{key}: not found: {what}; {fill} (left at {whose} {default!r})")

    def build(self) -> Proposal:
        sessions = self._table("sessions", SESSION_NAMES, exclude=REQUEST_NAMES, skip=())
        requests = self._table("requests", REQUEST_NAMES, exclude=(), skip=(sessions,) if sessions else ())
        queued = None  # a requests-like table without a customer column: a queue, not the requests part
        if (
            sessions is not None
            and requests is not None
            and self._customerless(requests)
            and self._own_session_keys(requests, sessions)
        ):
            queued, requests = requests, None
            self.notes.append(
                f"requests.table: {queued} has no customer column (the requests part needs one) and refers "
                f"to {sessions}: proposed as a queue"
            )
        if sessions is None:
            self.lack(
                "sessions.table",
                "no table is named like sessions (session, booking, appointment, …) with a status column",
                "name your sessions table (schema.table) and its columns",
            )
        else:
            self._sessions(sessions)
        if queued is not None:
            self.set("requests.table", "", f"none: {queued} has no customer column, it is a queue (below)")
        elif requests is None:
            self.set("requests.table", "", "no table is named like requests with a status column: none kept")
            self.notes.append(
                'requests.table: no table looks like requests (request, ticket, …): "" (the app keeps '
                "none); name yours if it has one"
            )
        else:
            self._requests(requests)
        self._link(sessions, requests)
        names = self._queues(sessions, requests)
        # Protected unless the app's own cleanup is known to cancel them: the catalog cannot say so.
        self.set(
            "sessions.cancel_assigned",
            False,
            "an open session with a mechanic is never cancelled as stale; true only if your app's own "
            "cleanup cancels such sessions",
        )
        model = Model(
            sessions=Sessions(**self.values["sessions"]),
            requests=Requests(**self.values["requests"]),
            mechanics=Mechanics(**self.values["mechanics"]),
            queues=tuple((name, Queue(**self.values[f"queues.{name}"])) for name in names),
        )
        for part in PARTS:  # the keys not set keep the reference app's values: say so
            for key in dataclasses.asdict(getattr(model, part)):
                self.comments.setdefault(f"{part}.{key}", "")
        for name, _ in model.queues:
            for key in _QUEUE_KEYS:
                self.comments.setdefault(f"queues.{name}.{key}", "")
        self._fill_unused(model)
        found = self._check(model)
        return Proposal(model, self.comments, tuple(self.notes), tuple(self.missing), tuple(found))

    def _fill_unused(self, model: Model) -> None:
        no_sessions = "sessions.table" in self.missing
        for key, comment in list(self.comments.items()):
            if comment:
                continue
            part = key.split(".")[0]
            if part == "queues":
                self.comments[key] = "the default"
            elif part == "sessions" and no_sessions:
                self.comments[key] = "the reference app's value: check it against your sessions table"
            elif part == "mechanics" and no_sessions:
                self.comments[key] = "not looked for: no sessions table"
            elif part == "mechanics" and not model.has_mechanics_table:
                self.comments[key] = "unused: mechanics are sign-in users"
            elif part == "requests" and not model.has_requests:
                self.comments[key] = "unused: no requests table"
            else:
                self.comments[key] = "the reference app's value"

    def _check(self, model: Model) -> list[Misfit]:
        """What install would say: the TOML loads back to this model, and it fits the catalog."""
        try:
            loaded = load_model(tomllib.loads(model.to_toml(self.comments))["tool"]["pitstop"]["model"])
        except BadInput as exc:  # such as a queue's open words NOT FOUND: the rest is checked too
            return [
                Misfit("model", exc.message, exc.fix or "correct the proposal"),
                *misfits(model, self.catalog),
            ]
        if loaded != model:  # pragma: no cover - a proposal is built from load_model's own types
            return [Misfit("model", "the proposal's TOML does not read back as itself", "report this")]
        return misfits(model, self.catalog)

    # -- tables -------------------------------------------------------------------

    def _table(
        self, part: str, names: Sequence[str], *, exclude: Sequence[str], skip: Sequence[str]
    ) -> str | None:
        """The best-looking table for ``part``: named like it, with a status column; shape breaks ties."""
        scored: list[tuple[int, bool, int, str]] = []  # best first: score, in public, short name
        for table in self.catalog.app_tables():
            bare = table.split(".", 1)[1].lower()
            if (
                table in skip
                or any(w in bare for w in exclude)
                or _status_column(self.catalog, table) is None
            ):
                continue
            rank = next((i for i, w in enumerate(names) if w in bare), None)
            if rank is None:
                continue
            score = 10 - rank + (4 if bare in (names[0], names[0] + "s") else 0)
            columns = self.catalog.tables[table]
            score += _id_column(table, columns) is not None
            score += _created_column(columns) is not None
            score += any(fk.ref_table == AUTH_USERS for fk in self._fks(table))
            # A table that refers to another one named like it is its child (session_events → sessions).
            if any(
                names[0] in fk.ref_table.split(".", 1)[1].lower() and fk.ref_table != table
                for fk in self._fks(table)
            ):
                score -= 3
            scored.append((-score, not table.startswith("public."), len(bare), table))
        if not scored:
            return None
        best, *others = [s[3] for s in sorted(scored)]
        if others:
            self.notes.append(f"{part}.table: chose {best} over {', '.join(others)}")
        return best

    def _fks(self, table: str) -> list[ForeignKey]:
        return [fk for fk in self.catalog.foreign_keys if fk.table == table and len(fk.columns) == 1]

    def _created(self, part: str, table: str, columns: dict[str, Column], also: tuple[str, ...] = ()) -> None:
        """``part.created_at``: a created-like column, else one named like ``also`` (a queue's queued_at)."""
        created = _created_column(columns) or (_named_time(columns, also) if also else None)
        if created is None:
            like = " or ".join(("created_at", *also[:1]))
            self.lack(
                f"{part}.created_at",
                f"{table} has no timestamptz column named like {like}",
                "name the timestamptz column set when a row is made",
            )
        else:
            self.set(f"{part}.created_at", created, "timestamptz, named like created_at")

    def _common(self, part: str, table: str) -> None:
        columns = self.catalog.tables[table]
        self.set(f"{part}.table", table, f"named like {part}, with a status column")
        id_ = _id_column(table, columns)
        if id_ is None:
            self.lack(f"{part}.id", f"{table} has no uuid column named id", "name its uuid primary key")
        else:
            self.set(f"{part}.id", id_, "its uuid id")
        self._created(part, table, columns)
        self._customer(part, table)

    def _sessions(self, table: str) -> None:
        columns = self.catalog.tables[table]
        self._common("sessions", table)
        self._mechanic(table)
        for key, names in (("ended_at", ENDED), ("updated_at", UPDATED)):
            found = _named_time(columns, names)
            if found is None:
                self.set(f"sessions.{key}", "", f"none: no timestamptz column named like {names[0]}")
            else:
                self.set(f"sessions.{key}", found, f"timestamptz, named like {names[0]}")
        status = _status_column(self.catalog, table)
        assert status is not None  # the table was chosen for it
        words, source = self._vocabulary(table, status)
        self.set("sessions.status", status.name, _describe_status(status))
        self._session_words(table, words, source, status)
        booked = _named_time(columns, SCHEDULED_AT)
        if booked is None:
            self.set(
                "sessions.scheduled_for", "", f"none: no timestamptz column named like {SCHEDULED_AT[0]}"
            )
        else:
            self.set(
                "sessions.scheduled_for",
                booked,
                "timestamptz, named like a booked time: a session booked for later is not stale until then",
            )

    def _requests(self, table: str) -> None:
        self._common("requests", table)
        fks = self._fks(table)
        mechanics = self.values["mechanics"].get("table") or ""
        customer = self.values["requests"].get("customer")
        candidates = [
            fk for fk in fks
            if fk.columns[0] != customer and fk.ref_table in (AUTH_USERS, mechanics)
            and self._is_uuid(table, fk.columns[0])
        ]  # fmt: skip
        mechanic = _by_name(candidates, MECHANIC_COLUMNS)
        how = "named like a mechanic"
        if mechanic is None:
            mechanic = next((fk for fk in candidates if fk.ref_table == mechanics), None)
            how = "the mechanics table"
        if mechanic is None:
            self._no_mechanic("requests", table, candidates, "none: no column references a mechanic")
        else:
            self.set("requests.mechanic", mechanic.columns[0], f"references {_target(mechanic)}, {how}")
        status = _status_column(self.catalog, table)
        assert status is not None
        words, source = self._vocabulary(table, status)
        self.set("requests.status", status.name, _describe_status(status))
        self._request_words(table, words, source, status)

    def _is_uuid(self, table: str, column: str) -> bool:
        found = self.catalog.column(table, column)
        return found is not None and found.is_uuid

    # -- people ---------------------------------------------------------------------

    def _find_customer(self, table: str) -> tuple[str, str, bool] | None:
        """The customer column of ``table``: (column, how it was found, whether it has no key to
        auth.users); None when there is none."""
        fks = [fk for fk in self._fks(table) if self._is_uuid(table, fk.columns[0])]
        users = [fk for fk in fks if fk.ref_table == AUTH_USERS and not _mechanic_named(fk.columns[0])]
        found = _by_name(users, CUSTOMER_COLUMNS)
        if found is not None:
            return found.columns[0], "references auth.users, named like a customer", False
        if len(users) == 1:
            return users[0].columns[0], "the one column that references auth.users", False
        columns = self.catalog.tables[table]
        named = [
            c for c in columns.values()
            if c.is_uuid and not _mechanic_named(c.name)
            and any(w in c.name.lower() for w in CUSTOMER_COLUMNS[:-1])
        ]  # fmt: skip
        if named:
            column = named[0].name
            refs = self.catalog.references(table, column)
            where = f"references {refs[0].ref_table}, not auth.users" if refs else "no foreign key"
            return column, f"named like a customer ({where}): check it is the user's id", True
        return None

    def _customerless(self, table: str) -> bool:
        """Whether ``table`` has no column that could be a customer's: none named like one, and no key
        to auth.users but a mechanic's."""
        users = [
            fk for fk in self._fks(table) if fk.ref_table == AUTH_USERS and not _mechanic_named(fk.columns[0])
        ]
        return not users and self._find_customer(table) is None

    def _customer(self, part: str, table: str) -> None:
        found = self._find_customer(table)
        if found is not None:
            column, how, unkeyed = found
            self.set(f"{part}.customer", column, how)
            if unkeyed:
                self.notes.append(
                    f"{part}.customer: {table}.{column} is named like a customer but does not reference "
                    "auth.users: pitstop takes it for the customer's sign-in user id"
                )
            return
        self.lack(
            f"{part}.customer",
            f"no uuid column of {table} references auth.users or is named like a customer",
            "name the column that holds the customer's user id",
        )

    def _mechanic(self, table: str) -> None:
        customer = self.values["sessions"].get("customer")
        fks = [
            fk for fk in self._fks(table)
            if fk.columns[0] != customer and self._is_uuid(table, fk.columns[0])
        ]  # fmt: skip
        # By the column's name first (to auth.users or to any table), then by the table it references.
        found = _by_name(fks, MECHANIC_COLUMNS) or next(
            (fk for fk in fks if _mechanic_like(fk.ref_table)), None
        )
        if found is None:
            self._no_mechanic(
                "sessions", table, fks, "none: no column references auth.users or a mechanics table"
            )
            self.set("mechanics.table", "", "no mechanics table: none is referenced")
            return
        column = found.columns[0]
        if found.ref_table == AUTH_USERS:
            self.set("sessions.mechanic", column, "references auth.users, named like a mechanic")
            self.set(
                "mechanics.table", "", "sessions.mechanic references auth.users: mechanics are sign-in users"
            )
            return
        target = self.catalog.tables.get(found.ref_table, {})
        ref_column = found.ref_columns[0]
        email = _email_column(target)
        if email is None and any(
            fk.ref_table == AUTH_USERS for fk in self.catalog.references(found.ref_table, ref_column)
        ):
            # A profile table keyed by the user's id: its rows are sign-in users.
            self.set(
                "sessions.mechanic",
                column,
                f"references {found.ref_table}, whose {ref_column} is auth.users' id",
            )
            self.set(
                "mechanics.table",
                "",
                f"{found.ref_table} has no email and shares auth.users' ids: sign-in users",
            )
            self.notes.append(
                f"sessions.mechanic references {found.ref_table}, keyed by auth.users' id: mechanics are "
                "taken for sign-in users"
            )
            return
        self.set("sessions.mechanic", column, f"references {found.ref_table} (mechanics.table)")
        self.set("mechanics.table", found.ref_table, f"what sessions.{column} references")
        self.set("mechanics.id", ref_column, f"the column sessions.{column} references")
        if email is None:
            self.lack(
                "mechanics.email",
                f"{found.ref_table} has no text column named like email",
                "name the column with the mechanic's email",
            )
        else:
            self.set("mechanics.email", email, "text, named like email")
        users = [fk for fk in self._fks(found.ref_table) if fk.ref_table == AUTH_USERS]
        user = _by_name(users, ("user", "auth", "account", "")) if users else None
        if user is None:
            self.set("mechanics.user", "", "none: no column references auth.users")
        else:
            self.set("mechanics.user", user.columns[0], "references auth.users")

    def _no_mechanic(self, part: str, table: str, fks: Sequence[ForeignKey], none: str) -> None:
        """No mechanic column was found: ``none`` says so, unless a column left over references auth.users.

        Such a column (``claimed_by``) is not named like a mechanic, so it is not taken; the
        comment and a note name it, for the user to choose.
        """
        users = [fk.columns[0] for fk in fks if fk.ref_table == AUTH_USERS]
        if not users:
            self.set(f"{part}.mechanic", "", none)
            return
        verb = "references" if len(users) == 1 else "reference"
        self.set(
            f"{part}.mechanic",
            "",
            f"none: no column named like a mechanic; {', '.join(users)} {verb} auth.users",
        )
        for column in users:
            self.notes.append(
                f"{part}.mechanic: {table}.{column} references auth.users but is not named like a mechanic: "
                f'set {part}.mechanic = "{column}" if it holds the mechanic\'s user id'
            )

    # -- the link ---------------------------------------------------------------------

    def _link(self, sessions: str | None, requests: str | None) -> None:
        """How a request belongs to its session: a column of requests that references sessions, else one
        of sessions that references requests, else a uuid column named like a session id, else by customer.

        A column is chosen by its name first (``session_id``, ``booking_id`` for bookings, the sessions'
        own id name) and its foreign key; one named as another session's link (``parent_session_id``, a
        follow-up's) is never taken: where only such columns are there, the key is NOT FOUND. Every
        other candidate is named in a note.
        """
        if sessions is None:
            if requests is not None:
                self.set("requests.session", "", "not looked for: no sessions table")
            return
        if requests is None:
            self.set("sessions.request", "", "none: no requests table")
            return
        down = [
            fk.columns[0]
            for fk in self._fks(requests)
            if fk.ref_table == sessions and self._is_uuid(requests, fk.columns[0])
        ]
        up = [
            fk.columns[0]
            for fk in self._fks(sessions)
            if fk.ref_table == requests and self._is_uuid(sessions, fk.columns[0])
        ]
        session_id = self.values["sessions"].get("id", "id")
        request_id = self.values["requests"].get("id", "id")
        if down:
            self.set("sessions.request", "", "requests.session links them")
            self._choose_link("requests.session", requests, down, sessions, session_id, "session", True)
            if up:
                self.notes.append(
                    f"{sessions}.{', '.join(up)} also {'references' if len(up) == 1 else 'reference'} "
                    f"{requests}: the model keeps one link (requests.session)"
                )
            return
        if up:
            self.set("requests.session", "", "sessions.request links them")
            self._choose_link("sessions.request", sessions, up, requests, request_id, "request", True)
            return
        named = [
            c.name
            for c in self.catalog.tables[requests].values()
            if c.is_uuid and c.name != request_id and _link_rank(c.name, sessions, session_id, "session") != 2
        ]
        if named:
            self.set("sessions.request", "", "requests.session links them")
            self._choose_link("requests.session", requests, named, sessions, session_id, "session", False)
            return
        self.set("requests.session", "", "by customer: no column links a request to its session")
        self.set("sessions.request", "", "by customer: no column links a session to its request")
        self.notes.append(
            "requests and sessions are linked by customer (no column links them): a request belongs to "
            "its customer's sessions"
        )

    def _choose_link(
        self, key: str, table: str, columns: list[str], target: str, target_id: str, word: str, by_key: bool
    ) -> None:
        """Choose ``key`` among ``columns`` of ``table`` (each refers to ``target``): the best named,
        never one named as another row's link; a note names every other candidate."""
        ranked = sorted(columns, key=lambda c: (_link_rank(c, target, target_id, word), columns.index(c)))
        best = ranked[0]
        how = f"references {target}" if by_key else f"no foreign key to {target}: named like its id"
        others = ranked[1:]
        if _link_rank(best, target, target_id, word) == _QUALIFIED:
            listed = ", ".join(f"{table}.{c}" for c in ranked)
            self.lack(
                key,
                f"{listed} {'refers' if len(ranked) == 1 else 'refer'} to {target}, but named as "
                f"another {word}'s link (a follow-up's parent), not the row's own",
                f'name the column that holds the row\'s own {word} id, or "" to link by customer',
            )
            return
        exact = _link_rank(best, target, target_id, word) == 0
        comment = f"{how}, named {'as its link' if exact else f'like a {word} id'}"
        if others:
            comment += f"; not {', '.join(others)} (see the notes)"
        self.set(key, best, comment)
        if not by_key:
            self.notes.append(f"{key}: {table}.{best} has no foreign key; linked by its name")
        for other in others:
            qualified = _link_rank(other, target, target_id, word) == _QUALIFIED
            what = f"another {word}'s link, a follow-up's parent" if qualified else f"also a key to {target}"
            self.notes.append(
                f"{key}: chose {table}.{best} over {table}.{other} ({what}): set "
                f'{key.rsplit(".", 1)[1]} = "{other}" if that column holds the row\'s own {word}'
            )

    # -- queues -----------------------------------------------------------------------

    def _session_keys(self, table: str, sessions: str) -> list[str]:
        """The uuid columns of ``table`` with a foreign key to ``sessions``, in the keys' order."""
        return list(
            dict.fromkeys(
                fk.columns[0]
                for fk in self._fks(table)
                if fk.ref_table == sessions and self._is_uuid(table, fk.columns[0])
            )
        )

    def _own_session_keys(self, table: str, sessions: str) -> list[str]:
        """Those of the keys to ``sessions`` not named as another session's link (parent_session_id)."""
        session_id = self.values["sessions"].get("id", "id")
        return [
            k
            for k in self._session_keys(table, sessions)
            if _link_rank(k, sessions, session_id, "session") != _QUALIFIED
        ]

    def _queues(self, sessions: str | None, requests: str | None) -> list[str]:
        """The queues' names: every other table that refers to the sessions by a foreign key, has a
        status column, and is named like a queue or has a mechanic column; never one of the kind that
        is no queue (participants, messages, events, …), nor one whose only keys to the sessions are
        named as another session's link. Each is named by its bare name."""
        if sessions is None:
            return []
        skip = {sessions, requests, self.values["mechanics"].get("table")}
        names: list[str] = []
        for table in self.catalog.app_tables():
            keys = self._session_keys(table, sessions)
            status = _queue_status_column(self.catalog, table)
            if table in skip or not keys or status is None or _never_a_queue(table):
                continue
            mechanic = self._queue_mechanic(table)
            if not _queue_named(table) and mechanic is None:
                self.notes.append(
                    f"{table} refers to {sessions} and has a status column, but is neither named like a "
                    "queue (assignment, queue, offer, dispatch, …) nor has a mechanic column: not proposed "
                    "as a queue; declare it as [tool.pitstop.model.queues.<name>] if it offers sessions to "
                    "mechanics"
                )
                continue
            if not self._own_session_keys(table, sessions):
                self.notes.append(
                    f"{table} refers to {sessions} only by {', '.join(keys)}, named as another session's "
                    "link (a follow-up's parent): not proposed as a queue; declare it as "
                    "[tool.pitstop.model.queues.<name>] with session = the column of the row's own session "
                    "if it offers sessions to mechanics"
                )
                continue
            name = _queue_name(table, names)
            names.append(name)
            self._queue(f"queues.{name}", table, sessions, keys, status, mechanic)
        return names

    def _queue(
        self,
        part: str,
        table: str,
        sessions: str,
        keys: list[str],
        status: Column,
        mechanic: tuple[ForeignKey, str] | None,
    ) -> None:
        columns = self.catalog.tables[table]
        why = "named like a queue" if _queue_named(table) else "with a mechanic column"
        self.set(f"{part}.table", table, f"refers to {sessions}, {why}, with a status column")
        id_ = _id_column(table, columns)
        if id_ is None:
            self.lack(f"{part}.id", f"{table} has no uuid column named id", "name its uuid primary key")
        else:
            self.set(f"{part}.id", id_, "its uuid id")
        session_id = self.values["sessions"].get("id", "id")
        self._choose_link(f"{part}.session", table, keys, sessions, session_id, "session", True)
        session = self.values[part].get("session", "")
        named = {session, mechanic[0].columns[0] if mechanic else ""}
        # A customer only by its name: a queue's one user column may well be the mechanic's.
        users = [
            fk for fk in self._fks(table)
            if fk.ref_table == AUTH_USERS and fk.columns[0] not in named
            and self._is_uuid(table, fk.columns[0])
        ]  # fmt: skip
        customer = _by_name([fk for fk in users if not _mechanic_named(fk.columns[0])], CUSTOMER_COLUMNS[:-1])
        if customer is None:
            self.set(f"{part}.customer", "", "none: its rows are linked by session")
        else:
            self.set(f"{part}.customer", customer.columns[0], "references auth.users, named like a customer")
        if mechanic is None:
            left = [fk for fk in users if customer is None or fk.columns[0] != customer.columns[0]]
            self._no_mechanic(part, table, left, "none: no column references a mechanic")
        else:
            fk, how = mechanic
            self.set(f"{part}.mechanic", fk.columns[0], f"references {_target(fk)}, {how}")
        self.set(f"{part}.status", status.name, _describe_status(status))
        self._created(part, table, columns, QUEUED_AT)
        updated = _named_time(columns, UPDATED)
        if updated is None:
            self.set(f"{part}.updated_at", "", f"none: no timestamptz column named like {UPDATED[0]}")
        else:
            self.set(f"{part}.updated_at", updated, f"timestamptz, named like {UPDATED[0]}")
        words, source = self._vocabulary(table, status)
        default, open_ = self._queue_words(part, table, words, source, status)
        self._holds(part, table, sessions, default, open_)

    def _queue_mechanic(self, table: str) -> tuple[ForeignKey, str] | None:
        """A queue's mechanic column: a key to the sign-in users or the mechanics' table (the one the
        sessions' mechanic column refers to), by its name first; with how it was found."""
        targets = {AUTH_USERS, self.values["mechanics"].get("table") or AUTH_USERS}  # "": sign-in users
        mechanic = self.values["sessions"].get("mechanic")
        sessions = self.values["sessions"].get("table")
        if mechanic and sessions:
            targets |= {fk.ref_table for fk in self.catalog.references(sessions, mechanic)}
        candidates = [
            fk for fk in self._fks(table)
            if fk.ref_table in targets and self._is_uuid(table, fk.columns[0])
        ]  # fmt: skip
        found = _by_name(candidates, MECHANIC_COLUMNS)
        if found is not None:
            return found, "named like a mechanic"
        found = next((fk for fk in candidates if fk.ref_table != AUTH_USERS), None)
        return (found, "the mechanics' table") if found is not None else None

    def _holds(self, part: str, table: str, sessions: str, default: str | None, open_: Sequence[str]) -> None:
        """``holds`` only on evidence that every open session has a row: its session column is NOT NULL
        and a key to the sessions, a row is made waiting (the column's default is an open word), and no
        requests are kept (where they are, they hold the open sessions: a queue beside them is a later
        step, such as an offer made when a dispatcher gets to it). Else false: no orphans for it."""
        session = self.values[part].get("session", "")
        column = self.catalog.column(table, session) if session else None
        keyed = bool(session) and any(
            fk.ref_table == sessions for fk in self.catalog.references(table, session)
        )
        made_open = default is not None and default in open_
        requests = self.values["requests"].get("table")
        if column is not None and column.not_null and keyed and made_open and not requests:
            self.set(
                f"{part}.holds",
                True,
                f"every row has its session ({session}: NOT NULL, a key to {sessions}) and is made {default} "
                "(the column's default): it holds every open session",
            )
            self.notes.append(
                f"{part}.holds: true: an open session without a row in {table} is an orphan: health reports "
                "it, and the cleanup cancels it once older than the orphan threshold; set holds = false if "
                "your app makes a row for only some sessions"
            )
            return
        reasons = []
        if column is None or not keyed:
            reasons.append("no key to the session")
        elif not column.not_null:
            reasons.append(f"{session} may be null")
        if not made_open:
            reasons.append("no open word is the status column's default")
        if requests:
            reasons.append(f"the requests ({requests}) hold the open sessions")
        self.set(
            f"{part}.holds",
            False,
            f"no evidence that every open session has a row here ({'; '.join(reasons)}): health reports no "
            "orphans for it",
        )

    # -- status words -------------------------------------------------------------------

    def _vocabulary(self, table: str, column: Column) -> tuple[list[str], str]:
        if column.allowed is not None:
            how = f"the labels of enum {column.type}" if column.enum else "its check constraint's words"
            return list(column.allowed), how
        read = self.read_values(table, column.name)
        if read is None:
            self.notes.append(f"{table}.{column.name}: free text, and its values could not be read")
            return [], "free text, not read"
        if not read:
            return [], "free text, no rows"
        return read, "the values present (free text)"

    def _default(self, table: str, column: Column, words: Sequence[str]) -> str | None:
        """The word ``column`` defaults to, when it is one of ``words`` (or any, for free text)."""
        if not column.has_default:
            return None
        found = self.read_default(table, column.name)
        if found is None or (column.allowed is not None and found not in words):
            return None
        return found

    def _session_words(self, table: str, words: list[str], source: str, column: Column) -> None:
        default = self._default(table, column, words)
        if default is not None and default not in words:  # free text: the default is a word too
            words = [*words, default]
        if not words:
            self._no_words("sessions", ("open", "active", "live", "done", "cancelled"), source)
            return
        reference = Sessions()
        classes = {w: _meaning(w) for w in words}
        cancelled = _best(words, CANCELLED) or _best(words, TERMINAL)
        # Open only on evidence: a known waiting word, or the column's default when it means nothing else.
        by_default = default is not None and classes[default] is None
        if by_default:
            assert default is not None
            classes[default] = "open"
        open_ = [w for w in words if classes[w] == "open"]
        live = [w for w in words if classes[w] == "live"]
        engaged = [w for w in words if classes[w] in ("engaged", "scheduled", "held")]
        done = [w for w in words if classes[w] in ("done", "cancelled", "terminal") and w != cancelled]
        never = [w for w in words if classes[w] in ("scheduled", "engaged", "held", "live")]
        where = f"from {source}"
        if open_:
            known = [w for w in open_ if w != default or not by_default]
            why = [f"waiting words {where}"] if known else []
            if default in open_:
                why.append(f"{default} is the column's default")
            if never:
                why.append(f"never open: {', '.join(never)}")
            self.set("sessions.open", open_, "; ".join(why))
        else:
            never_words = f"; never open: {', '.join(never)}" if never else ""
            self.lack(
                "sessions.open",
                f"none of {', '.join(words)} ({source}) is a known waiting word ({', '.join(OPEN[:3])}, …) "
                f"or the column's default{never_words}",
                "name the words of a session still waiting for a mechanic (never a booking for later, "
                "or one taken or in progress)",
            )
            open_ = [w for w in reference.open if w not in (*live, *engaged, *done, cancelled)]
            self.values["sessions"]["open"] = tuple(open_ or reference.open)
        if default is not None and classes[default] in ("scheduled", "engaged", "held", "live"):
            self.notes.append(
                f"sessions.open: the column's default is {default!r} ({_MEANINGS[classes[default] or '']}): "
                "not taken for open, which the cleanup cancels once stale"
            )
        active = list(dict.fromkeys((*open_, *engaged, *live)))
        how = "the open and live words"
        if engaged:
            held = ", ".join(f"{w} ({_MEANINGS[classes[w] or '']})" for w in engaged)
            how += f", and {held}: never cancelled"
        self.set("sessions.active", active, how)
        booked = [w for w in engaged if classes[w] == "scheduled"]
        if booked:
            self.notes.append(
                f"sessions.active: {', '.join(booked)} (a booking for later) blocks a new payment and is "
                "never cancelled by the cleanup; take it out of active if your app lets a customer with a "
                "booking pay for another session"
            )
        self.set("sessions.live", live, f"live-like words {where}" if live else f"none {where}")
        if done:
            extra = [w for w in done if classes[w] != "done"]
            tail = f"; {', '.join(extra)}: ended too" if extra else ""
            self.set("sessions.done", done, f"completed-like words {where}{tail}")
        else:
            self._lack_words("sessions.done", words, source, "the words of a session that ended well")
        if cancelled is not None:
            self.set("sessions.cancelled", cancelled, f"the cancelled word {where}")
        else:
            self._lack_words("sessions.cancelled", words, source, "the word pitstop writes when it cancels")
        self._unmapped("sessions", words, classes)

    def _request_words(self, table: str, words: list[str], source: str, column: Column) -> None:
        default = self._default(table, column, words)
        if default is not None and default not in words:
            words = [*words, default]
        if not words:
            self._no_words("requests", ("pending", "accepted", "expired", "cancelled"), source)
            return
        where = f"from {source}"
        cancelled = _best(words, R_CANCELLED)
        chosen: dict[str, str] = {}
        for key, tokens, what in (
            ("pending", R_PENDING, "the word of a request waiting for a mechanic"),
            ("accepted", R_ACCEPTED, "the word of a request a mechanic took"),
            ("cancelled", R_CANCELLED, "the word of a cancelled request"),
        ):
            word = _best(words, tokens)
            if word is not None:
                chosen[key] = word
                self.set(f"requests.{key}", word, f"the {key}-like word {where}")
            elif key == "pending" and default is not None and _request_meaning(default) is None:
                chosen[key] = default
                self.set("requests.pending", default, f"the column's default {where}")
            else:
                self._lack_words(f"requests.{key}", words, source, what)
        expired = _best(words, R_EXPIRED)
        if expired is not None:
            chosen["expired"] = expired
            self.set("requests.expired", expired, f"the expired-like word {where}")
        elif cancelled is not None:
            chosen["expired"] = cancelled
            self.set("requests.expired", cancelled, f"no expired word {where}: the cancelled word")
        else:
            self._lack_words("requests.expired", words, source, "the word of a request that went stale")
        left = [w for w in words if w not in chosen.values()]
        if left:
            self.notes.append(f"requests.status: not mapped: {', '.join(left)} (the model names four words)")

    def _queue_words(
        self, part: str, table: str, words: list[str], source: str, column: Column
    ) -> tuple[str | None, tuple[str, ...]]:
        """A queue's words by meaning: the column's default (a word, or None) and the open words.

        Open only on evidence (a known waiting word, or the column's default when it means nothing
        else); expired and cancelled only where the column has such a word, else NOT FOUND (left at
        the default, for the fit check to name); with no words to read, every key is NOT FOUND and
        open holds no more than the column's default."""
        default = self._default(table, column, words)
        if not words:
            for key in ("taken", "done", "expired", "cancelled"):
                self.lack(f"{part}.{key}", f"{source}: no words to read", "name your app's words", note=False)
            by_default = default is not None and _queue_meaning(default) in (None, "open")
            fill = "name the words of a row waiting for a mechanic"
            if by_default:
                fill = f"{default} (the column's default) is proposed, and no other word; {fill}"
            self.lack(f"{part}.open", f"{source}: no words to read", fill, note=False)
            if by_default:
                assert default is not None
                self.values[part]["open"] = (default,)
            self.notes.append(
                f"{part}.status: {source}, so no words to read: open, taken, done, expired and cancelled are "
                "NOT FOUND; name the words your app's code writes"
            )
            return default, tuple(self.values[part].get("open", ()))
        if default is not None and default not in words:  # free text: the default is a word too
            words = [*words, default]
        classes = {w: _queue_meaning(w) for w in words}
        by_default = default is not None and classes[default] is None
        if by_default:
            assert default is not None
            classes[default] = "open"
        expired = _best([w for w in words if classes[w] == "expired"], Q_EXPIRED)
        cancelled = _best([w for w in words if classes[w] == "cancelled"], Q_CANCELLED)
        open_ = [w for w in words if classes[w] == "open"]
        taken = [w for w in words if classes[w] == "taken"]
        done = [
            w
            for w in words
            if classes[w] in ("done", "expired", "cancelled") and w not in (expired, cancelled)
        ]
        where = f"from {source}"
        never = f"never open: {', '.join(taken)}" if taken else ""
        if open_:
            why = [f"waiting words {where}"] if any(w != default or not by_default for w in open_) else []
            if default in open_:
                why.append(f"{default} is the column's default")
            self.set(f"{part}.open", open_, "; ".join([*why, *([never] if never else [])]))
        else:
            self.lack(
                f"{part}.open",
                f"none of {', '.join(words)} ({source}) is a known waiting word ({', '.join(Q_OPEN[:3])}, …) "
                f"or the column's default{'; ' + never if never else ''}",
                "name the words of a row shown to mechanics, waiting for one to take it (never one a "
                "mechanic has)",
            )
        if default is not None and classes[default] != "open":
            self.notes.append(
                f"{part}.open: the column's default is {default!r} ({classes[default]}): not taken for open, "
                "whose rows expire once stale"
            )
        self.set(
            f"{part}.taken", taken, f"words of a row a mechanic has, {where}" if taken else f"none {where}"
        )
        if done:
            extra = [w for w in done if classes[w] != "done"]
            tail = f"; {', '.join(extra)}: over too" if extra else ""
            self.set(f"{part}.done", done, f"declined- or completed-like words {where}{tail}")
        else:
            self.set(f"{part}.done", [], f"none {where}")
        if expired is not None:
            self.set(f"{part}.expired", expired, f"the expired-like word {where}")
        else:
            self._lack_words(
                f"{part}.expired",
                words,
                source,
                "the word of a row that went stale (expired, lapsed, timed_out)",
            )
        if cancelled is not None:
            self.set(f"{part}.cancelled", cancelled, f"the cancelled-like word {where}")
        else:
            what = "the word of a row whose session was cancelled (cancelled, withdrawn)"
            self._lack_words(f"{part}.cancelled", words, source, what)
        left = [w for w in words if classes[w] is None]
        if left:
            self.notes.append(
                f"{part}.status: not mapped: {', '.join(left)} (add each to the list it belongs to: open, "
                "taken or done)"
            )
        return default, tuple(open_)

    def _no_words(self, part: str, keys: Sequence[str], source: str) -> None:
        """No word to read: each key is NOT FOUND (a guess here could cancel real rows)."""
        for key in keys:
            self.lack(f"{part}.{key}", f"{source}: no words to read", "name your app's words", note=False)
        self.notes.append(
            f"{part}.status: {source}, so no words to read: {', '.join(keys)} are NOT FOUND; name the words "
            "your app's code writes"
        )

    def _lack_words(self, key: str, words: list[str], source: str, what: str) -> None:
        self.lack(key, f"none of {', '.join(words)} ({source}) reads as {what}", f"name {what}")

    def _unmapped(self, part: str, words: list[str], classes: dict[str, str | None]) -> None:
        left = [w for w in words if classes[w] is None]
        if left:
            self.notes.append(
                f"{part}.status: not mapped: {', '.join(left)} (add each to the list it belongs to: "
                "open, active, live or done)"
            )


# -- helpers ---------------------------------------------------------------------------

ENDED = ("ended_at", "finished_at", "completed_at", "closed_at", "ends_at", "end_time", "ended", "finished")
UPDATED = ("updated_at", "modified_at", "last_updated_at", "touched_at", "updated", "modified")
SCHEDULED_AT = ("scheduled_for", "scheduled_at", "scheduled_start", "starts_at", "start_at", "start_time",
                "booked_for", "appointment_at", "scheduled")  # fmt: skip
CREATED = ("created_at", "created", "inserted_at", "created_on", "requested_at", "opened_at")
STATUS = ("status", "state", "stage", "phase")


def _status_column(catalog: Catalog, table: str) -> Column | None:
    columns = [c for c in catalog.tables[table].values() if c.is_text]
    for name in STATUS:
        for column in columns:
            if column.name.lower() == name:
                return column
    for name in STATUS:
        for column in columns:
            if column.name.lower().endswith(name):
                return column
    for column in columns:  # an enum of status-like words, whatever its name
        if column.enum and any(_meaning(w) for w in column.allowed or ()):
            return column
    return None


def _queue_status_column(catalog: Catalog, table: str) -> Column | None:
    """A queue's status column: one named like a status, else one whose enum or check constraint has
    at least two words of a queue's meanings, whatever its name (offers.word)."""
    found = _status_column(catalog, table)
    if found is not None:
        return found
    return next(
        (
            c
            for c in catalog.tables[table].values()
            if c.is_text and sum(_queue_meaning(w) is not None for w in c.allowed or ()) >= 2
        ),
        None,
    )


def _describe_status(column: Column) -> str:
    if column.enum:
        return f"enum {column.type}"
    if column.allowed is not None:
        return f"{column.type} with a check constraint"
    return f"{column.type}: free text, no enum or check constraint"


def _id_column(table: str, columns: dict[str, Column]) -> str | None:
    singular = table.split(".", 1)[1].lower().rstrip("s")
    for name in ("id", f"{singular}_id", "uuid"):
        column = columns.get(name)
        if column is not None and column.is_uuid:
            return name
    # Named after the last word of the table's name (help_sessions: session_id), when it is unique.
    name = f"{singular.rsplit('_', 1)[-1]}_id"
    column = columns.get(name)
    return name if column is not None and column.is_uuid and column.unique else None


def _created_column(columns: dict[str, Column]) -> str | None:
    found = _named_time(columns, CREATED)
    if found is not None:
        return found
    return next(
        (
            c.name
            for c in columns.values()
            if c.is_timestamptz and ("created" in c.name or "inserted" in c.name)
        ),
        None,
    )


def _named_time(columns: dict[str, Column], names: Sequence[str]) -> str | None:
    return next((n for n in names if n in columns and columns[n].is_timestamptz), None)


# Tokens that name a column as another row's link: a follow-up's parent, a rebooking's original.
QUALIFIERS = (
    "parent", "previous", "prev", "prior", "original", "origin", "source", "src", "follow", "followup",
    "related", "linked", "next", "child", "from", "rebooked", "rescheduled", "replaces", "replaced",
    "duplicate", "merged", "root", "first", "last", "old", "new",
)  # fmt: skip
_QUALIFIED = 3


def _link_rank(column: str, target: str, target_id: str, word: str) -> int:
    """How well ``column`` names a link to ``target`` (whose id is ``target_id``): 0 exactly (session_id,
    booking_id for bookings, the target's own id name), 1 holding the word, 2 otherwise, and
    ``_QUALIFIED`` when named as another row's link (parent_session_id)."""
    name = column.lower()
    tokens = [t for t in re.split(r"[^a-z0-9]+", name) if t]
    if any(t in QUALIFIERS for t in tokens):
        return _QUALIFIED
    bare = target.split(".", 1)[1].lower()
    singular = bare[:-1] if bare.endswith("s") else bare
    last = singular.rsplit("_", 1)[-1]
    exact = {word, f"{word}_id", singular, f"{singular}_id", last, f"{last}_id", f"{bare}_id"}
    if target_id.lower() != "id":
        exact.add(target_id.lower())
    if name in exact:
        return 0
    return 1 if word in name or last in name else 2


# A queue's time of a row made, where it is not named like created_at.
QUEUED_AT = ("queued_at", "enqueued_at", "offered_at", "sent_at", "posted_at")
# A queue's declared keys, each commented.
_QUEUE_KEYS = tuple(f.name for f in dataclasses.fields(Queue) if f.metadata.get("declared", True))


def _name_tokens(table: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", table.split(".", 1)[1].lower()) if t]


def _never_a_queue(table: str) -> bool:
    """Named as a table of the kind that is never a queue (a token, or its plural: chat_messages)."""
    return any(
        t in (w, f"{w}s", f"{w}es") or (w.endswith("y") and t == f"{w[:-1]}ies")
        for t in _name_tokens(table)
        for w in NOT_QUEUES
    )


def _queue_named(table: str) -> bool:
    return any(t.startswith(w) for t in _name_tokens(table) for w in QUEUE_NAMES)


def _queue_name(table: str, taken: Sequence[str]) -> str:
    """A queue's name: the table's bare name as a word (letters, digits, _), never "requests" nor one
    already taken (then with its schema, then a number)."""
    schema, bare = table.split(".", 1)
    name = ""
    for candidate in (bare, f"{schema}_{bare}"):
        name = re.sub(r"[^A-Za-z0-9_]", "_", candidate)
        if not re.match(r"[A-Za-z_]", name):
            name = f"q_{name}"
        if name != "requests" and name not in taken:
            return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def _email_column(columns: dict[str, Column]) -> str | None:
    texts = [c for c in columns.values() if c.type == "text" or c.type.startswith("character varying")]
    return next((c.name for c in texts if c.name.lower() == "email"), None) or next(
        (c.name for c in texts if "email" in c.name.lower()), None
    )


def _by_name(fks: Sequence[ForeignKey], words: Sequence[str]) -> ForeignKey | None:
    """The key whose column's name holds the earliest of ``words`` ("" matches any)."""
    for word in words:
        for fk in fks:
            if word in fk.columns[0].lower():
                return fk
    return None


def _mechanic_named(name: str) -> bool:
    return any(w in name.lower() for w in MECHANIC_COLUMNS)


def _mechanic_like(table: str) -> bool:
    return any(w in table.split(".", 1)[1].lower() for w in MECHANIC_NAMES)


def _target(fk: ForeignKey) -> str:
    return fk.ref_table if fk.ref_table == AUTH_USERS else f"{fk.ref_table} (mechanics.table)"


def _tokens(word: str) -> list[str]:
    lowered = word.lower()
    return [lowered, *(t for t in re.split(r"[^a-z0-9]+", lowered) if t)]


def _meaning(word: str) -> str | None:
    """What a session's status word means: open, live, held, engaged, scheduled, done, cancelled,
    terminal (or None). A word with tokens of several meanings takes the first here, so a word that
    also reads as booked, taken, held or in progress is never open."""
    tokens = _tokens(word)
    for meaning, vocabulary in (
        ("cancelled", CANCELLED), ("done", DONE), ("terminal", TERMINAL), ("held", HELD), ("live", LIVE),
        ("engaged", ENGAGED), ("scheduled", SCHEDULED), ("open", OPEN),
    ):  # fmt: skip
        if any(t in vocabulary for t in tokens):
            return meaning
    return None


# What a word of each meaning is, as the proposal's comments say it.
_MEANINGS = {
    "scheduled": "booked for later",
    "engaged": "taken",
    "held": "interrupted",
    "live": "in progress",
    "open": "waiting",
    "": "unknown",
}


def _request_meaning(word: str) -> str | None:
    """Whether a request's word reads as accepted, expired or cancelled (None: none of them)."""
    tokens = _tokens(word)
    for meaning, vocabulary in (("accepted", R_ACCEPTED), ("expired", R_EXPIRED), ("cancelled", R_CANCELLED)):
        if any(t in vocabulary for t in tokens):
            return meaning
    return None


def _queue_meaning(word: str) -> str | None:
    """What a queue's word means: cancelled, expired, done, taken, open (or None), the first of these
    that any of its tokens has: a word that also reads as taken or over is never open."""
    tokens = _tokens(word)
    for meaning, vocabulary in (
        ("cancelled", Q_CANCELLED), ("expired", Q_EXPIRED), ("done", Q_DONE), ("taken", Q_TAKEN),
        ("open", Q_OPEN),
    ):  # fmt: skip
        if any(t in vocabulary for t in tokens):
            return meaning
    return None


def _best(words: Sequence[str], vocabulary: Sequence[str]) -> str | None:
    """The word whose best token comes earliest in ``vocabulary`` (ties: the word's order)."""
    ranked = [
        (min(vocabulary.index(t) for t in _tokens(w) if t in vocabulary), i, w)
        for i, w in enumerate(words)
        if any(t in vocabulary for t in _tokens(w))
    ]
    return min(ranked)[2] if ranked else None
