"""The app accepts a Supabase session kept in @supabase/ssr's cookies, besides its login form's cookie.

The session is pitstop's offline one (``harness.engine.signin``): its rows in ``auth.sessions``
and an access token signed with the project's JWT secret. The app verifies the token with the
secret and asks ``auth.sessions`` whether the session still stands, as Supabase Auth would.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.engine import signin
from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import JWT_SECRET, SUPABASE_URL, AppUser, Stack, Users

COOKIE = "sb-127-auth-token"  # the project URL's first label, as the libraries name it


def session_of(
    store: PostgresStore, user: AppUser, *, secret: str = JWT_SECRET, **kwargs: Any
) -> signin.AuthSession:
    def write(session_id: Any, token: str) -> Any:
        return store.open_auth_session(user.id, session_id=session_id, refresh_token=token, user_agent="test")

    return signin.offline_session(write, secret=secret, issuer=SUPABASE_URL + "/auth/v1", **kwargs)


def client_with(stack: Stack, session: signin.AuthSession) -> httpx.Client:
    state = signin.storage_state(session, supabase_url=SUPABASE_URL, app_url=stack.url, local_storage=False)
    return httpx.Client(
        base_url=stack.url, timeout=20, cookies={c["name"]: c["value"] for c in state["cookies"]}
    )


def test_a_supabase_session_signs_each_role_in(stack: Stack, store: PostgresStore, users: Users) -> None:
    for role in ("customer", "mechanic"):
        user = users(role)
        with client_with(stack, session_of(store, user)) as client:
            response = client.get(f"/{role}/dashboard")
        assert response.status_code == 200, response.text[:300]
        assert user.full_name in response.text


def test_a_session_in_many_cookies_is_read_whole(stack: Stack, store: PostgresStore, users: Users) -> None:
    user = users("customer")
    store.connection.execute(
        "update auth.users set raw_user_meta_data = raw_user_meta_data"
        " || jsonb_build_object('bio', repeat('é', 4000)) where id = %s",
        (user.id,),
    )
    session = session_of(store, user)
    with client_with(stack, session) as client:
        assert [name for name in client.cookies][1:2] == [f"{COOKIE}.1"]
        assert client.get("/customer/dashboard").status_code == 200


@pytest.mark.parametrize("why", ["another secret", "expired", "signed out", "no session"])
def test_a_session_that_does_not_stand_is_refused(
    stack: Stack, store: PostgresStore, users: Users, why: str
) -> None:
    user = users("customer")
    if why == "another secret":
        session = session_of(store, user, secret="another-projects-secret-of-forty-chars!")
    elif why == "expired":
        session = session_of(store, user, now=1_700_000_000)
    else:
        session = session_of(store, user)
    if why == "signed out":  # Supabase Auth's sign-out deletes the session
        store.connection.execute("delete from auth.sessions where user_id = %s", (user.id,))
    with client_with(stack, session) as client:
        if why == "no session":
            client.cookies.clear()
            client.cookies.set(COOKIE, "base64-bm90IGpzb24")
        response = client.get("/customer/dashboard")
    assert response.status_code == 303 and "/customer/login" in response.headers["location"]


def test_signing_out_ends_the_session_and_clears_its_cookies(
    stack: Stack, store: PostgresStore, users: Users
) -> None:
    user = users("customer")
    with client_with(stack, session_of(store, user)) as client:
        response = client.get("/logout", follow_redirects=False)
        cleared = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")]
        assert len(cleared) == 1 and "Max-Age=0" in cleared[0]
        ended = store.connection.execute("select count(*) from auth.sessions where user_id = %s", (user.id,))
        assert ended.fetchone() == (0,)
        assert client.get("/customer/dashboard").status_code == 303  # the cookie, still sent, is refused
