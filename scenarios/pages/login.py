from __future__ import annotations

import re

from playwright.sync_api import Page, expect


class LoginPage:
    """``/customer/login`` and ``/mechanic/login``."""

    def __init__(self, page: Page, role: str = "customer") -> None:
        self.page = page
        self.path = f"/{role}/login"
        self.email = page.get_by_test_id("login-email")
        self.password = page.get_by_test_id("login-password")
        self.submit = page.get_by_test_id("login-submit")
        self.error = page.get_by_test_id("login-error")

    def open(self) -> LoginPage:
        self.page.goto(self.path)
        return self

    def sign_in(self, email: str, password: str) -> None:
        self.email.fill(email)
        self.password.fill(password)
        self.submit.click()

    def expect_refused(self) -> None:
        expect(self.error).to_be_visible()
        expect(self.page).to_have_url(re.compile(re.escape(self.path) + "$"))
