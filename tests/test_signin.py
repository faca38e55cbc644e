"""Signing test users in the Supabase way: the configuration, the two ways to a session, ``pitstop login``.

The libraries' own reading of what is written is in tests/test_supabase_libraries.py, the
reference app's in tests/reference_app/test_supabase_session.py, the shipped scenarios
signed in this way in tests/test_supabase_mode.py.

The password grant is checked against Supabase Auth's wire format (its ``/token`` answer and
its error), served by respx: no Supabase Auth server runs here. The answer is only given when
the password pitstop sends is the one it put in ``auth.users``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import bcrypt
import httpx
import jwt
import pytest
import respx
from playwright.sync_api import Browser

from harness.config.auth import AuthConfig, load_auth
from harness.config.settings import Settings
from harness.engine import signin
from harness.engine.personas import Personas, TestUser
from harness.errors import BadInput
from harness.stack.embedded import StackInfo
from harness.store.postgres import PostgresStore
from tests.conftest import run_cli
from tests.seeding import Seeder
from tests.test_supabase_libraries import libraries, node  # noqa: F401  (the fixture)

REF = "qwertyuiopasdfghjklz"
URL = f"https://{REF}.supabase.co"
SECRET = "a-test-project-jwt-secret-of-forty-chars"


def hs256(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


ANON = hs256({"iss": "supabase", "ref": REF, "role": "anon"})


def _part(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# A key of a project on asymmetric signing keys (its header says ES256; the signature is not read).
ES256_ANON = (
    f"{_part({'alg': 'ES256', 'typ': 'JWT', 'kid': 'k1'})}.{_part({'role': 'anon', 'ref': REF})}.c2ln"
)


# -- configuration -------------------------------------------------------------------------


def test_the_auth_table_and_its_options() -> None:
    assert load_auth(None) == AuthConfig("ui", "cookies", None)
    table = {"mode": "supabase", "storage": "both", "cookie_domain": ".example.com"}
    assert load_auth(table) == AuthConfig("supabase", "both", ".example.com")
    assert (
        load_auth(table, {"mode": "ui", "storage": None, "cookie_domain": None}).mode == "ui"
    )  # option wins
    config = load_auth({"mode": "supabase", "storage": "local_storage"})
    assert config.headless and config.local_storage and not config.cookies


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ({"mode": "magic"}, "mode must be one of ui, supabase"),
        ({"storage": "session"}, "storage must be one of cookies, local_storage, both"),
        ({"cookie_domain": "https://example.com/"}, "cookie_domain must be a host name"),
        ({"mod": "ui"}, "unknown key mod"),
        ("supabase", "must be a table"),
    ],
)
def test_a_bad_auth_table_says_what_to_write(table: Any, names: str) -> None:
    with pytest.raises(BadInput, match=names) as caught:
        load_auth(table)
    assert caught.value.fix


def test_the_plugin_reads_the_table_under_its_options(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pitstop.auth]\nmode = "supabase"\nstorage = "both"\n')
    pytester.makeconftest(
        """
        def pytest_configure(config):
            from harness.plugin.hooks import read_config
            auth = read_config(config, {"PITSTOP_AUTH_STORAGE": "local_storage"}).settings.auth
            print("AUTH", auth.mode, auth.storage, auth.cookie_domain)
        """
    )
    result = pytester.runpytest("-s", "--pitstop-cookie-domain=.example.com", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["AUTH supabase local_storage .example.com"])


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (URL, f"sb-{REF}-auth-token"),
        ("http://127.0.0.1:54321", "sb-127-auth-token"),  # `supabase start`
        ("https://auth.example.com", "sb-auth-auth-token"),  # a custom domain
    ],
)
def test_the_cookie_is_named_as_the_libraries_name_it(url: str, name: str) -> None:
    assert signin.storage_key(url) == name


def test_the_storage_state_holds_cookies_and_the_entry_where_asked() -> None:
    session = signin.AuthSession({"access_token": "t", "user": {"id": "u", "email": "e"}})
    state = signin.storage_state(session, supabase_url=URL, app_url="https://app.example.com:8443/x", now=100)
    (cookie,) = state["cookies"]
    assert cookie["domain"] == "app.example.com" and cookie["expires"] == 100 + 400 * 24 * 3600
    value = cookie["value"].removeprefix("base64-")
    assert json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) == session.data
    (origin,) = state["origins"]
    assert origin == {
        "origin": "https://app.example.com:8443",
        "localStorage": [{"name": f"sb-{REF}-auth-token", "value": session.to_json()}],
    }
    shared = signin.storage_state(
        session, supabase_url=URL, app_url="https://a.b", cookie_domain=".b", local_storage=False
    )
    assert shared["cookies"][0]["domain"] == ".b" and shared["origins"] == []


# -- which way, and the secret ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"jwt_secret": "-----BEGIN PRIVATE KEY-----\nMIIE"}, "asymmetric key"),
        ({"jwt_secret": '{"kty":"EC","crv":"P-256"}'}, "asymmetric key"),
        ({"jwt_secret": SECRET, "supabase_anon_key": ES256_ANON}, "asymmetric key"),
        (
            {"jwt_secret": "not-this-project-s-secret-forty-chars!!", "supabase_anon_key": ANON},
            "does not sign",
        ),
        ({}, "JWT secret or its anon key"),
        ({"jwt_secret": SECRET, "supabase_url": None}, "needs the project's URL"),
    ],
)
def test_a_session_that_cannot_be_made_says_which_way_can(
    store: PostgresStore, given: dict[str, Any], says: str
) -> None:
    user = Personas(run_id="w").create(store, "customer", "customer")
    settings = Settings(**{"database_url": "x", "supabase_url": URL, **given})
    with pytest.raises(BadInput, match=says) as caught:
        signin.session_for(settings, store, user.id, user.email, user.password)
    assert caught.value.fix
    assert store.connection.execute("select count(*) from auth.sessions").fetchone() == (0,)


def test_only_test_users_get_a_session(store: PostgresStore, seed: Seeder) -> None:
    real = seed.user(test=False)
    settings = Settings(supabase_url=URL, jwt_secret=SECRET, supabase_anon_key=ANON)
    with pytest.raises(Exception, match="not a test user"):
        signin.session_for(settings, store, real, "someone@example.com")
    assert store.connection.execute("select count(*) from auth.sessions").fetchone() == (0,)
    assert store.set_test_user_password(real, "new password") is False


def test_a_schema_without_sessions_is_told_the_other_ways(database_url: str) -> None:
    import psycopg

    name = f"nosessions_{uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute((Path(__file__).parent / "schemas" / "minimal_auth.sql").read_bytes())
        with PostgresStore(database_url=url) as store:
            store.install(test_domain="pitstop.test", with_app_schema=True)
            user = Personas(run_id="m").create(store, "customer", "customer")
            with pytest.raises(BadInput, match=r"cannot hold a Supabase session: it lacks auth\.sessions"):
                signin.session_for(Settings(supabase_url=URL, jwt_secret=SECRET), store, user.id, user.email)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"drop database {name} with (force)")


# -- the password grant --------------------------------------------------------------------


def grant_answer(store: PostgresStore, user: TestUser, request: httpx.Request) -> httpx.Response:
    """Supabase Auth's /token answer, given only for the password now in auth.users."""
    body = json.loads(request.content)
    row = store.connection.execute(
        "select encrypted_password from auth.users where lower(email) = lower(%s)", (body["email"],)
    ).fetchone()
    assert request.headers["apikey"] == ANON and request.url.params["grant_type"] == "password"
    if row is None or not bcrypt.checkpw(body["password"].encode(), row[0].encode()):
        return httpx.Response(
            400, json={"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}
        )
    token = hs256({"sub": str(user.id), "aud": "authenticated", "role": "authenticated", "email": user.email})
    return httpx.Response(
        200,
        json={
            "access_token": token, "token_type": "bearer", "expires_in": 3600, "expires_at": 1_900_000_000,
            "refresh_token": "abcdefghijkl",
            "user": {"id": str(user.id), "aud": "authenticated", "email": user.email},
            "weak_password": None,
        },
    )  # fmt: skip


def test_the_password_grant_signs_in_with_the_password_pitstop_set(store: PostgresStore) -> None:
    user = Personas(run_id="g").create(store, "customer", "customer")
    settings = Settings(supabase_url=URL, supabase_anon_key=ANON)
    with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{URL}/auth/v1/token").mock(side_effect=lambda r: grant_answer(store, user, r))
        own = signin.session_for(settings, store, user.id, user.email, user.password)  # a run's persona
        session = signin.session_for(settings, store, user.id, user.email)  # a new password, then the grant
        with pytest.raises(Exception, match="Invalid login credentials"):  # the old one is gone
            signin.session_for(settings, store, user.id, user.email, user.password)
    assert own.user_id == session.user_id == str(user.id) and "weak_password" not in session.data
    assert list(session.data)[:5] == [
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "refresh_token",
    ]


def test_a_refused_grant_says_what_supabase_auth_said(store: PostgresStore) -> None:
    user = Personas(run_id="r").create(store, "customer", "customer")
    settings = Settings(supabase_url=URL, supabase_anon_key=ANON)
    with respx.mock() as mock:
        mock.post(f"{URL}/auth/v1/token").mock(side_effect=lambda r: grant_answer(store, user, r))
        with pytest.raises(Exception, match=r"refused to sign .* \(400\): Invalid login credentials"):
            signin.session_for(settings, store, user.id, user.email, "not the password")


# -- pitstop login -------------------------------------------------------------------------


def login_args(info: StackInfo, *more: str, app: bool = True) -> list[str]:
    return [
        "login", "--database-url", info.database_url, "--supabase-url", info.supabase_url,
        "--jwt-secret", info.jwt_secret, *(["--app-url", info.app_url] if app else []), *more,
    ]  # fmt: skip


@pytest.mark.usefixtures("no_target_environment")
def test_login_writes_a_state_that_playwright_and_the_libraries_accept(
    embedded: StackInfo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    browser: Browser,
    node: Path,  # noqa: F811
) -> None:
    with PostgresStore(database_url=embedded.database_url) as store:
        user = Personas(run_id=uuid4().hex[:6]).create(store, "customer", "customer")
    path = tmp_path / "customer.json"
    code, out, err = run_cli(
        capsys, *login_args(embedded, "--user", user.email, "--storage-state", str(path))
    )
    assert code == 0, err
    assert (
        "cookie sb-127-auth-token" in out and f"localStorage sb-127-auth-token at {embedded.app_url}" in out
    )
    assert path.stat().st_mode & 0o777 == 0o600  # it holds the user's tokens
    state = json.loads(path.read_text())
    assert [c["name"] for c in state["cookies"]] == ["sb-127-auth-token"]
    # Playwright (Python) takes the file as it is, and the app sees the user signed in.
    context = browser.new_context(storage_state=path)
    try:
        page = context.new_page()
        page.goto(f"{embedded.app_url}/customer/dashboard")
        assert page.url.endswith("/customer/dashboard") and user.name in page.content()
    finally:
        context.close()
    # Supabase's libraries read the same file's cookies and entry as the user.
    seen = libraries(
        node,
        url=embedded.supabase_url,
        cookies=[{"name": c["name"], "value": c["value"]} for c in state["cookies"]],
        localStorage=state["origins"][0]["localStorage"][0],
    )
    assert seen["server"]["user_id"] == seen["browser"]["user_id"] == str(user.id)


@pytest.mark.usefixtures("no_target_environment")
def test_login_prints_json(embedded: StackInfo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with PostgresStore(database_url=embedded.database_url) as store:
        user = Personas(run_id=uuid4().hex[:6]).create(store, "mechanic", "mechanic")
    path = tmp_path / "m.json"
    code, out, _ = run_cli(
        capsys, *login_args(embedded, "--user", user.email, "--storage-state", str(path), "--json")
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["user_id"] == str(user.id) and answer["cookie"] == "sb-127-auth-token"
    assert answer["session"] == "offline" and answer["origin"] == embedded.app_url


@pytest.mark.usefixtures("no_target_environment")
@pytest.mark.parametrize(
    ("case", "code", "says"),
    [
        ("real user", 3, "not a test user"),
        ("unknown user", 2, "no user with email"),
        ("not an email", 2, "is not an email"),
        ("no app url", 2, "give --app-url"),
        ("no folder", 2, "no folder"),
    ],
)
def test_login_refuses_what_it_cannot_do_and_writes_nothing(
    embedded: StackInfo, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, code: int, says: str
) -> None:
    with PostgresStore(database_url=embedded.database_url) as store:
        real = Seeder(store.connection).user(test=False)
        email = store.connection.execute("select email from auth.users where id = %s", (real,)).fetchone()[0]
    path = tmp_path / "state.json"
    user = {"real user": email, "unknown user": "nobody-x@pitstop.test", "not an email": str(real)}.get(
        case, email
    )
    args = login_args(embedded, "--user", user, "--storage-state", str(path), app=case != "no app url")
    if case == "no folder":
        args[-1] = str(tmp_path / "missing" / "state.json")
    got, _, err = run_cli(capsys, *args)
    assert got == code and says in err and "fix:" in err
    assert not path.exists()


# -- the supabase store's part: a new password through GoTrue's admin API --------------------


def gotrue_user(user_id: str, email: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """A user as GoTrue's admin API answers it."""
    return {
        "id": user_id, "aud": "authenticated", "role": "authenticated", "email": email,
        "email_confirmed_at": "2026-12-01T10:00:00Z", "phone": "", "app_metadata": {"provider": "email"},
        "user_metadata": metadata, "identities": [], "created_at": "2026-12-01T10:00:00Z",
        "updated_at": "2026-12-01T10:00:00Z", "is_anonymous": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("email", "metadata", "set_"),
    [
        ("customer-gw0-x@pitstop.test", {"pitstop": True}, True),
        ("someone@example.com", {"pitstop": True}, False),  # a real address
        ("customer-gw0-y@pitstop.test", {}, False),  # no pitstop mark
    ],
)
def test_the_supabase_store_sets_a_password_for_test_users_only(
    email: str, metadata: dict[str, Any], set_: bool
) -> None:
    from harness.store.supabase import SupabaseStore

    user_id = str(uuid4())
    path = f"{URL}/auth/v1/admin/users/{user_id}"
    with respx.mock(assert_all_called=False) as mock, SupabaseStore(url=URL, key=ANON) as store:
        mock.get(path).respond(200, json=gotrue_user(user_id, email, metadata))
        put = mock.put(path).respond(200, json=gotrue_user(user_id, email, metadata))
        assert store.set_test_user_password(UUID(user_id), "a-new-password-of-24-chr") is set_
    assert put.called is set_
    if set_:
        assert json.loads(put.calls.last.request.content) == {"password": "a-new-password-of-24-chr"}


def test_the_supabase_store_knows_no_password_for_an_unknown_user() -> None:
    from harness.store.supabase import SupabaseStore

    user_id = uuid4()
    with respx.mock() as mock, SupabaseStore(url=URL, key=ANON) as store:
        mock.get(f"{URL}/auth/v1/admin/users/{user_id}").respond(
            404, json={"code": 404, "error_code": "user_not_found", "msg": "User not found"}
        )
        assert store.set_test_user_password(user_id, "x") is False
