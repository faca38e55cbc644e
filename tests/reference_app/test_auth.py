"""Sign in, sign out, the session cookie and the role checks."""

from __future__ import annotations

import httpx
import pytest

from tests.reference_app.conftest import PASSWORD, Login, Stack, Users


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
    assert "Invalid email or password." in response.text
    assert "pitstop_session" not in response.headers.get("set-cookie", "")


def test_a_user_without_a_password_hash_cannot_sign_in(anonymous: httpx.Client, users: Users) -> None:
    user = users("customer")
    users.conn.execute("update auth.users set encrypted_password = null where id = %s", (user.id,))
    response = anonymous.post("/customer/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


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
