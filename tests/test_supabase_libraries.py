"""The sessions pitstop writes, as Supabase's own client libraries and PostgreSQL read them.

npm's ``@supabase/ssr`` and ``@supabase/supabase-js`` (and ``ws``: supabase-js wants a
WebSocket on Node before 22; ``jose`` verifies tokens) are installed once into the
virtual environment (``<venv>/pitstop-node``), pinned, and driven by
tests/node/supabase_session.mjs:

- @supabase/ssr's server client reads pitstop's cookies: ``auth.getSession()`` is the user;
- supabase-js reads pitstop's localStorage entry under its own default key: the same;
- the cookies @supabase/ssr writes when it keeps the same session are pitstop's, byte for
  byte, chunks and options included;
- the offline access token verifies with the JWT secret (jose in Node, PyJWT here);
- in Chromium, supabase-js's browser build reads the entry from the page's real localStorage.

And in PostgreSQL, under the role and ``request.jwt.claims`` PostgREST sets from that token,
``auth.uid()`` is the user and row-level security shows exactly the user's rows.

Without Node.js the module says so and skips. Not exercised here: a hosted project's
Supabase Auth (``getUser()`` asks it), which no server here can stand for.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
import pytest
from playwright.sync_api import Browser

from harness.engine import signin
from harness.engine.personas import Personas
from harness.store.postgres import PostgresStore
from tests.seeding import Seeder

SCRIPT = Path(__file__).parent / "node" / "supabase_session.mjs"
# Pinned: the libraries as a team installs them today (ws for Node before 22, jose to verify tokens).
PACKAGES = ("@supabase/ssr@0.12.7", "@supabase/supabase-js@2.119.2", "ws@8.23.1", "jose@6.2.19")
HOME = Path(sys.prefix) / "pitstop-node"
URL = "https://qwertyuiopasdfghjklz.supabase.co"
SECRET = "a-test-project-jwt-secret-of-forty-chars"
APP = "http://127.0.0.1:3000"
NPM_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def node() -> Path:
    """The folder holding the libraries and the script; installed on first use (one installer at a time)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed: Supabase's libraries cannot be run here")
    HOME.mkdir(exist_ok=True)
    with (HOME / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share the folder
        stamp = HOME / ".installed"
        if not stamp.exists() or stamp.read_text() != " ".join(PACKAGES):
            result = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                 "--cache", str(HOME / ".npm-cache"), "--prefix", str(HOME), *PACKAGES],
                capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False,
            )  # fmt: skip
            assert result.returncode == 0, f"npm install failed:\n{result.stderr[-3000:]}"
            stamp.write_text(" ".join(PACKAGES))
    shutil.copy(SCRIPT, HOME / SCRIPT.name)
    return HOME


def libraries(node: Path, **given: Any) -> dict[str, Any]:
    """Run the script with ``given`` (its input keys) and return what the libraries made of it."""
    result = subprocess.run(
        ["node", str(node / SCRIPT.name)],
        input=json.dumps({"url": URL, "anonKey": "an-anon-key", **given}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def read_by_libraries(node: Path, session: signin.AuthSession) -> dict[str, Any]:
    state = signin.storage_state(session, supabase_url=URL, app_url=APP)
    return libraries(
        node,
        cookies=[{"name": c["name"], "value": c["value"]} for c in state["cookies"]],
        localStorage=state["origins"][0]["localStorage"][0],
        session=session.data,
        secret=SECRET,
        issuer=URL + "/auth/v1",
    )


@pytest.fixture
def signed_in(store: PostgresStore) -> Iterator[tuple[Any, signin.AuthSession]]:
    """A test user of the (Supabase-shaped) database and its offline session."""
    user = Personas(run_id=uuid4().hex[:6]).create(store, "customer", "customer")

    def write(session_id: Any, token: str) -> Any:
        return store.open_auth_session(
            user.id, session_id=session_id, refresh_token=token, user_agent="pitstop"
        )

    yield user, signin.offline_session(write, secret=SECRET, issuer=URL + "/auth/v1")


def test_the_libraries_read_the_session_pitstop_writes_and_write_it_as_pitstop_does(
    node: Path, signed_in: tuple[Any, signin.AuthSession]
) -> None:
    user, session = signed_in
    seen = read_by_libraries(node, session)
    expected = {"user_id": str(user.id), "email": user.email, "error": None}
    assert seen["server"] == expected  # @supabase/ssr's server client, from the cookies
    assert seen["browser"] == expected  # supabase-js, from the localStorage entry
    ours = signin.storage_state(session, supabase_url=URL, app_url=APP)["cookies"]
    written = seen["written"]
    assert [(c["name"], c["value"]) for c in written] == [(c["name"], c["value"]) for c in ours]
    assert [c["name"] for c in ours] == ["sb-qwertyuiopasdfghjklz-auth-token"]
    for cookie, theirs in zip(ours, written, strict=True):
        assert theirs["options"] == {
            "path": cookie["path"],
            "sameSite": cookie["sameSite"].lower(),
            "httpOnly": cookie["httpOnly"],
            "maxAge": signin.COOKIE_MAX_AGE_S,
        }
    assert seen["verified"]["sub"] == str(user.id)  # jose
    claims = jwt.decode(session.data["access_token"], SECRET, algorithms=["HS256"], audience="authenticated")
    assert set(claims) == {
        "iss", "sub", "aud", "exp", "iat", "email", "phone", "role", "app_metadata", "user_metadata",
        "aal", "amr", "session_id", "is_anonymous",
    }  # fmt: skip
    assert claims["exp"] - claims["iat"] == signin.ACCESS_TOKEN_S


def test_a_session_past_one_cookie_is_chunked_as_the_library_chunks_it(node: Path) -> None:
    """Metadata of 9,000 non-ASCII characters: fourteen chunks, each where @supabase/ssr cuts."""
    row = {
        "id": str(uuid4()),
        "email": "customer-big@pitstop.test",
        "raw_app_meta_data": {"provider": "email"},
        "raw_user_meta_data": {"pitstop": True, "bio": "é" * 3000, "name": "Zoë Ångström"},
    }
    session = signin.offline_session(lambda *_: row, secret=SECRET, issuer=URL + "/auth/v1")
    seen = read_by_libraries(node, session)
    ours = signin.storage_state(session, supabase_url=URL, app_url=APP)["cookies"]
    assert (
        len(ours) > 1
        and [c["name"] for c in ours][-1] == f"sb-qwertyuiopasdfghjklz-auth-token.{len(ours) - 1}"
    )
    assert [(c["name"], c["value"]) for c in seen["written"]] == [(c["name"], c["value"]) for c in ours]
    assert seen["server"] == {"user_id": row["id"], "email": row["email"], "error": None}


def test_the_token_is_refused_with_another_secret(node: Path) -> None:
    row = {"id": str(uuid4()), "email": "customer-x@pitstop.test"}
    session = signin.offline_session(
        lambda *_: row, secret="another-project-secret-of-forty-chars!!", issuer="x"
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(session.data["access_token"], SECRET, algorithms=["HS256"], audience="authenticated")
    # jose, given the same secret pitstop's check refuses, refuses it too.
    failed = subprocess.run(
        ["node", str(node / SCRIPT.name)],
        input=json.dumps({"url": URL, "anonKey": "k", "session": session.data, "secret": SECRET}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert failed.returncode != 0 and "signature verification failed" in failed.stderr


def test_row_level_security_shows_the_token_user_exactly_its_rows(
    store: PostgresStore, seed: Seeder, signed_in: tuple[Any, signin.AuthSession]
) -> None:
    """As PostgREST runs a request with the token: its role, its claims in request.jwt.claims."""
    user, session = signed_in
    mine = {
        seed.session(user.id, status="waiting").session,
        seed.session(user.id, status="completed").session,
    }
    seed.session(seed.user(test=False), status="waiting")  # a real customer's
    seed.session(seed.user(), status="live")  # another test user's
    claims = jwt.decode(session.data["access_token"], SECRET, algorithms=["HS256"], audience="authenticated")
    conn = store.connection
    with conn.transaction(force_rollback=True):
        conn.execute(f"set local role {claims['role']}")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        row = conn.execute("select auth.uid(), auth.role(), auth.email()").fetchone()
        assert row == (user.id, "authenticated", user.email)
        assert {r[0] for r in conn.execute("select id from public.sessions")} == mine


def test_the_session_is_the_database_s_and_goes_with_the_user(
    store: PostgresStore, signed_in: tuple[Any, signin.AuthSession]
) -> None:
    user, session = signed_in
    claims = jwt.decode(session.data["access_token"], SECRET, algorithms=["HS256"], audience="authenticated")
    conn = store.connection
    row = conn.execute(
        "select user_id, aal::text, user_agent from auth.sessions where id = %s", (claims["session_id"],)
    )
    assert row.fetchone() == (user.id, "aal1", "pitstop")
    token = conn.execute(
        "select user_id, revoked, parent, instance_id::text from auth.refresh_tokens where token = %s",
        (session.data["refresh_token"],),
    ).fetchone()
    assert token == (str(user.id), False, "", "00000000-0000-0000-0000-000000000000")
    amr = conn.execute(
        "select authentication_method from auth.mfa_amr_claims where session_id = %s", (claims["session_id"],)
    ).fetchall()
    assert amr == [("password",)]
    assert store.delete_test_user(user.id)["users"] == 1
    left = conn.execute(
        "select (select count(*) from auth.sessions where user_id = %(u)s),"
        " (select count(*) from auth.refresh_tokens where user_id = %(u)s::text)",
        {"u": user.id},
    ).fetchone()
    assert left == (0, 0)


def test_supabase_js_in_chromium_reads_the_entry_from_local_storage(node: Path, browser: Browser) -> None:
    """The library's browser build on a page of the app's origin, with pitstop's storage state."""
    row = {"id": str(uuid4()), "email": "customer-browser@pitstop.test"}
    session = signin.offline_session(lambda *_: row, secret=SECRET, issuer=URL + "/auth/v1")
    state = signin.storage_state(session, supabase_url=URL, app_url=APP, cookies=False)
    context = browser.new_context(storage_state=state)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.route(
            f"{APP}/", lambda route: route.fulfill(content_type="text/html", body="<title>app</title>")
        )
        page.goto(f"{APP}/")
        page.add_script_tag(path=str(node / "node_modules/@supabase/supabase-js/dist/umd/supabase.js"))
        user = page.evaluate(
            """async ([url, key]) => {
                const client = supabase.createClient(url, key, { auth: { autoRefreshToken: false } });
                const { data } = await client.auth.getSession();
                return data.session && { id: data.session.user.id, email: data.session.user.email };
            }""",
            [URL, "an-anon-key"],
        )
    finally:
        context.close()
    assert user == {"id": row["id"], "email": row["email"]}
