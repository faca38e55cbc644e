"""Test mechanics in a table of their own (``[tool.pitstop.model.mechanics] table``).

pitstop cannot know how an app makes a mechanic (its required columns, a
password hash of its own), so making one is an override point: a *mechanic
factory*, called as ``factory(conn, mechanic) -> id``.

- ``conn``: pitstop's psycopg connection to the target database, inside a
  transaction that pitstop commits once it has registered the row (a factory
  that raises leaves nothing behind);
- ``mechanic``: a ``NewMechanic`` (email in the test domain, name, clear-text
  password, the linked test user's id when the model has ``mechanics.user``);
- returns the new row's id (``mechanics.id``, a uuid).

The factory must write ``mechanic.email``: a row is a test mechanic only when
its email is in the test domain and pitstop registered it (``pitstop.registry``,
with the run's tags), or when it links to a test user. pitstop deletes it at
the end of the run (``pitstop.delete_test_mechanic``) and sweeps dead runs' ones.

In a pytest suite the factory is the ``pitstop_make_mechanic`` fixture's value;
for ``pitstop serve`` it is ``--mechanic-factory module:function``. The default
(``default_factory``) inserts ``(id, email)`` and, with ``mechanics.user``, the
link to the test user pitstop made for it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql

from harness.errors import BadInput, PitstopError
from harness.rules.model import Model
from harness.store.interface import DatabaseStore, NewUser
from harness.store.postgres import translate

OVERRIDE = (
    "define a `pitstop_make_mechanic` fixture in your conftest.py that returns a function "
    "(conn, mechanic) -> id inserting your app's row (for `pitstop serve`: --mechanic-factory "
    "module:function); see harness/engine/mechanics.py"
)


@dataclass(frozen=True)
class NewMechanic:
    """The mechanic pitstop asks a factory for."""

    email: str  # in the test domain: write it as it is, it is one of the two test marks
    name: str
    password: str  # clear text: for an app that keeps a password hash of its own
    label: str  # the fixture it is for: "mechanic" or "second_mechanic" (or "mechanic" for serve)
    run: str
    worker: str
    user_id: UUID | None = None  # the test user made for mechanics.user; None when the model links none


MechanicFactory = Callable[[psycopg.Connection[Any], NewMechanic], Any]


def default_factory(model: Model) -> MechanicFactory:
    """Insert ``(id, email)`` (and ``user`` when the model links one) into the model's mechanics table."""
    m = model.mechanics

    def make(conn: psycopg.Connection[Any], mechanic: NewMechanic) -> UUID:
        values: dict[str, Any] = {m.id: uuid4(), m.email: mechanic.email}
        if m.user:
            values[m.user] = mechanic.user_id
        statement = sql.SQL("insert into {} ({}) values ({}) returning {}").format(
            sql.Identifier(*m.table.split(".", 1)),
            sql.SQL(", ").join(sql.Identifier(c) for c in values),
            sql.SQL(", ").join(sql.Placeholder() * len(values)),
            sql.Identifier(m.id),
        )
        try:
            with conn.transaction():
                row = conn.execute(statement, list(values.values())).fetchone()
        except psycopg.errors.IntegrityError as exc:
            required = _required(conn, m.table, set(values))
            why = f"it requires {', '.join(required)}" if required else translate(exc).message
            raise BadInput(
                f"pitstop's default mechanic factory cannot insert a mechanic into {m.table}: {why}",
                fix=OVERRIDE,
            ) from None
        assert row is not None
        return UUID(str(row[0]))

    return make


def _required(conn: psycopg.Connection[Any], table: str, given: set[str]) -> list[str]:
    """The columns of ``table`` that need a value and have no default, beyond ``given``."""
    rows = conn.execute(
        "select a.attname from pg_attribute a"
        " where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped"
        " and a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = ''"
        " order by a.attnum",
        (sql.Identifier(*table.split(".", 1)).as_string(conn),),
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] not in given]


def make_mechanic(
    store: DatabaseStore,
    factory: MechanicFactory,
    mechanic: NewMechanic,
    *,
    host: str | None,
    pid: int | None,
    origin: str,
) -> UUID:
    """Call ``factory`` and register the row it made, in one transaction; the row's id.

    ``origin`` names the factory in messages (the fixture, or serve's option).
    """
    conn = store.connection
    try:
        with conn.transaction():
            returned = factory(conn, mechanic)
            mechanic_id = _as_uuid(returned, origin)
            store.register_mechanic(mechanic_id, run=mechanic.run, worker=mechanic.worker, host=host, pid=pid)
    except PitstopError:
        raise
    except psycopg.Error as exc:
        error = translate(exc)
        raise BadInput(
            f"{origin} could not make a mechanic: {error.message}", fix=error.fix or OVERRIDE
        ) from None
    return mechanic_id


def make_test_mechanic(
    store: DatabaseStore,
    factory: MechanicFactory | None,
    user: NewUser,
    password: str,
    *,
    label: str,
    run: str,
    worker: str,
    host: str | None,
    pid: int | None,
    origin: str,
    linked: Callable[[UUID], None] | None = None,
) -> UUID:
    """A test mechanic for ``user``: its linked test user first (when the model's
    ``mechanics.user`` is set; ``linked`` is told its id at once), then the row ``factory``
    (default: pitstop's) makes, registered; the row's id.
    """
    user_id = None
    if store.model.mechanics.user:  # the row links to a test user, made first
        user_id = store.create_test_user(user)
        if linked is not None:
            linked(user_id)
    mechanic = NewMechanic(
        email=user["email"],
        name=user["full_name"],
        password=password,
        label=label,
        run=run,
        worker=worker,
        user_id=user_id,
    )
    return make_mechanic(
        store, factory or default_factory(store.model), mechanic, host=host, pid=pid, origin=origin
    )


def _as_uuid(value: Any, origin: str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise BadInput(
            f"{origin} returned {value!r}, not the id of the mechanic it inserted",
            fix="return the new row's id (a uuid), e.g. from `insert … returning id`",
        ) from None


def load_factory(spec: str) -> MechanicFactory:
    """The factory named ``module:function`` (importable from the current directory)."""
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise BadInput(
            f"--mechanic-factory {spec!r} is not module:function",
            fix="e.g. --mechanic-factory tests.mechanics:make",
        )
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BadInput(
            f"cannot import {module_name} for --mechanic-factory: {exc}",
            fix="run from the folder it is importable from, or check its name",
        ) from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise BadInput(
            f"{module_name} has no function {name} for --mechanic-factory",
            fix="name a function (conn, mechanic) -> id",
        )
    return factory  # type: ignore[no-any-return]
