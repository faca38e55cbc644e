"""``pitstop`` with random arguments: never a traceback, and always one of its exit codes.

Aimed at a real database of its own. ``serve``, ``demo``, ``run`` and
``browser`` are left out: they start servers, test runs or a browser
download, and are tested where they are made.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.errors import ExitCode
from harness.stack.postgres import LocalPostgres
from harness.store.postgres import PostgresStore
from tests.conftest import TARGET_VARIABLES
from tests.seeding import Seeder

FLAGS = [
    "--json", "--dry-run", "--strict", "--with-app-schema", "--user", "--waiting-minutes", "--orphan-minutes",
    "--stale-minutes", "--very-stale-minutes", "--database-url", "--allow-host", "--test-domain",
    "-h", "--help", "--", "-", "-n", "--unknown", "--json=1", "--user=",
]  # fmt: skip
# Command lines carry no NUL, and a UTF-8 locale gives no lone surrogates.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
NUMBERS = st.one_of(st.integers(), st.integers(0, 2**70)).map(str)
ODD = ["", " ", "0", "-0", "1e3", "²", "١٢", "99999999999999999999999", "nan", "@", "@pitstop.test", "a@b"]


@pytest.fixture(scope="module")
def cli_database(postgres: LocalPostgres) -> Iterator[dict[str, object]]:
    """A database of its own, with a test user, a user who is not one, and their sessions."""
    name = f"cli_fuzz_{uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = postgres.url(name)
    with PostgresStore(database_url=url) as store:
        store.install(test_domain="pitstop.test", with_app_schema=True)
        seed = Seeder(store.connection)
        tester, stranger = seed.user(), seed.user(test=False)
        sessions = [seed.session(tester).session, seed.session(stranger, age_minutes=30).session]
        emails = [row[0] for row in store.connection.execute("select email from auth.users")]
    yield {"url": url, "ids": [str(i) for i in (tester, stranger, *sessions)], "emails": emails}
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"drop database {name} with (force)")


# Each command's own options (None: a flag without a value; "": the positional argument).
OWN_OPTIONS: dict[str, dict[str, str | None]] = {
    "sql": {"--with-app-schema": None},
    "install": {"--with-app-schema": None},
    "reset": {"--user": "user", "--dry-run": None, "--json": None},
    "cleanup": {
        "--waiting-minutes": "minutes",
        "--orphan-minutes": "minutes",
        "--dry-run": None,
        "--json": None,
    },
    "force-cancel": {"": "id", "--json": None},
    "health": {
        "--strict": None,
        "--stale-minutes": "minutes",
        "--very-stale-minutes": "minutes",
        "--json": None,
    },
}
TARGET_OPTIONS = {"--database-url": "url", "--test-domain": "domain", "--allow-host": "host"}


def argv_strategy(db: dict[str, object]) -> st.SearchStrategy[list[str]]:
    """Mostly nearly-right command lines (a command, its own options with odd values), some noise."""
    url = str(db["url"])
    urls = [url, "postgresql://postgres@127.0.0.1:1/postgres",
            url + "?sslmode=nonsense", "not a url", "postgresql://", "host=/nonexistent", ""]  # fmt: skip
    known = st.sampled_from([*db["ids"], *db["emails"]])  # type: ignore[list-item]
    value = st.one_of(TEXT, NUMBERS, st.sampled_from(ODD), st.uuids().map(str), known)
    values = {
        "user": st.one_of(known, value),
        "id": st.one_of(known, value),
        "minutes": st.one_of(NUMBERS, st.sampled_from(ODD), TEXT),
        "url": st.sampled_from(urls),
        "domain": st.one_of(st.sampled_from(["pitstop.test", "other.test", "-x", "a..b"]), TEXT),
        "host": st.one_of(st.sampled_from(["example.test", "10.9.8.7", "::1"]), TEXT),
    }

    def option(flag: str, kind: str | None) -> st.SearchStrategy[list[str]]:
        if kind is None:
            return st.just([flag])
        if not flag:
            return values[kind].map(lambda v: [v])
        return values[kind].flatmap(lambda v: st.sampled_from([[flag, v], [f"{flag}={v}"]]))

    def line(command: str) -> st.SearchStrategy[list[str]]:
        choices = {**OWN_OPTIONS[command], **TARGET_OPTIONS}
        part = st.sampled_from(sorted(choices)).flatmap(lambda f: option(f, choices[f]))
        noise = st.one_of(st.sampled_from(FLAGS), value).map(lambda t: [t])
        parts = st.tuples(st.lists(part, max_size=4), st.lists(noise, max_size=1))
        return parts.map(lambda p: [command, *(token for part in (*p[0], *p[1]) for token in part)])

    lines = st.sampled_from(sorted(OWN_OPTIONS)).flatmap(line)
    return st.one_of(lines, lines, lines, st.lists(st.one_of(value, st.sampled_from(FLAGS)), max_size=3))


@settings(max_examples=300)
@given(data=st.data())
def test_random_arguments_give_an_exit_code_and_no_traceback(
    cli_database: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    data: st.DataObject,
) -> None:
    for name in TARGET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", str(cli_database["url"]))
    stranger = UUID(str(cli_database["ids"][1]))  # type: ignore[index]
    argv = data.draw(argv_strategy(cli_database), label="argv")
    code = main(argv)
    out, err = capsys.readouterr()
    event(f"{argv[0] if argv and argv[0] in OWN_OPTIONS else 'other'} exit {code}")
    assert code in set(ExitCode), (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert "are not installed" not in err, "a bad argument must not pass for a missing install"
    if code in (ExitCode.USAGE, ExitCode.REFUSED, ExitCode.UNREACHABLE):
        assert err.strip(), "a failure must say why"
    # Whatever ran, the user who is not a test user kept their session.
    with psycopg.connect(str(cli_database["url"])) as conn:
        left = conn.execute("select count(*) from public.sessions where customer_id = %s", (stranger,))
        assert left.fetchone() == (1,)
