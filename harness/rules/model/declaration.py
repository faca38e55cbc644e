"""The model of the user's app, declared once in ``[tool.pitstop.model]``.

Every key has the reference app's value as its default, so an empty
declaration is the reference app's model. The names here are a contract:
scripts and other teams' TOML files depend on them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
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
    open: tuple[str, ...] = ("pending", "waiting")  # cancelled when stale
    active: tuple[str, ...] = ("pending", "waiting", "live")  # block a new payment; all open and live words
    live: tuple[str, ...] = ("live",)
    done: tuple[str, ...] = ("completed",)
    cancelled: str = "cancelled"  # what pitstop writes when it cancels

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


@dataclass(frozen=True)
class Mechanics:
    """Mechanics as rows of a table of their own (``table`` empty: they are sign-in users)."""

    table: str = ""  # "" = sessions.mechanic references auth.users
    id: str = "id"
    email: str = "email"
    user: str = ""  # a column referencing auth.users(id), when there is one


@dataclass(frozen=True)
class Model:
    sessions: Sessions = field(default_factory=Sessions)
    requests: Requests = field(default_factory=Requests)
    mechanics: Mechanics = field(default_factory=Mechanics)

    @property
    def has_requests(self) -> bool:
        return bool(self.requests.table)

    @property
    def has_mechanics_table(self) -> bool:
        return bool(self.mechanics.table)

    @property
    def roots(self) -> tuple[str, ...]:
        """The tables a purge starts from: sessions, and requests when the app keeps them."""
        return tuple(t for t in (self.sessions.table, self.requests.table) if t)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the model names: sessions, then requests and mechanics when it has them."""
        return tuple(t for t in (self.sessions.table, self.requests.table, self.mechanics.table) if t)

    def installed_for_another(self, installed: Mapping[str, str]) -> bool:
        """Whether ``installed`` (what ``install`` recorded) was rendered for another model than
        this one; an install that recorded no model hash was rendered for the default model."""
        return installed.get("model_hash", Model().digest()) != self.digest()

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """A stable hash of the declaration, recorded at install and compared by every store."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()

    def to_toml(self, comments: dict[str, str] | None = None) -> str:
        """The declaration as ``[tool.pitstop.model.*]`` tables; ``comments`` by ``part.key``."""
        comments = comments or {}
        out: list[str] = []
        for part in PARTS:
            if out:
                out.append("")
            out.append(f"[tool.pitstop.model.{part}]")
            for key, value in dataclasses.asdict(getattr(self, part)).items():
                note = comments.get(f"{part}.{key}")
                out.append(f"{key} = {_toml(value)}" + (f"  # {note}" if note else ""))
        return "\n".join(out) + "\n"


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
    unknown = set(data) - set(PARTS)
    if unknown:
        raise BadInput(
            f"unknown part {', '.join(sorted(unknown))} in {source}",
            fix=f"use only {', '.join(f'[tool.pitstop.model.{p}]' for p in PARTS)}",
        )
    parts: dict[str, Any] = {}
    for name, cls in PARTS.items():
        parts[name] = _part(name, cls, data.get(name, {}), source)
    model = Model(**parts)
    _check_words(model, source)
    return model


def _part(name: str, cls: type[Any], values: Any, source: str) -> Any:
    where = f"{source}.{name}"
    if not isinstance(values, dict):
        raise BadInput(f"{where} must be a table, not {values!r}", fix=f"write [tool.pitstop.model.{name}]")
    defaults = cls()
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise BadInput(
            f"unknown key {', '.join(sorted(unknown))} in {where}",
            fix=f"use only {', '.join(fields)}",
        )
    out: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(defaults, key)
        if isinstance(default, tuple):
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
    if name == "sessions" or part.table:
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


def _check_words(model: Model, source: str) -> None:
    s = model.sessions
    if s.cancelled in s.active or s.cancelled in s.open:
        raise BadInput(
            f"{source}.sessions.cancelled ({s.cancelled!r}) is also an open or active status",
            fix="name the status pitstop writes when it cancels a session, which blocks nothing",
        )
    if not set(s.open) <= set(s.active):
        raise BadInput(
            f"{source}.sessions.open must be part of active: {sorted(set(s.open) - set(s.active))} are not",
            fix=f"active = {_toml(tuple(dict.fromkeys((*s.active, *s.open))))}",
        )
    if not set(s.live) <= set(s.active):  # a live session blocks a payment and is a test's leftover
        raise BadInput(
            f"{source}.sessions.live must be part of active: {sorted(set(s.live) - set(s.active))} are not",
            fix=f"active = {_toml(tuple(dict.fromkeys((*s.active, *s.live))))}",
        )
    if model.has_requests and s.request and model.requests.session:
        raise BadInput(
            f"{source} links requests to sessions twice (sessions.request and requests.session)",
            fix='keep one: set the other to ""',
        )


def _toml(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return json.dumps(value)
