"""The embedded stack and ``pitstop serve``: up on loopback, down without a trace."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import psycopg
import pytest

from harness.errors import Refused
from harness.stack.embedded import EmbeddedStack, StackInfo, processes
from tests.pickle_guard import PickleGuard

WAIT_S = 60


def _get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        status: int = response.status
        return status


def _listening_addresses(port: int) -> set[str]:
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()}


def test_the_stack_starts_every_part_on_loopback_and_stops_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = PickleGuard(tmp_path, monkeypatch)  # localstripe's shared file: see tests/test_stripe_state.py
    stack = EmbeddedStack()
    with stack as info:
        assert _get(f"{info.app_url}/customer/login") == 200
        assert _get(f"{info.stripe_api_base}/v1/customers", token="sk_test_x") == 200
        for n in range(3):  # writes: each would dump localstripe's whole store to the shared file
            created = httpx.post(
                f"{info.stripe_api_base}/v1/customers", data={"email": f"c{n}@pitstop.test"},
                auth=("sk_test_x", ""), timeout=WAIT_S,
            )  # fmt: skip
            assert created.status_code == 200, created.text
        with psycopg.connect(info.database_url) as conn:
            assert conn.execute("select pitstop.health() ->> 'orphans'").fetchone() == ("0",)
        pids = stack.pids
        assert set(pids) == {"app", "stripe", "localstripe", "postgres"}
        running = [processes.entry(pid) for pid in pids.values()]
        for url in (info.app_url, info.stripe_api_base):
            port = int(url.rsplit(":", 1)[1])
            assert _listening_addresses(port) <= {"127.0.0.1", "[::ffff:127.0.0.1]"}, url
    assert not any(processes.alive(p) for p in running if p is not None)
    assert stack.pids == {}
    assert guard.watched(pids["localstripe"]) and guard.opened() == {}


def test_serve_writes_the_ready_file_and_stops_on_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "stack.json"
    serve = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while not ready.exists():
            assert serve.poll() is None, serve.stderr.read() if serve.stderr else ""
            assert time.monotonic() < deadline, "the stack did not get ready"
            time.sleep(0.1)
        data = json.loads(ready.read_text())
        assert set(data) == {
            "app_url", "database_url", "stripe_api_base", "admin_token", "supabase_url", "jwt_secret"
        }  # fmt: skip
        info = StackInfo(**data)
        assert _get(f"{info.app_url}/customer/login") == 200
        children = processes.descendants(serve.pid)
        assert children
        # The printed users sign in with the printed passwords, through the app's Supabase Auth gates.
        assert serve.stderr is not None
        people = []
        for line in serve.stderr:
            if "Ctrl-C to stop" in line:
                break
            if "/login" in line:
                people.append(line.split())
        assert [p[0] for p in people] == ["customer", "mechanic", "admin"]
        for role, email, password, login_url in people:
            answer = httpx.post(login_url, data={"email": email, "password": password}, timeout=WAIT_S)
            assert answer.status_code == 303, (role, answer.text[-300:])
        with psycopg.connect(info.database_url) as conn:
            identities = conn.execute(
                "select count(*) from auth.identities i join auth.users u on u.id = i.user_id"
                " where u.email = any(%s) and i.provider = 'email'",
                ([p[1] for p in people],),
            ).fetchone()
        assert identities == (3,)
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=WAIT_S)
    assert serve.returncode == 0, err
    assert json.loads(out.splitlines()[0]) == data  # printed too
    assert not ready.exists()
    assert not any(processes.alive(p) for p in children)


def test_a_part_that_cannot_start_stops_the_rest_and_exits_4(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "harness", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )
    assert result.returncode == 4
    assert "app failed to start" in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr.split("app failed to start")[0]


def test_the_app_starts_again_on_another_port_when_its_own_was_taken_meanwhile(
    postgres_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's port is chosen before PostgreSQL starts; here another process holds it by the time
    the app binds (as an outgoing connection's ephemeral port may): the app starts on a new one."""
    from harness.stack import embedded

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        held = taken.getsockname()[1]
        ports = iter([None, held])  # the Stripe front's port first, then the app's: the one held
        real = embedded.free_port
        monkeypatch.setattr(embedded, "free_port", lambda: next(ports, None) or real())
        with EmbeddedStack(database_url=postgres_db_url) as info:
            assert not info.app_url.endswith(f":{held}")
            assert _get(f"{info.app_url}/customer/login") == 200


@pytest.fixture(autouse=True)
def _no_live_stripe_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert os.environ.get("STRIPE_SECRET_KEY") is None


def test_the_stack_installs_with_the_statement_timeout_of_the_rest_of_pitstop(
    postgres_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What statement_timeout each DDL statement of pitstop's connections ran under, recorded by the
    # server itself (an event trigger), while the stack installs the schema and the rules again
    # on a database it installed into before (a blank one refuses nothing; see the test below).
    with EmbeddedStack(database_url=postgres_db_url):
        pass
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute(
            """
            create schema observed;
            create table observed.timeouts (value text not null);
            create function observed.note() returns event_trigger language plpgsql as $$
            begin
              if current_setting('application_name') = 'pitstop' then
                insert into observed.timeouts values (current_setting('statement_timeout'));
              end if;
            end $$;
            create event trigger note_timeout on ddl_command_end execute function observed.note();
            """
        )
        # The observer's table counts as the stack's own: an app table added since would be refused.
        conn.execute(
            "update pitstop.settings set value = value || ',observed.timeouts' where key = 'embedded_stack'"
        )
    monkeypatch.setenv("PITSTOP_STATEMENT_TIMEOUT", "7")  # as the plugin and the commands read it
    with EmbeddedStack(database_url=postgres_db_url):
        pass
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        seen = conn.execute("select value, count(*) from observed.timeouts group by value").fetchall()
    assert [value for value, _ in seen] == ["7s"], seen  # not the store's default, 30 s


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select n.nspname || '.' || c.relname"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')"
            " order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def test_the_stack_refuses_a_database_an_app_of_its_own_lives_in_and_writes_nothing(
    postgres_db_url: str,
) -> None:
    # A user's DATABASE_URL, with no --base-url: the stack would install the reference app there.
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute("create table public.consultations (id uuid primary key, state text not null)")
    with pytest.raises(Refused) as refused:
        EmbeddedStack(database_url=postgres_db_url).start()
    assert "holds objects of its own (public.consultations)" in refused.value.message
    assert "--base-url" in (refused.value.fix or "")
    assert _tables(postgres_db_url) == ["public.consultations"]  # no pitstop, auth or reference tables


def test_the_stack_takes_a_blank_database_and_then_its_own_again(postgres_db_url: str) -> None:
    with EmbeddedStack(database_url=postgres_db_url):
        pass
    installed = _tables(postgres_db_url)
    assert "public.sessions" in installed and "pitstop.settings" in installed
    with EmbeddedStack(database_url=postgres_db_url) as info:  # marked as the stack's: no refusal
        assert _get(info.app_url + "/healthz") == 200


@pytest.mark.parametrize(
    "statement",
    [
        "create view public.open_jobs as select 1 as id",
        "create function public.notify_page_change() returns int language sql as 'select 1'",
        "create type public.job_state as enum ('open', 'done')",
    ],
    ids=["a-view", "a-function", "a-type"],
)
def test_a_database_of_no_tables_but_objects_of_its_own_is_not_blank(
    postgres_db_url: str, statement: str
) -> None:
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute(statement)
    with pytest.raises(Refused, match="holds objects of its own"):
        EmbeddedStack(database_url=postgres_db_url).start()
    assert _tables(postgres_db_url) == []


def test_the_stacks_own_database_with_an_app_table_added_since_is_refused(postgres_db_url: str) -> None:
    with EmbeddedStack(database_url=postgres_db_url):
        pass
    with psycopg.connect(postgres_db_url, autocommit=True) as conn:
        conn.execute("create table public.consultations (id uuid primary key)")
    with pytest.raises(Refused, match="holds objects of its own"):
        EmbeddedStack(database_url=postgres_db_url).start()
