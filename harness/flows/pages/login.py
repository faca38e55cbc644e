from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .contract import By, TestId

SIGN_IN_TIMEOUT_MS = 15_000


class LoginPage:
    """The login form of a role: ``[tool.pitstop]`` ``customer_login_path`` or ``mechanic_login_path``.

    The defaults are ``/customer/login`` and ``/mechanic/login``; a signed-in
    user is sent somewhere else (any page but the login form).
    """

    EMAIL = TestId("login-email", "the email input", by=By.label(r"^\s*e-?mail"))
    PASSWORD = TestId("login-password", "the password input", by=By.label(r"^\s*password"))
    SUBMIT = TestId("login-submit", "the sign-in button", by=By.role("button", r"^\s*(sign|log) ?in\s*$"))
    ERROR = TestId("login-error", "why a sign-in was refused", by=By.role("alert"))

    def __init__(self, page: Page, path: str = "/customer/login") -> None:
        self.page = page
        self.path = path
        self.email = self.EMAIL.locate(page)
        self.password = self.PASSWORD.locate(page)
        self.submit = self.SUBMIT.locate(page)
        self.error = self.ERROR.locate(page)

    def open(self) -> LoginPage:
        self.page.goto(self.path)
        return self

    def sign_in(self, email: str, password: str) -> None:
        self.email.fill(email)
        self.password.fill(password)
        self.submit.click()

    def expect_signed_in(self, *, timeout_ms: float = SIGN_IN_TIMEOUT_MS) -> None:
        """The app let the user in: the browser left the login form."""
        self.page.wait_for_url(lambda url: self.path not in url, timeout=timeout_ms)

    def expect_refused(self) -> None:
        expect(self.error).to_be_visible()
        expect(self.page).to_have_url(re.compile(re.escape(self.path) + "$"))
