"""Sign in, sign out, the session cookie and the role checks."""

from __future__ import annotations

import bcrypt
import httpx
import pytest
from psycopg.types.json import Jsonb

from harness.engine.personas import Personas
from harness.stack.reference_app.auth import NON_NULL_COLUMNS
from harness.store import auth_users
from harness.store.postgres import PostgresStore
from tests.reference_app.conftest import PASSWORD, AppUser, Login, Stack, Users


@pytest.mark.parametrize("page", ["/customer/login", "/mechanic/login", "/admin/login"])
def test_login_pages_carry_the_form_test_ids(anonymous: httpx.Client, page: str) -> None:
    html = anonymous.get(page).text
    for testid in ("login-email", "login-password", "login-submit"):
        assert f'data-testid="{testid}"' in html
    assert 'data-testid="login-error"' not in html


@pytest.mark.parametrize("role", ["customer", "mechanic", "admin"])
def test_a_good_password_signs_in_with_a_strict_cookie_and_lands_on_the_role_home(
    anonymous: httpx.Client, users: Users, role: str
) -> None:
    user = users(role)
    response = anonymous.post("/customer/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 303
    home = {"customer": "/customer/dashboard", "mechanic": "/mechanic/dashboard", "admin": "/admin/cleanup"}
    assert response.headers["location"] == home[role]
    cookie = response.headers["set-cookie"].lower()
    assert "pitstop_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert anonymous.get(home[role]).status_code == 200


@pytest.mark.parametrize("wrong", ["wrong-password", "unknown-email", "empty-password"])
def test_bad_credentials_show_the_form_again_with_one_vague_error(
    anonymous: httpx.Client, users: Users, wrong: str
) -> None:
    user = users("customer")
    form = {
        "wrong-password": {"email": user.email, "password": "nope"},
        "unknown-email": {"email": "nobody@pitstop.test", "password": PASSWORD},
        "empty-password": {"email": user.email, "password": ""},
    }[wrong]
    response = anonymous.post("/customer/login", data=form)
    assert response.status_code == 401
    assert 'data-testid="login-error"' in response.text
    assert "Invalid login credentials" in response.text
    assert "pitstop_session" not in response.headers.get("set-cookie", "")


# -- Supabase Auth's sign-in gates, one row change each ----------------------------


def sign_in(client: httpx.Client, user: AppUser, password: str = PASSWORD) -> httpx.Response:
    return client.post("/customer/login", data={"email": user.email, "password": password})


def assert_refused(response: httpx.Response, message: str, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert 'data-testid="login-error"' in response.text
    assert message in response.text
    assert "pitstop_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "change",
    [
        "instance_id = null",
        "instance_id = gen_random_uuid()",
        "aud = 'other'",
        "aud = null",
        "is_sso_user = true",
        "deleted_at = now()",
    ],
)
def test_a_user_outside_the_lookup_is_unknown(anonymous: httpx.Client, users: Users, change: str) -> None:
    user = users("customer")
    users.conn.execute(f"update auth.users set {change} where id = %s", (user.id,))
    assert_refused(sign_in(anonymous, user), "Invalid login credentials")


@pytest.mark.parametrize("column", [c for c in NON_NULL_COLUMNS if c not in ("instance_id", "aud")])
def test_a_null_where_supabase_auth_reads_a_value_is_a_database_error(
    anonymous: httpx.Client, users: Users, column: str
) -> None:
    """The trap of users inserted by SQL: found, then unreadable, so a 500 whatever the password."""
    user = users("customer")
    users.conn.execute(f"update auth.users set {column} = null where id = %s", (user.id,))
    assert_refused(sign_in(anonymous, user), "Database error querying schema", 500)
    assert_refused(sign_in(anonymous, user, "nope"), "Database error querying schema", 500)


@pytest.mark.parametrize("stored", [None, ""])
def test_a_user_without_a_password_hash_cannot_sign_in(
    anonymous: httpx.Client, users: Users, stored: str | None
) -> None:
    user = users("customer")
    users.conn.execute("update auth.users set encrypted_password = %s where id = %s", (stored, user.id))
    assert_refused(sign_in(anonymous, user), "Invalid login credentials")


def test_a_banned_user_is_refused_until_the_ban_ends(anonymous: httpx.Client, users: Users) -> None:
    user = users("customer")
    ban = "update auth.users set banned_until = now() + %s::interval where id = %s"
    users.conn.execute(ban, ("1 day", user.id))
    assert_refused(sign_in(anonymous, user), "User is banned")
    users.conn.execute(ban, ("-1 day", user.id))
    assert sign_in(anonymous, user).status_code == 303


def test_an_unconfirmed_email_is_refused_after_the_password_check(
    anonymous: httpx.Client, users: Users
) -> None:
    user = users("customer")
    users.conn.execute("update auth.users set email_confirmed_at = null where id = %s", (user.id,))
    assert_refused(sign_in(anonymous, user), "Email not confirmed")
    assert_refused(sign_in(anonymous, user, "nope"), "Invalid login credentials")


def test_a_user_without_a_profile_cannot_sign_in_to_the_app(anonymous: httpx.Client, users: Users) -> None:
    user = users("customer")
    users.conn.execute("delete from public.profiles where id = %s", (user.id,))
    assert_refused(sign_in(anonymous, user), "Invalid login credentials")


def stored_hash(store: PostgresStore, user_id: object) -> str:
    row = store.connection.execute(
        "select encrypted_password from auth.users where id = %s", (user_id,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_user_written_by_auth_users_signs_in(anonymous: httpx.Client, store: PostgresStore) -> None:
    password = "a password of its own"
    shape = auth_users.read_shape(store.connection)
    email = "written@pitstop.test"
    row = store.connection.execute(
        auth_users.create_user_statement(shape),
        {
            "email": email,
            "password_hash": auth_users.hash_password(password),
            "metadata": Jsonb({"pitstop": True}),
            "id": None,
        },
    ).fetchone()
    assert row is not None
    store.connection.execute(
        "insert into public.profiles (id, role, full_name) values (%s, 'mechanic', 'Written')", (row[0],)
    )
    assert bcrypt.checkpw(password.encode(), stored_hash(store, row[0]).encode())
    response = anonymous.post("/customer/login", data={"email": email, "password": password})
    assert response.status_code == 303 and response.headers["location"] == "/mechanic/dashboard"


def test_a_persona_signs_in_with_its_printed_password(anonymous: httpx.Client, store: PostgresStore) -> None:
    persona = Personas(run_id="authtest", test_domain="pitstop.test").create(store, "buyer", "customer")
    assert bcrypt.checkpw(persona.password.encode(), stored_hash(store, persona.id).encode())
    response = anonymous.post("/customer/login", data={"email": persona.email, "password": persona.password})
    assert response.status_code == 303 and response.headers["location"] == "/customer/dashboard"
    assert anonymous.get("/customer/dashboard").status_code == 200


def test_pages_send_anonymous_visitors_to_the_right_login(anonymous: httpx.Client) -> None:
    for page, login in [
        ("/customer/dashboard", "/customer/login"),
        ("/onboarding/pricing", "/customer/login"),
        ("/mechanic/dashboard", "/mechanic/login"),
        ("/admin/cleanup", "/admin/login"),
    ]:
        response = anonymous.get(page)
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"{login}?next=")


def test_json_endpoints_answer_anonymous_visitors_with_401(anonymous: httpx.Client) -> None:
    for path in ("/api/customer/sessions", "/api/mechanics/requests"):
        response = anonymous.get(path)
        assert response.status_code == 401 and "error" in response.json()


def test_customers_and_mechanics_cannot_open_each_others_pages(login: Login, users: Users) -> None:
    customer = login(users("customer"))
    mechanic = login(users("mechanic"))
    assert customer.get("/mechanic/dashboard").status_code == 403
    assert customer.get("/api/mechanics/requests").status_code == 403
    assert customer.get("/admin/cleanup").status_code == 403
    assert mechanic.get("/customer/dashboard").status_code == 403
    assert mechanic.get("/onboarding/pricing").status_code == 403
    assert mechanic.get("/api/customer/sessions").status_code == 403
    assert customer.get("/customer/dashboard").status_code == 200
    assert mechanic.get("/mechanic/dashboard").status_code == 200


def test_a_tampered_cookie_is_no_session(stack: Stack, users: Users, login: Login) -> None:
    client = login(users("customer"))
    value = client.cookies["pitstop_session"]
    with httpx.Client(base_url=stack.url, cookies={"pitstop_session": value[:-2] + "xx"}) as forged:
        assert forged.get("/customer/dashboard").status_code == 303


def test_a_next_url_is_followed_only_when_local(anonymous: httpx.Client, users: Users) -> None:
    user = users("customer")
    form = {"email": user.email, "password": PASSWORD}
    local = anonymous.post("/customer/login", data={**form, "next": "/onboarding/pricing"})
    assert local.headers["location"] == "/onboarding/pricing"
    remote = anonymous.post("/customer/login", data={**form, "next": "//evil.example/"})
    assert remote.headers["location"] == "/customer/dashboard"


def test_logout_ends_the_session(login: Login, users: Users) -> None:
    client = login(users("customer"))
    html = client.get("/customer/dashboard").text
    assert 'data-testid="logout"' in html
    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/customer/login"
    assert client.get("/customer/dashboard").status_code == 303
