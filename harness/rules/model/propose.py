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
from harness.rules.model.declaration import PARTS, Mechanics, Model, Requests, Sessions, load_model
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
OPEN = ("pending", "waiting", "scheduled", "requested", "queued", "new", "open", "searching", "awaiting",
        "unassigned", "booked", "created")  # fmt: skip
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
DONE = ("completed", "complete", "done", "ended", "finished", "closed", "resolved", "fulfilled")
CANCELLED = ("cancelled", "canceled", "cancel")
TERMINAL = ("expired", "failed", "refunded", "rejected", "declined", "aborted", "abandoned", "timeout",
            "timed_out", "missed", "no_show", "void")  # fmt: skip
R_PENDING = ("pending", "waiting", "open", "new", "requested", "queued", "searching", "awaiting",
             "unassigned", "created")  # fmt: skip
R_ACCEPTED = ("accepted", "assigned", "matched", "claimed", "taken", "confirmed")
R_EXPIRED = ("expired", "timed_out", "timeout", "lapsed", "stale")
R_CANCELLED = ("cancelled", "canceled", "cancel", "withdrawn", "aborted", "rejected", "declined")

# Reads the distinct values of ``table.column`` (None: they could not be read).
ValueReader = Callable[[str, str], list[str] | None]


@dataclass(frozen=True)
class Proposal:
    model: Model
    comments: dict[str, str]  # by "part.key"
    notes: tuple[str, ...]
    missing: tuple[str, ...]  # the keys that could not be found ("sessions.table", …)
    misfits: tuple[Misfit, ...]  # what install would refuse

    @property
    def ok(self) -> bool:
        """A model install accepts, with nothing left to fill in."""
        return not self.missing and not self.misfits

    @property
    def toml(self) -> str:
        return self.model.to_toml(self.comments)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "toml": self.toml,
            "model": self.model.to_json() if self.ok else None,
            "notes": list(self.notes),
            "missing": list(self.missing),
            "misfits": [dataclasses.asdict(m) for m in self.misfits],
        }


def propose(catalog: Catalog, read_values: ValueReader | None = None) -> Proposal:
    """The model that ``catalog`` suggests; ``read_values`` gives a free-text status column's words."""
    return _Builder(catalog, read_values or (lambda table, column: None)).build()


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


# -- the search ---------------------------------------------------------------------


class _Builder:
    def __init__(self, catalog: Catalog, read_values: ValueReader) -> None:
        self.catalog = catalog
        self.read_values = read_values
        self.values: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
        self.comments: dict[str, str] = {}
        self.notes: list[str] = []
        self.missing: list[str] = []

    def set(self, key: str, value: Any, comment: str) -> None:
        part, name = key.split(".")
        self.values[part][name] = tuple(value) if isinstance(value, list) else value
        self.comments[key] = comment

    def lack(self, key: str, what: str, fill: str) -> None:
        """``key`` was not found: it keeps the reference app's value, marked, and is listed."""
        part, name = key.split(".")
        self.values[part].pop(name, None)
        default = getattr(PARTS[part](), name)
        self.comments[key] = f"NOT FOUND: {what}; {fill}"
        self.missing.append(key)
        self.notes.append(f"{key}: not found: {what}; {fill} (left at the reference app's {default!r})")

    def build(self) -> Proposal:
        sessions = self._table("sessions", SESSION_NAMES, exclude=REQUEST_NAMES, skip=())
        requests = self._table("requests", REQUEST_NAMES, exclude=(), skip=(sessions,) if sessions else ())
        if sessions is None:
            self.lack(
                "sessions.table",
                "no table is named like sessions (session, booking, appointment, …) with a status column",
                "name your sessions table (schema.table) and its columns",
            )
        else:
            self._sessions(sessions)
        if requests is None:
            self.set("requests.table", "", "no table is named like requests with a status column: none kept")
            self.notes.append(
                'requests.table: no table looks like requests (request, ticket, …): "" (the app keeps '
                "none); name yours if it has one"
            )
        else:
            self._requests(requests)
        self._link(sessions, requests)
        model = Model(
            sessions=Sessions(**self.values["sessions"]),
            requests=Requests(**self.values["requests"]),
            mechanics=Mechanics(**self.values["mechanics"]),
        )
        for part in PARTS:  # the keys not set keep the reference app's values: say so
            for key in dataclasses.asdict(getattr(model, part)):
                self.comments.setdefault(f"{part}.{key}", "")
        self._fill_unused(model)
        found = self._check(model)
        return Proposal(model, self.comments, tuple(self.notes), tuple(self.missing), tuple(found))

    def _fill_unused(self, model: Model) -> None:
        no_sessions = "sessions.table" in self.missing
        for key, comment in list(self.comments.items()):
            if comment:
                continue
            part = key.split(".")[0]
            if part == "sessions" and no_sessions:
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
        except BadInput as exc:
            return [Misfit("model", exc.message, exc.fix or "correct the proposal")]
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

    def _common(self, part: str, table: str) -> None:
        columns = self.catalog.tables[table]
        self.set(f"{part}.table", table, f"named like {part}, with a status column")
        id_ = _id_column(table, columns)
        if id_ is None:
            self.lack(f"{part}.id", f"{table} has no uuid column named id", "name its uuid primary key")
        else:
            self.set(f"{part}.id", id_, "its uuid id")
        created = _created_column(columns)
        if created is None:
            self.lack(
                f"{part}.created_at",
                f"{table} has no timestamptz column named like created_at",
                "name the timestamptz column set when a row is made",
            )
        else:
            self.set(f"{part}.created_at", created, "timestamptz, named like created_at")
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
        self._session_words(words, source, status)

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
        self._request_words(words, source, status)

    def _is_uuid(self, table: str, column: str) -> bool:
        found = self.catalog.column(table, column)
        return found is not None and found.is_uuid

    # -- people ---------------------------------------------------------------------

    def _customer(self, part: str, table: str) -> None:
        fks = [fk for fk in self._fks(table) if self._is_uuid(table, fk.columns[0])]
        users = [fk for fk in fks if fk.ref_table == AUTH_USERS and not _mechanic_named(fk.columns[0])]
        found = _by_name(users, CUSTOMER_COLUMNS)
        if found is not None:
            self.set(f"{part}.customer", found.columns[0], "references auth.users, named like a customer")
            return
        if len(users) == 1:
            self.set(f"{part}.customer", users[0].columns[0], "the one column that references auth.users")
            return
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
            self.set(
                f"{part}.customer", column, f"named like a customer ({where}): check it is the user's id"
            )
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
        if sessions is None:
            if requests is not None:
                self.set("requests.session", "", "not looked for: no sessions table")
            return
        if requests is None:
            self.set("sessions.request", "", "none: no requests table")
            return
        down = [
            fk
            for fk in self._fks(requests)
            if fk.ref_table == sessions and self._is_uuid(requests, fk.columns[0])
        ]
        up = [
            fk
            for fk in self._fks(sessions)
            if fk.ref_table == requests and self._is_uuid(sessions, fk.columns[0])
        ]
        if down:
            fk = _by_name(down, ("session", "")) or down[0]
            self.set("requests.session", fk.columns[0], f"references {sessions}")
            self.set("sessions.request", "", "requests.session links them")
            if up:
                self.notes.append(
                    f"{sessions}.{up[0].columns[0]} also references {requests}: the model keeps one link "
                    "(requests.session)"
                )
            return
        if up:
            fk = _by_name(up, ("request", "")) or up[0]
            self.set("sessions.request", fk.columns[0], f"references {requests}")
            self.set("requests.session", "", "sessions.request links them")
            return
        by_name = _named_uuid(self.catalog.tables[requests], "session")
        if by_name is not None:
            self.set("requests.session", by_name, "no foreign key: named like a session id")
            self.set("sessions.request", "", "requests.session links them")
            self.notes.append(
                f"requests.session: {requests}.{by_name} has no foreign key; linked by its name"
            )
            return
        self.set("requests.session", "", "by customer: no column links a request to its session")
        self.set("sessions.request", "", "by customer: no column links a session to its request")
        self.notes.append(
            "requests and sessions are linked by customer (no column links them): a request belongs to "
            "its customer's sessions"
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

    def _session_words(self, words: list[str], source: str, column: Column) -> None:
        if not words:
            self._no_words("sessions", ("open", "active", "live", "done", "cancelled"), source)
            return
        reference = Sessions()
        classes = {w: _meaning(w) for w in words}
        cancelled = _best(words, CANCELLED) or _best(words, TERMINAL)
        open_ = [w for w in words if classes[w] == "open"]
        live = [w for w in words if classes[w] == "live"]
        engaged = [w for w in words if classes[w] == "engaged"]
        done = [w for w in words if classes[w] in ("done", "cancelled", "terminal") and w != cancelled]
        where = f"from {source}"
        if open_:
            self.set("sessions.open", open_, f"waiting-like words {where}")
        else:
            self._lack_words("sessions.open", words, source, column, "the words of a session not yet started")
            open_ = [w for w in reference.open if w not in (*live, *engaged, *done, cancelled)]
            self.values["sessions"]["open"] = tuple(open_ or reference.open)
        active = list(dict.fromkeys((*open_, *engaged, *live)))
        how = "the open, accepted-like and live words" if engaged else "the open and live words"
        self.set("sessions.active", active, how)
        self.set("sessions.live", live, f"live-like words {where}" if live else f"none {where}")
        if done:
            extra = [w for w in done if classes[w] != "done"]
            tail = f"; {', '.join(extra)}: ended too" if extra else ""
            self.set("sessions.done", done, f"completed-like words {where}{tail}")
        else:
            self._lack_words("sessions.done", words, source, column, "the words of a session that ended well")
        if cancelled is not None:
            self.set("sessions.cancelled", cancelled, f"the cancelled word {where}")
        else:
            self._lack_words(
                "sessions.cancelled", words, source, column, "the word pitstop writes when it cancels"
            )
        self._unmapped("sessions", words, classes)

    def _request_words(self, words: list[str], source: str, column: Column) -> None:
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
            if word is None:
                self._lack_words(f"requests.{key}", words, source, column, what)
            else:
                chosen[key] = word
                self.set(f"requests.{key}", word, f"the {key}-like word {where}")
        expired = _best(words, R_EXPIRED)
        if expired is not None:
            chosen["expired"] = expired
            self.set("requests.expired", expired, f"the expired-like word {where}")
        elif cancelled is not None:
            chosen["expired"] = cancelled
            self.set("requests.expired", cancelled, f"no expired word {where}: the cancelled word")
        else:
            self._lack_words(
                "requests.expired", words, source, column, "the word of a request that went stale"
            )
        left = [w for w in words if w not in chosen.values()]
        if left:
            self.notes.append(f"requests.status: not mapped: {', '.join(left)} (the model names four words)")

    def _no_words(self, part: str, keys: Sequence[str], source: str) -> None:
        for key in keys:
            self.comments[f"{part}.{key}"] = f"{source}: the reference app's words, check them"
        self.notes.append(
            f"{part}.status: {source}, so no words to read: the reference app's are proposed; check them "
            "against the app's code"
        )

    def _lack_words(self, key: str, words: list[str], source: str, column: Column, what: str) -> None:
        if column.allowed is None:  # free text: the reference app's word may be written; say so
            default = getattr(PARTS[key.split(".")[0]](), key.split(".")[1])
            self.comments[key] = f"not among {source} ({', '.join(words)}): the reference app's, check it"
            self.notes.append(f"{key}: none of {', '.join(words)} reads as {what}: proposed {default!r}")
            return
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
UPDATED = ("updated_at", "modified_at", "last_updated_at", "updated", "modified")
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
    return None


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


def _named_uuid(columns: dict[str, Column], word: str) -> str | None:
    return next((c.name for c in columns.values() if c.is_uuid and word in c.name.lower()), None)


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
    """What a session's status word means: open, live, engaged, done, cancelled, terminal (or None)."""
    tokens = _tokens(word)
    for meaning, vocabulary in (
        ("cancelled", CANCELLED), ("done", DONE), ("terminal", TERMINAL), ("live", LIVE),
        ("engaged", ENGAGED), ("open", OPEN),
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
