"""The model of the user's app, declared once in ``[tool.pitstop.model]``.

Every key has the reference app's value as its default, so an empty
declaration is the reference app's model. The names here are a contract:
scripts and other teams' TOML files depend on them.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import BadInput


@dataclass(frozen=True)
class Sessions:
    """The table of help sessions."""

    table: str = "public.sessions"
    id: str = "id"
    customer: str = "customer_id"  # references auth.users(id)
    mechanic: str = "mechanic_id"  # "" when there is none
    request: str = ""  # a column referencing the requests table, when the link is kept here
    status: str = "status"
    created_at: str = "created_at"
    ended_at: str = "ended_at"  # "" when there is none; set when pitstop cancels
    updated_at: str = ""  # "" when there is none; set to now() on every row pitstop changes
    # "" when there is none: a session's booked time (timestamptz). An open session scheduled for
    # later is protected: it is not stale until its time has passed (by the threshold).
    scheduled_for: str = ""
    open: tuple[str, ...] = ("pending", "waiting")  # cancelled when stale
    active: tuple[str, ...] = ("pending", "waiting", "live")  # block a new payment; all open and live words
    live: tuple[str, ...] = ("live",)
    done: tuple[str, ...] = ("completed",)
    cancelled: str = "cancelled"  # what pitstop writes when it cancels
    # Whether the stale cleanup may cancel an open session that has a mechanic assigned (false:
    # protected). A model that declares its sessions protects them unless it says true
    # (``load_model``); the reference app's own cleanup cancels them, so its model says true.
    cancel_assigned: bool = True

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status word the model names, in the order health reports them."""
        words = (*self.open, *self.active, *self.live, *self.done, self.cancelled)
        return tuple(dict.fromkeys(words))


@dataclass(frozen=True)
class Requests:
    """The table of session requests (what mechanics see and accept)."""

    table: str = "public.session_requests"  # "" when the app keeps no requests
    id: str = "id"
    customer: str = "customer_id"
    mechanic: str = "accepted_by"  # "" when there is none
    session: str = "session_id"  # "" = requests belong to their customer's sessions
    status: str = "status"
    created_at: str = "created_at"
    pending: str = "pending"
    accepted: str = "accepted"
    expired: str = "expired"  # written when a pending request goes stale
    cancelled: str = "cancelled"

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.pending, self.accepted, self.expired, self.cancelled)))

    def as_queue(self, via: str) -> Queue:
        """The requests as a queue: pending rows are open; an accepted one is over as the rules see
        it (the app's own cleanup never touches it). ``via``: the sessions' column referring to them."""
        return Queue(
            table=self.table, id=self.id, session=self.session, customer=self.customer,
            mechanic=self.mechanic, status=self.status, created_at=self.created_at,
            open=(self.pending,), done=(self.accepted,), expired=self.expired,
            cancelled=self.cancelled, via="" if self.session else via,
        )  # fmt: skip


@dataclass(frozen=True)
class Queue:
    """A table of the mechanics' queue, ``[tool.pitstop.model.queues.<name>]``: rows that offer a
    session to mechanics (an assignment, a dispatch, a request), each linked to its session by a
    column (``session``) or, without one, to the session's customer (``customer``).

    The rules keep every queue consistent with its sessions: open rows expire when stale, a session
    pitstop cancels leaves no open or taken row, a purge removes a test user's rows.
    """

    table: str = ""
    id: str = "id"
    session: str = "session_id"  # references the session; "" = linked by customer
    customer: str = ""  # references the customer (auth.users); "" when there is none
    mechanic: str = ""  # "" when there is none
    status: str = "status"
    created_at: str = "created_at"
    updated_at: str = ""  # "" when there is none; set to now() on every row pitstop changes
    open: tuple[str, ...] = ()  # shown to mechanics: expire when stale
    taken: tuple[str, ...] = ()  # a mechanic has it: cancelled with its session
    done: tuple[str, ...] = ()  # over (declined, finished): never touched
    expired: str = "expired"  # written when an open row goes stale
    cancelled: str = "cancelled"  # written when its session is cancelled
    # Whether every open session has a row here: an open session that no such queue holds is an
    # orphan (no mechanic can accept it), reported by health and cancelled by the cleanup.
    holds: bool = True
    # The sessions' column that refers to this queue's id (the requests' sessions.request): set by
    # the model, never declared for a queue.
    via: str = field(default="", metadata={"declared": False})

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status word the queue names, in the order health reports them."""
        return tuple(dict.fromkeys((*self.open, *self.taken, *self.done, self.expired, self.cancelled)))

    @property
    def link(self) -> str:
        """How a row finds its session: "session" (its column), "via" (the session's column) or "customer"."""
        return "session" if self.session else "via" if self.via else "customer"


@dataclass(frozen=True)
class Mechanics:
    """Mechanics as rows of a table of their own (``table`` empty: they are sign-in users)."""

    table: str = ""  # "" = sessions.mechanic references auth.users
    id: str = "id"
    email: str = "email"
    user: str = ""  # a column referencing auth.users(id), when there is one


# A value declared for a column of a seeded row: written as a literal, read by the column's type.
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Values:
    """What seeding writes into columns the model does not name, per part, as (column, value) pairs:
    ``[tool.pitstop.model.sessions.values]`` and ``[tool.pitstop.model.requests.values]``.

    Not part of the rules (``Model.digest`` leaves them out): changing them needs no install.
    """

    sessions: tuple[tuple[str, Scalar], ...] = ()
    requests: tuple[tuple[str, Scalar], ...] = ()
    queues: tuple[tuple[str, tuple[tuple[str, Scalar], ...]], ...] = ()  # by queue name


# The parts that may declare values (the tables a named state writes), and the keys of each that
# name a column pitstop writes itself: those take no declared value. Each queue declares its own.
VALUE_PARTS: dict[str, tuple[str, ...]] = {
    "sessions": ("id", "customer", "mechanic", "request", "status", "created_at", "ended_at", "updated_at"),
    "requests": ("id", "customer", "mechanic", "session", "status", "created_at"),
}
QUEUE_WRITTEN = ("id", "session", "customer", "mechanic", "status", "created_at", "updated_at")


@dataclass(frozen=True)
class Model:
    sessions: Sessions = field(default_factory=Sessions)
    requests: Requests = field(default_factory=Requests)
    mechanics: Mechanics = field(default_factory=Mechanics)
    # [tool.pitstop.model.queues.<name>], in the order declared.
    queues: tuple[tuple[str, Queue], ...] = ()
    values: Values = field(default_factory=Values)

    @property
    def has_requests(self) -> bool:
        return bool(self.requests.table)

    @property
    def all_queues(self) -> tuple[tuple[str, Queue], ...]:
        """Every queue the rules keep, by name: the requests (when the app keeps them), then the declared."""
        requests = (("requests", self.requests.as_queue(self.sessions.request)),) if self.has_requests else ()
        return (*requests, *self.queues)

    def value_parts(self) -> tuple[tuple[str, str, dict[str, str], tuple[tuple[str, Scalar], ...]], ...]:
        """(part, its table, the columns pitstop writes itself by their key, the values declared) of
        every table a named state writes: sessions, requests and each queue (as ``queues.<name>``)."""
        out = []
        for part, keys in VALUE_PARTS.items():
            declared = getattr(self, part)
            named = {getattr(declared, key): key for key in keys if getattr(declared, key)}
            out.append((part, declared.table, named, getattr(self.values, part)))
        values = dict(self.values.queues)
        for name, queue in self.queues:
            named = {getattr(queue, key): key for key in QUEUE_WRITTEN if getattr(queue, key)}
            out.append((f"queues.{name}", queue.table, named, values.get(name, ())))
        return tuple(out)

    @property
    def has_mechanics_table(self) -> bool:
        return bool(self.mechanics.table)

    @property
    def roots(self) -> tuple[str, ...]:
        """The tables a purge starts from: sessions and every queue."""
        return (self.sessions.table, *(q.table for _, q in self.all_queues))

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the model names: sessions, the queues, then mechanics when it has them."""
        return tuple(t for t in (*self.roots, self.mechanics.table) if t)

    def installed_for_another(self, installed: Mapping[str, str]) -> bool:
        """Whether ``installed`` (what ``install`` recorded) was rendered for another model than
        this one; an install that recorded no model hash was rendered for the default model."""
        return installed.get("model_hash", Model().digest()) != self.digest()

    def values_for(self, table: str) -> dict[str, Scalar]:
        """The values declared for the columns of ``table`` (a part's table), by column."""
        return next((dict(v) for _, t, _, v in self.value_parts() if table and t == table), {})

    def to_json(self) -> dict[str, Any]:
        """The declaration as JSON: one object per part (``queues``: one per queue, by name), a
        part's declared values under its ``values``."""
        out = self._rules_json()
        out.setdefault("queues", {})
        for part, _, _, declared in self.value_parts():
            if declared:
                where = out["queues"][part.split(".", 1)[1]] if part.startswith("queues.") else out[part]
                where["values"] = dict(declared)
        return out

    def digest(self) -> str:
        """A stable hash of what the rules are rendered from (the declared values are not), recorded
        at install and compared by every store."""
        return hashlib.sha256(json.dumps(self._rules_json(), sort_keys=True).encode()).hexdigest()

    def _rules_json(self) -> dict[str, Any]:
        out = {part: dataclasses.asdict(getattr(self, part)) for part in PARTS}
        if self.queues:  # a model without queues hashes as it did before they could be declared
            out["queues"] = {name: _declared(queue) for name, queue in self.queues}
        return out

    def to_toml(self, comments: dict[str, str] | None = None) -> str:
        """The declaration as ``[tool.pitstop.model.*]`` tables; ``comments`` by ``part.key``."""
        comments = comments or {}
        values = {part: declared for part, _, _, declared in self.value_parts()}
        sections = [(part, dataclasses.asdict(getattr(self, part))) for part in PARTS]
        sections += [(f"queues.{name}", _declared(queue)) for name, queue in self.queues]
        out: list[str] = []
        for part, keys in sections:
            if out:
                out.append("")
            out.append(f"[tool.pitstop.model.{part}]")
            for key, value in keys.items():
                note = comments.get(f"{part}.{key}")
                out.append(f"{key} = {_toml(value)}" + (f"  # {note}" if note else ""))
            if values.get(part):
                out += ["", f"[tool.pitstop.model.{part}.values]"]
                out += [f"{_toml_key(column)} = {_toml(value)}" for column, value in values[part]]
        return "\n".join(out) + "\n"


def _declared(queue: Queue) -> dict[str, Any]:
    """A queue's declared keys (not what the model sets itself)."""
    return {
        f.name: getattr(queue, f.name) for f in dataclasses.fields(Queue) if f.metadata.get("declared", True)
    }


PARTS: dict[str, type[Sessions] | type[Requests] | type[Mechanics]] = {
    "sessions": Sessions,
    "requests": Requests,
    "mechanics": Mechanics,
}
# Keys that may not be empty, per part (a part whose table is "" needs none of them).
REQUIRED: dict[str, tuple[str, ...]] = {
    "sessions": ("table", "id", "customer", "status", "created_at", "open", "active", "done", "cancelled"),
    "requests": ("id", "customer", "status", "created_at", "pending", "accepted", "expired", "cancelled"),
    "mechanics": ("id", "email"),
}


def load_model(data: Any, *, source: str = "[tool.pitstop.model]") -> Model:
    """The model from a ``[tool.pitstop.model]`` table: unknown keys, wrong types and empty
    required values are bad input that names the key and the fix."""
    if data is None:
        return Model()
    if not isinstance(data, dict):
        raise BadInput(f"{source} must be a table, not {data!r}", fix="write [tool.pitstop.model.sessions] …")
    unknown = set(data) - {*PARTS, "queues"}
    if unknown:
        raise BadInput(
            f"unknown part {', '.join(sorted(unknown))} in {source}",
            fix=f"use only {', '.join(f'[tool.pitstop.model.{p}]' for p in (*PARTS, 'queues.<name>'))}",
        )
    parts: dict[str, Any] = {}
    declared: dict[str, Any] = {}
    for name, cls in PARTS.items():
        values = data.get(name, {})
        if name in VALUE_PARTS and isinstance(values, dict) and "values" in values:
            values = dict(values)
            declared[name] = _values(name, values.pop("values"), source)
        parts[name] = _part(name, cls, values, source)
    if isinstance(data.get("sessions"), dict) and "cancel_assigned" not in data["sessions"]:
        # Another app's sessions: an assigned one is protected unless the model says otherwise.
        parts["sessions"] = dataclasses.replace(parts["sessions"], cancel_assigned=False)
    queues, declared["queues"] = _queues(data.get("queues", {}), source)
    model = Model(**parts, queues=queues, values=Values(**declared))
    _check_words(model, source)
    _check_values(model, source)
    return model


def _queues(data: Any, source: str) -> tuple[tuple[tuple[str, Queue], ...], tuple[Any, ...]]:
    """``[tool.pitstop.model.queues.<name>]``: each a table of its own, with its own ``values``."""
    example = '[tool.pitstop.model.queues.assignments] with table = "public.assignments" …'
    if not isinstance(data, dict):
        raise BadInput(f"{source}.queues must be a table of queues, not {data!r}", fix=f"write {example}")
    queues: list[tuple[str, Queue]] = []
    values: list[tuple[str, tuple[tuple[str, Scalar], ...]]] = []
    for name, keys in data.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name == "requests":
            raise BadInput(
                f"{source}.queues.{name}: a queue's name is a word of letters, digits and _, not 'requests'",
                fix="name the queue for what it holds, such as assignments "
                "(the requests table is declared as [tool.pitstop.model.requests])",
            )
        if isinstance(keys, dict) and "values" in keys:
            keys = dict(keys)
            values.append((name, _values(f"queues.{name}", keys.pop("values"), source)))
        queues.append((name, _part(f"queues.{name}", Queue, keys, source)))
    tables = [q.table for _, q in queues]
    twice = sorted({t for t in tables if tables.count(t) > 1})
    if twice:
        raise BadInput(f"{source}.queues: {', '.join(twice)} declared twice", fix="declare each table once")
    return tuple(queues), tuple(values)


def _values(part: str, values: Any, source: str) -> tuple[tuple[str, Scalar], ...]:
    """``[tool.pitstop.model.<part>.values]``: column names to literal values (strings, numbers,
    booleans, TOML dates and times, which are written as their ISO text)."""
    where = f"{source}.{part}.values"
    example = f'[tool.pitstop.model.{part}.values] with lines such as payment_ref = "pi_test"'
    if not isinstance(values, dict):
        raise BadInput(f"{where} must be a table of column = value, not {values!r}", fix=f"write {example}")
    out: list[tuple[str, Scalar]] = []
    for column, value in values.items():
        if not column.strip():
            raise BadInput(f"{where} has an empty column name", fix="name a column of the table")
        if isinstance(value, datetime.date | datetime.time):
            value = value.isoformat()
        if isinstance(value, float) and not math.isfinite(value):
            raise BadInput(f"{where}.{column} is {value!r}", fix=f"{column} = 0, or the number the app needs")
        if not isinstance(value, str | int | float | bool):
            raise BadInput(
                f"{where}.{column} must be a string, a number or a boolean, not {value!r}",
                fix=f"{column} = '{{}}' for a json column (JSON as a string); "
                f"{column} = '{{a,b}}' for an array, as PostgreSQL writes one",
            )
        out.append((column.strip(), value))
    return tuple(out)


def _part(name: str, cls: type[Any], values: Any, source: str) -> Any:
    where = f"{source}.{name}"
    if not isinstance(values, dict):
        raise BadInput(f"{where} must be a table, not {values!r}", fix=f"write [tool.pitstop.model.{name}]")
    defaults = cls()
    fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("declared", True)}
    unknown = set(values) - set(fields)
    if unknown:
        raise BadInput(
            f"unknown key {', '.join(sorted(unknown))} in {where}",
            fix=f"use only {', '.join(fields)}",
        )
    out: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(defaults, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise BadInput(
                    f"{where}.{key} must be true or false, not {value!r}",
                    fix=f"{key} = {_toml(default)} (or {_toml(not default)})",
                )
            out[key] = value
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise BadInput(
                    f"{where}.{key} must be a list of status words, not {value!r}",
                    fix=f"{key} = {_toml(default)}",
                )
            out[key] = tuple(v.strip() for v in value)
        elif not isinstance(value, str):
            raise BadInput(f"{where}.{key} must be a string, not {value!r}", fix=f"{key} = {_toml(default)}")
        else:
            out[key] = value.strip()
    part = cls(**out)
    if cls is Queue:
        _check_queue(where, part)
    elif name == "sessions" or part.table:
        for key in REQUIRED[name]:
            if not getattr(part, key):
                raise BadInput(
                    f"{where}.{key} may not be empty",
                    fix=f"{key} = {_toml(getattr(defaults, key))} (or the name your app uses)",
                )
    if part.table and part.table.count(".") != 1:
        raise BadInput(
            f"{where}.table must be schema-qualified, not {part.table!r}",
            fix=f'table = "public.{part.table}"',
        )
    return part


def _check_queue(where: str, queue: Queue) -> None:
    """A queue names its table, id, status and time, how it links to sessions, and its words:
    open ones, and the words pitstop writes, which are neither open nor taken."""
    example = {"table": "public.assignments", "open": ["queued"], "session": "session_id"}
    for key in ("table", "id", "status", "created_at", "open", "expired", "cancelled"):
        if not getattr(queue, key):
            raise BadInput(f"{where}.{key} may not be empty", fix=f"{key} = {_toml(example.get(key, key))}")
    if not queue.session and not queue.customer:
        raise BadInput(
            f"{where} links its rows to nothing: session and customer are both empty",
            fix='session = "session_id" (the column referring to the session), or customer = "customer_id"',
        )
    if queue.table.count(".") != 1:
        raise BadInput(
            f"{where}.table must be schema-qualified, not {queue.table!r}",
            fix=f'table = "public.{queue.table}"',
        )
    shared = set(queue.open) & set(queue.taken)
    if shared:
        raise BadInput(f"{where}: {sorted(shared)} are both open and taken", fix="name each word in one list")
    for key in ("expired", "cancelled"):
        word = getattr(queue, key)
        if word in queue.open or word in queue.taken:
            raise BadInput(
                f"{where}.{key} ({word!r}) is also an open or taken word",
                fix=f"name the word pitstop writes when it {'expires' if key == 'expired' else 'cancels'} "
                "a row, which shows nothing to mechanics",
            )


def _check_words(model: Model, source: str) -> None:
    s = model.sessions
    if s.cancelled in s.active or s.cancelled in s.open:
        raise BadInput(
            f"{source}.sessions.cancelled ({s.cancelled!r}) is also an open or active status",
            fix="name the status pitstop writes when it cancels a session, which blocks nothing",
        )
    for key, words in (("open", s.open), ("live", s.live)):  # a live session blocks a payment too
        outside = [w for w in words if w not in s.active]
        if not outside:
            continue
        # A word close to an active one is a typo: name the word meant before any other advice.
        meant = {w: difflib.get_close_matches(w, s.active, n=1, cutoff=0.75) for w in outside}
        if all(meant.values()):
            fixed = tuple(meant[w][0] if w in meant else w for w in words)
            raise BadInput(
                f"{source}.sessions.{key} names "
                + ", ".join(f"{w!r} (did you mean {meant[w][0]!r}?)" for w in outside)
                + f": {key} words are active words {list(s.active)}",
                fix=f"{key} = {_toml(fixed)}",
            )
        raise BadInput(
            f"{source}.sessions.{key} must be part of active: {sorted(outside)} are not",
            fix=f"active = {_toml(tuple(dict.fromkeys((*s.active, *words))))}",
        )
    if model.has_requests and model.requests.table in (q.table for _, q in model.queues):
        raise BadInput(
            f"{source}: {model.requests.table} is both the requests table and a queue",
            fix='declare it once: as [tool.pitstop.model.requests], or as a queue with requests.table = ""',
        )
    if model.has_requests and s.request and model.requests.session:
        raise BadInput(
            f"{source} links requests to sessions twice (sessions.request and requests.session)",
            fix='keep one: set the other to ""',
        )


def _check_values(model: Model, source: str) -> None:
    """Declared values go to the columns pitstop does not write itself, of tables the model has."""
    if model.values.requests and not model.has_requests:
        raise BadInput(
            f"{source}.requests.values declares values, but the model has no requests table",
            fix="set requests.table, or remove [tool.pitstop.model.requests.values]",
        )
    for part, _, named, declared in model.value_parts():
        for column, _ in declared:
            if column in named:
                raise BadInput(
                    f"{source}.{part}.values.{column}: the column is {part}.{named[column]} of the model, "
                    "which pitstop writes itself",
                    fix=f"remove {column} from [tool.pitstop.model.{part}.values]",
                )


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)
