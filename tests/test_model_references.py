"""The model's user and link columns against the catalog's foreign keys: a customer or mechanic
column that refers to anything but the users (or the model's mechanics table), a link that refers
to anything but the other table's id, or the row's own id, is a misfit that ``install`` refuses
(exit 2, nothing written) and ``inspect`` shows; a column with no foreign key is taken as it is.
Every schema here is real, in a database of its own."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.errors import BadInput
from harness.rules.model import Model, load_model
from harness.rules.model.catalog import Catalog, read_catalog
from harness.rules.model.fit import Misfit, misfits
from harness.rules.model.propose import propose
from harness.stack.postgres import LocalPostgres
from harness.store.interface import NewUser
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli
from tests.model_worlds import NAMES, create_database, database_with, drop_database, has_pitstop, model_of

pytestmark = pytest.mark.usefixtures("no_target_environment")

# Consultations: mechanics are sign-in users, the sessions' mechanic through a profile keyed by
# the user's id; a request names the user who claimed it and the session it became.
CONSULTATIONS = """
create table public.profiles (
    id uuid primary key references auth.users on delete cascade,
    email text not null
);
create table public.sessions (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    mechanic_id uuid references public.profiles,
    status text not null default 'pending'
        check (status in ('pending', 'waiting', 'live', 'completed', 'cancelled')),
    created_at timestamptz not null default now(),
    ended_at timestamptz
);
create table public.session_requests (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    claimed_by uuid references auth.users,
    consultation_id uuid references public.sessions on delete cascade,
    status text not null default 'pending' check (status in ('pending', 'accepted', 'expired', 'cancelled')),
    created_at timestamptz not null default now()
);
"""
CONSULTATION_MODEL = {"requests": {"mechanic": "claimed_by", "session": "consultation_id"}}

# The same app without a single foreign key on its user and link columns.
LOOSE = """
create table public.sessions (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null,
    mechanic_id uuid,
    status text not null default 'pending',
    created_at timestamptz not null default now(),
    ended_at timestamptz
);
create table public.session_requests (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null,
    accepted_by uuid,
    session_id uuid,
    status text not null default 'pending',
    created_at timestamptz not null default now()
);
"""


# Mechanics keyed by the user's id: a mechanic's row has its sign-in user's id, so the sessions'
# mechanic refers to the mechanics table and the request's accepted_by to auth.users, both
# holding the same ids. ``{key}`` is the mechanics' id.
MECHANICS = """
create table public.mechanics (
    {key},
    email text not null unique
);
create table public.sessions (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    mechanic_id uuid references public.mechanics,
    status text not null default 'pending'
        check (status in ('pending', 'waiting', 'live', 'completed', 'cancelled')),
    created_at timestamptz not null default now(),
    ended_at timestamptz
);
create table public.session_requests (
    id uuid primary key default gen_random_uuid(),
    customer_id uuid not null references auth.users,
    accepted_by uuid references auth.users,
    session_id uuid references public.sessions on delete cascade,
    status text not null default 'pending' check (status in ('pending', 'accepted', 'expired', 'cancelled')),
    created_at timestamptz not null default now()
);
"""
KEYED = MECHANICS.format(key="id uuid primary key references auth.users on delete cascade")
# The same ids, but no foreign key says so: the model's mechanics.user = "id" does.
KEYED_LOOSELY = MECHANICS.format(key="id uuid primary key")
# Mechanics with ids of their own, linked to a sign-in user by user_id: accepted_by's user ids are
# no mechanic's ids.
UNKEYED = MECHANICS.format(
    key="id uuid primary key default gen_random_uuid(),\n    user_id uuid references auth.users"
)
KEYED_MODEL = {
    "requests": {"mechanic": "accepted_by", "session": "session_id"},
    "mechanics": {"table": "public.mechanics", "user": "id"},
}


def _database(postgres: LocalPostgres, ddl: str) -> str:
    return database_with(postgres.url(), ddl, prefix="refs")


@pytest.fixture(scope="module")
def consultations(postgres: LocalPostgres) -> Iterator[str]:
    url = _database(postgres, CONSULTATIONS)
    yield url
    drop_database(postgres.url(), url)


@pytest.fixture(scope="module")
def shipped(postgres: LocalPostgres) -> Iterator[dict[str, str]]:
    """A database of each of tests/schemas, nothing installed."""
    urls = {name: create_database(postgres.url(), name) for name in NAMES}
    yield urls
    for url in urls.values():
        drop_database(postgres.url(), url)


@pytest.fixture(scope="module")
def keyed(postgres: LocalPostgres) -> Iterator[str]:
    url = _database(postgres, KEYED)
    yield url
    drop_database(postgres.url(), url)


def _email(role: str) -> str:
    return f"{role}-refs@pitstop.test"


def _user(role: str) -> NewUser:
    return NewUser(
        email=_email(role),
        password_hash="$2a$04$abcdefghijklmnopqrstuu5Q0p9b3mQn0k8F9rXo0nZpD2i5x1W6e",
        full_name=role.title(),
        role=role,
        metadata={"pitstop": True},
    )


def catalog(url: str) -> Catalog:
    with psycopg.connect(url) as conn:
        return read_catalog(conn)


def declared(base: dict[str, Any], **changes: dict[str, str]) -> dict[str, Any]:
    """``base`` (a [tool.pitstop.model] table) with some keys of its parts changed."""
    out = {part: dict(keys) for part, keys in base.items()}
    for part, keys in changes.items():
        out.setdefault(part, {}).update(keys)
    return out


def toml_of(data: dict[str, Any], path: Path) -> str:
    path.write_text(load_model(data).to_toml(), encoding="utf-8")
    return str(path)


def refused(capsys: pytest.CaptureFixture[str], url: str, config: str, expected: Misfit) -> None:
    """``pitstop install`` with ``config``: exit 2 naming ``expected`` and its fix, nothing written."""
    code, out, err = run_cli(capsys, "install", "--config", config, "--database-url", url)
    assert (code, out) == (2, "")
    assert f"    {expected}" in err
    assert "nothing was written" in err
    assert not has_pitstop(url)


# -- the model fits: every shipped schema, the reference app, profiles, no foreign keys at all ---------


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_schema_fits_its_model(shipped: dict[str, str], name: str) -> None:
    assert misfits(model_of(name), catalog(shipped[name])) == []


def test_the_reference_app_fits_the_default_model(database_url: str) -> None:
    assert misfits(Model(), catalog(database_url)) == []


def test_a_mechanic_column_may_refer_to_a_profile_keyed_by_the_users_id(consultations: str) -> None:
    assert misfits(load_model(CONSULTATION_MODEL), catalog(consultations)) == []


def test_columns_without_foreign_keys_are_taken_as_declared_and_install(postgres: LocalPostgres) -> None:
    url = _database(postgres, LOOSE)
    try:
        assert misfits(Model(), catalog(url)) == []
        with PostgresStore(database_url=url, model=Model()) as store:
            store.install(test_domain="pitstop.test")
        assert has_pitstop(url)
    finally:
        drop_database(postgres.url(), url)


def test_the_row_own_id_is_refused_even_without_a_foreign_key(postgres: LocalPostgres) -> None:
    url = _database(postgres, LOOSE)
    try:
        model = load_model({"sessions": {"customer": "id"}, "requests": {"session": "id"}})
        assert misfits(model, catalog(url)) == [
            Misfit(
                "sessions.customer",
                "public.sessions.id is the row's own id (sessions.id), not a reference to auth.users(id)",
                "name the column of public.sessions that references auth.users(id)",
            ),
            Misfit(
                "requests.session",
                "public.session_requests.id is the row's own id (requests.id), not a reference to "
                "public.sessions(id), the sessions table",
                "name the column of public.session_requests that references public.sessions(id); or "
                'session = "" to link requests to sessions by customer',
            ),
        ]
    finally:
        drop_database(postgres.url(), url)


# -- mechanics keyed by the user's id: a key to auth.users holds mechanics' ids too ------------------


def test_propose_on_mechanics_keyed_by_the_users_id_proposes_a_model_that_fits(keyed: str) -> None:
    found = catalog(keyed)
    proposal = propose(found)
    model = proposal.model
    assert (model.mechanics.table, model.mechanics.id, model.mechanics.user) == (
        "public.mechanics",
        "id",
        "id",
    )
    assert (model.sessions.mechanic, model.requests.mechanic) == ("mechanic_id", "accepted_by")
    assert proposal.misfits == ()
    assert misfits(model, found) == []
    assert misfits(load_model(KEYED_MODEL), found) == []


def test_install_takes_the_proposed_model_of_mechanics_keyed_by_the_users_id(
    postgres: LocalPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _database(postgres, KEYED)
    try:
        config = tmp_path / "pitstop.toml"
        config.write_text(propose(catalog(url)).toml, encoding="utf-8")
        code, out, err = run_cli(capsys, "install", "--config", str(config), "--database-url", url)
        assert code == 0, err
        assert "installed the pitstop functions" in out
        assert has_pitstop(url)
        # The rules take a mechanic's user id for its id: a purge of the mechanic's user finds the
        # session (mechanic_id) and the request (accepted_by) it served a test customer in.
        model = load_model(tomllib.loads(config.read_text())["tool"]["pitstop"]["model"])
        with PostgresStore(database_url=url, model=model) as store:
            customer, mechanic = (store.create_test_user(_user(role)) for role in ("customer", "mechanic"))
            conn = store.connection
            conn.execute(
                "insert into public.mechanics (id, email) values (%s, %s)", (mechanic, _email("mechanic"))
            )
            row = conn.execute(
                "insert into public.sessions (customer_id, mechanic_id, status)"
                " values (%s, %s, 'live') returning id",
                (customer, mechanic),
            ).fetchone()
            assert row is not None
            conn.execute(
                "insert into public.session_requests (customer_id, accepted_by, session_id, status)"
                " values (%s, %s, %s, 'accepted')",
                (customer, mechanic, row[0]),
            )
            assert [s["id"] for s in store.active_sessions([mechanic])] == [str(row[0])]
            counts = store.purge_user(mechanic)
            assert (counts["sessions"], counts["session_requests"], counts["kept"]) == (1, 1, 0)
    finally:
        drop_database(postgres.url(), url)


def test_a_mechanics_user_that_is_its_id_keys_the_mechanics_by_the_users_id(postgres: LocalPostgres) -> None:
    """No foreign key on mechanics.id: the model's ``user = "id"`` says it is the user's id."""
    url = _database(postgres, KEYED_LOOSELY)
    try:
        assert misfits(load_model(KEYED_MODEL), catalog(url)) == []
        with PostgresStore(database_url=url, model=load_model(KEYED_MODEL)) as store:
            store.install(test_domain="pitstop.test")
        assert has_pitstop(url)
        # Without it, nothing says a mechanic's id is a user's: accepted_by is not a mechanic column.
        data = declared(KEYED_MODEL, mechanics={"user": ""})
        assert misfits(load_model(data), catalog(url)) == [
            Misfit(
                "requests.mechanic",
                "public.session_requests.accepted_by references auth.users(id), not public.mechanics(id), "
                "the mechanics table",
                "name the column of public.session_requests that references public.mechanics(id); or "
                'mechanics.table = "" if mechanics are sign-in users',
            )
        ]
    finally:
        drop_database(postgres.url(), url)


def test_mechanics_keyed_by_the_users_id_may_be_taken_for_sign_in_users(keyed: str) -> None:
    """The other way round: with no mechanics table, sessions.mechanic_id refers to mechanics keyed
    by the user's id, so it holds user ids (the profile rule)."""
    assert misfits(load_model(declared(KEYED_MODEL, mechanics={"table": ""})), catalog(keyed)) == []


def test_a_profile_keyed_by_the_users_id_may_be_the_mechanics_table(consultations: str) -> None:
    """claimed_by refers to auth.users; the profiles' ids are the users' ids."""
    data = declared(CONSULTATION_MODEL, mechanics={"table": "public.profiles"})
    assert misfits(load_model(data), catalog(consultations)) == []


def test_a_wrong_mechanic_column_is_pointed_at_the_users_column_not_the_customers(keyed: str) -> None:
    """Both accepted_by and customer_id hold ids a mechanic's may be; customer_id is the customer's."""
    data = declared(KEYED_MODEL, requests={"mechanic": "session_id", "session": ""})
    assert misfits(load_model(data), catalog(keyed)) == [
        Misfit(
            "requests.mechanic",
            "public.session_requests.session_id references public.sessions(id), not public.mechanics(id), "
            "the mechanics table",
            "did you mean accepted_by?",
        )
    ]


def test_mechanics_with_ids_of_their_own_are_not_the_users(
    postgres: LocalPostgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _database(postgres, UNKEYED)
    try:
        expected = Misfit(
            "requests.mechanic",
            "public.session_requests.accepted_by references auth.users(id), not public.mechanics(id), "
            "the mechanics table",
            "name the column of public.session_requests that references public.mechanics(id); or "
            'mechanics.table = "" if mechanics are sign-in users',
        )
        proposal = propose(catalog(url))
        assert proposal.model.mechanics.user == "user_id"
        assert proposal.model.requests.mechanic == "accepted_by"
        assert proposal.misfits == (expected,)  # the proposal says so itself
        data = declared(KEYED_MODEL, mechanics={"user": "user_id"})
        assert misfits(load_model(data), catalog(url)) == [expected]
        refused(capsys, url, toml_of(data, tmp_path / "pitstop.toml"), expected)
    finally:
        drop_database(postgres.url(), url)


# -- wrong references: a misfit naming the key, what the column refers to, and the fix ---------------

WRONG = [
    pytest.param(
        {"sessions": {"customer": "id"}},
        Misfit(
            "sessions.customer",
            "public.sessions.id is the row's own id (sessions.id), not a reference to auth.users(id)",
            "did you mean customer_id?",
        ),
        id="customer-is-the-sessions-own-id",
    ),
    pytest.param(
        {"requests": {"session": "claimed_by"}},
        Misfit(
            "requests.session",
            "public.session_requests.claimed_by references auth.users(id), not public.sessions(id), "
            "the sessions table",
            "did you mean consultation_id?",
        ),
        id="session-is-a-user-column",
    ),
    pytest.param(
        {"requests": {"session": "id"}},
        Misfit(
            "requests.session",
            "public.session_requests.id is the row's own id (requests.id), not a reference to "
            "public.sessions(id), the sessions table",
            "did you mean consultation_id?",
        ),
        id="session-is-the-requests-own-id",
    ),
    pytest.param(
        {"requests": {"mechanic": "consultation_id", "session": ""}},
        Misfit(
            "requests.mechanic",
            "public.session_requests.consultation_id references public.sessions(id), not auth.users(id)",
            "did you mean claimed_by?",
        ),
        id="mechanic-is-the-session-link",
    ),
    pytest.param(
        {"requests": {"customer": "consultation_id", "session": ""}},
        Misfit(
            "requests.customer",
            "public.session_requests.consultation_id references public.sessions(id), not auth.users(id)",
            "did you mean customer_id?",
        ),
        id="customer-is-the-session-link",
    ),
    pytest.param(
        {"sessions": {"request": "mechanic_id"}, "requests": {"session": ""}},
        Misfit(
            "sessions.request",
            "public.sessions.mechanic_id references public.profiles(id), not public.session_requests(id), "
            "the requests table",
            "name the column of public.sessions that references public.session_requests(id); or "
            'request = "" to link requests to sessions by customer',
        ),
        id="request-is-a-user-column",
    ),
]


@pytest.mark.parametrize(("change", "expected"), WRONG)
def test_a_wrong_reference_is_a_misfit_and_install_refuses_it(
    consultations: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, dict[str, str]],
    expected: Misfit,
) -> None:
    data = declared(CONSULTATION_MODEL, **change)
    assert misfits(load_model(data), catalog(consultations)) == [expected]
    refused(capsys, consultations, toml_of(data, tmp_path / "pitstop.toml"), expected)
    store = PostgresStore(database_url=consultations, model=load_model(data))
    with store, pytest.raises(BadInput, match="does not fit the database"):  # the store's own check
        store.install(test_domain="pitstop.test")
    assert not has_pitstop(consultations)


def test_inspect_shows_a_wrong_reference_as_a_misfit(
    consultations: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = toml_of(declared(CONSULTATION_MODEL, sessions={"customer": "id"}), tmp_path / "pitstop.toml")
    code, out, _ = run_cli(capsys, "inspect", "--json", "--config", config, "--database-url", consultations)
    assert code == 0
    model = json.loads(out)["model"]
    assert model["ok"] is False
    assert model["misfits"] == [
        {
            "key": "sessions.customer",
            "message": "public.sessions.id is the row's own id (sessions.id), not a reference to "
            "auth.users(id)",
            "fix": "did you mean customer_id?",
        }
    ]
    code, out, _ = run_cli(capsys, "inspect", "--config", config, "--database-url", consultations)
    assert code == 0 and "  does not fit (install would refuse it):" in out
    assert "      fix: did you mean customer_id?" in out


# -- the shipped schemas, misdeclared --------------------------------------------------------------

SHIPPED_WRONG = [
    pytest.param(
        "workshop",
        {"sessions": {"request": "tech"}},
        [
            Misfit(
                "sessions.request",
                "shop.jobs.tech references shop.technicians(tech_id), not shop.tickets(ticket_id), "
                "the requests table",
                "did you mean ticket?",
            )
        ],
        id="workshop-request-is-the-technician",
    ),
    pytest.param(
        "workshop",
        {"mechanics": {"user": "on_job"}},
        [
            Misfit(
                "mechanics.user",
                "shop.technicians.on_job references shop.jobs(job_id), not auth.users(id)",
                "did you mean account?",
            )
        ],
        id="workshop-mechanic-user-is-the-job",
    ),
    pytest.param(
        "workshop",
        {"mechanics": {"table": ""}},
        [
            Misfit(
                f"{part}.mechanic",
                f"shop.{table}.{column} references shop.technicians(tech_id), not auth.users(id)",
                f"name the column of shop.{table} that references auth.users(id); or "
                'mechanics.table = "shop.technicians" if mechanics are rows of it',
            )
            for part, table, column in (("sessions", "jobs", "tech"), ("requests", "tickets", "claimed_by"))
        ],
        id="workshop-technicians-taken-for-sign-in-users",
    ),
    pytest.param(
        "garage",
        {"sessions": {"mechanic": "customer_user_id"}},
        [
            Misfit(
                "sessions.mechanic",
                "public.sessions.customer_user_id references auth.users(id), not public.mechanics(id), "
                "the mechanics table",
                "did you mean mechanic_id?",
            )
        ],
        id="garage-mechanic-is-the-customer",
    ),
    pytest.param(
        "helpdesk",
        {"requests": {"customer": "call_id", "session": ""}},
        [
            Misfit(
                "requests.customer",
                "desk.call_requests.call_id references desk.calls(call_id), not auth.users(id)",
                "did you mean asker?",
            )
        ],
        id="helpdesk-customer-is-the-call",
    ),
]


@pytest.mark.parametrize(("name", "change", "expected"), SHIPPED_WRONG)
def test_a_shipped_schema_misdeclared_is_refused(
    shipped: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    change: dict[str, dict[str, str]],
    expected: list[Misfit],
) -> None:
    base = json.loads(json.dumps(model_of(name).to_json()))
    data = declared(base, **change)
    assert misfits(load_model(data), catalog(shipped[name])) == expected
    refused(capsys, shipped[name], toml_of(data, tmp_path / "pitstop.toml"), expected[0])


# -- live words are active words -------------------------------------------------------------------


def test_a_live_word_that_is_not_active_is_refused_at_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declaration = {"sessions": {"live": ["live", "on_air"]}}
    with pytest.raises(BadInput) as caught:
        load_model(declaration)
    assert caught.value.message == (
        "[tool.pitstop.model].sessions.live must be part of active: ['on_air'] are not"
    )
    assert caught.value.fix == 'active = ["pending", "waiting", "live", "on_air"]'
    config = tmp_path / "pitstop.toml"
    config.write_text('[tool.pitstop.model.sessions]\nactive = ["pending", "waiting"]\n', encoding="utf-8")
    code, out, err = run_cli(capsys, "sql", "--config", str(config))
    assert (code, out) == (2, "")
    assert "sessions.live must be part of active: ['live'] are not" in err
    assert 'active = ["pending", "waiting", "live"]' in err
