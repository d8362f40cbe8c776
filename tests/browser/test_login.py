"""Signing in through a real browser: password, lockout, two-factor, and roles."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from civicshield.core import Role
from civicshield.runtime import Runtime
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_login_and_logout(page: Any, user_factory: Any) -> None:
    name = user_factory(Role.ANALYST)
    login(page, name)
    assert page.url.endswith("/")
    assert page.locator("h1").inner_text().startswith("Welcome")
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/login")
    assert page.get_by_test_id("flash").inner_text() == "You have signed out."


def test_wrong_password_then_lockout(page: Any, user_factory: Any, live_runtime: Runtime) -> None:
    name = user_factory(Role.ANALYST)
    login(page, name, "wrong-password-123")
    page.get_by_test_id("login-error").wait_for()
    assert page.get_by_test_id("field-username").input_value() == name
    for _ in range(live_runtime.settings.login_max_failures - 1):
        login(page, name, "wrong-password-123")
    login(page, name)  # the right password, but the account is locked now
    assert "15 minutes" in page.get_by_test_id("login-locked").inner_text()


def test_totp_enrolment_and_login(page: Any, user_factory: Any) -> None:
    name = user_factory(Role.ANALYST)
    login(page, name)
    page.goto("/profile")
    page.get_by_test_id("totp-begin").click()
    page.get_by_test_id("totp-qr").wait_for()
    totp = pyotp.TOTP(page.get_by_test_id("totp-secret").inner_text().strip())
    page.get_by_test_id("field-code").fill(totp.now())
    page.get_by_test_id("totp-confirm").click()
    page.get_by_test_id("totp-on").wait_for()
    page.get_by_test_id("logout").click()

    login(page, name)
    page.wait_for_url("**/login/2fa**")
    # The enrolment used this 30 s step; the next step's code is inside the allowed window
    # and is not a replay.
    page.get_by_test_id("field-code").fill(totp.at(time.time() + 30))
    page.get_by_test_id("totp-submit").click()
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.locator("h1").inner_text().startswith("Welcome")


def test_role_refusal(page: Any, user_factory: Any) -> None:
    login(page, user_factory(Role.ANALYST))
    response = page.goto("/admin/users")
    assert response.status == 403
    assert "Your role may not open this page." in page.get_by_test_id("error-page").inner_text()
    assert page.get_by_test_id("nav-users").count() == 0


def test_anonymous_visitor_comes_back_after_login(page: Any, user_factory: Any) -> None:
    name = user_factory(Role.ADMIN)
    page.goto("/audit?action=auth.")
    page.wait_for_url("**/login?next=**")
    page.get_by_test_id("field-username").fill(name)
    page.get_by_test_id("field-password").fill("Correct-Horse-Battery-9")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/audit?action=auth.")
