"""Logging in and out through the pages: password, lockout, address limit, two-factor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pyotp
import pytest

from civicshield import accounts
from civicshield.core import FrozenClock, Role
from civicshield.http import SESSION_COOKIE
from civicshield.runtime import Runtime
from tests.conftest import PASSWORD, make_user
from tests.integration.web.support import csrf_from, login, post_form


def test_login_success_sets_a_strict_session_cookie(client: Any, admin: Any) -> None:
    response = login(client, "admin")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=43200" in cookie  # settings.session_hours = 12
    assert "Secure" not in cookie  # plain http test server, cookie_secure unset
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Ciudad Demo" in dashboard.text


def test_cookie_is_secure_over_https(app: Any, admin: Any, new_client: Any) -> None:
    client = new_client()
    client.base_url = "https://testserver"
    response = login(client, "admin")
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_shows_a_generic_error(client: Any, admin: Any) -> None:
    response = login(client, "admin", "not-the-password")
    assert response.status_code == 422
    assert 'data-testid="login-error"' in response.text
    assert 'value="admin"' in response.text  # the username is kept
    unknown = login(client, "nobody", "whatever-password")
    assert unknown.status_code == 422
    assert "Invalid username or password." in unknown.text


def test_lockout_after_max_failures(client: Any, runtime: Runtime, admin: Any) -> None:
    for _ in range(runtime.settings.login_max_failures):
        assert login(client, "admin", "wrong-password-123").status_code == 422
    locked = login(client, "admin")  # even the right password is refused now
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert 'data-testid="login-locked"' in locked.text
    assert "15 minutes" in locked.text
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(minutes=16))
    assert login(client, "admin").status_code == 303


def test_address_limiter_slows_spraying(client: Any, app: Any, runtime: Runtime) -> None:
    app.state.web.login_limiter = accounts.SlidingWindowLimiter(
        limit=3, window=timedelta(minutes=1), clock=runtime.clock
    )
    for i in range(3):
        assert login(client, f"user{i}", "wrong-password-123").status_code == 422
    limited = login(client, "user9", "wrong-password-123")
    assert limited.status_code == 429
    assert "retry-after" in limited.headers


def test_logout_ends_the_session(client: Any, admin: Any) -> None:
    login(client, "admin")
    response = post_form(client, "/", "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    assert "You have signed out." in client.get("/login").text


def test_anonymous_visitor_is_sent_to_login_and_back(client: Any, admin: Any) -> None:
    response = client.get("/admin/users?role=admin", follow_redirects=False)
    assert response.status_code == 303
    assert unquote(response.headers["location"]) == "/login?next=/admin/users?role=admin"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/admin/users?role=admin"' in page.text
    done = post_form(
        client,
        "/login",
        "/login",
        {"username": "admin", "password": PASSWORD, "next": "/admin/users?role=admin"},
    )
    assert done.headers["location"] == "/admin/users?role=admin"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(client: Any, admin: Any, target: str) -> None:
    response = post_form(
        client, "/login", "/login", {"username": "admin", "password": PASSWORD, "next": target}
    )
    assert response.headers["location"] == "/"


def test_htmx_request_without_session_gets_hx_redirect(client: Any) -> None:
    response = client.get("/admin/users", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers["hx-redirect"].startswith("/login")


def _enrol(client: Any, runtime: Runtime) -> str:
    begin = post_form(client, "/profile", "/profile/totp/begin")
    assert begin.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in begin.text
    secret = begin.text.split('data-testid="totp-secret">')[1].split("<")[0]
    enrolment = begin.text.split('name="enrolment" value="')[1].split('"')[0]
    code = pyotp.TOTP(secret).at(runtime.clock.now())
    done = client.post(
        "/profile/totp/confirm",
        follow_redirects=False,
        data={"csrf_token": csrf_from(begin.text), "enrolment": enrolment, "code": code},
    )
    assert done.status_code == 303, done.text
    return secret


def test_totp_enrolment_and_login(client: Any, runtime: Runtime) -> None:
    assert isinstance(runtime.clock, FrozenClock)
    make_user(runtime, "ana", Role.ANALYST)
    login(client, "ana")
    secret = _enrol(client, runtime)
    assert 'data-testid="totp-on"' in client.get("/profile").text
    post_form(client, "/", "/logout")

    runtime.clock.advance(timedelta(seconds=30))  # the enrolment code's step is used up
    first = login(client, "ana")
    assert first.status_code == 303
    assert first.headers["location"].startswith("/login/2fa")
    assert client.get("/", follow_redirects=False).status_code == 303  # not logged in yet
    step = client.get(first.headers["location"])
    wrong = client.post(
        "/login/2fa",
        follow_redirects=False,
        data={"csrf_token": csrf_from(step.text), "code": "000000"},
    )
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).at(runtime.clock.now())
    ok = client.post(
        "/login/2fa",
        follow_redirects=False,
        data={"csrf_token": csrf_from(wrong.text), "code": code, "next": "/audit"},
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/audit"
    assert client.get("/audit").status_code == 200


def test_totp_enrolment_rejects_a_tampered_secret(client: Any, runtime: Runtime) -> None:
    make_user(runtime, "ana", Role.ANALYST)
    login(client, "ana")
    begin = post_form(client, "/profile", "/profile/totp/begin")
    enrolment = begin.text.split('name="enrolment" value="')[1].split('"')[0]
    forged_secret = pyotp.random_base32()
    forged = enrolment.replace(enrolment.split(":")[1].split(".")[0], forged_secret)
    response = client.post(
        "/profile/totp/confirm",
        follow_redirects=False,
        data={
            "csrf_token": csrf_from(begin.text),
            "enrolment": forged,
            "code": pyotp.TOTP(forged_secret).at(runtime.clock.now()),
        },
    )
    assert response.headers["location"] == "/profile"
    assert 'data-testid="totp-off"' in client.get("/profile").text


def test_must_change_password_goes_to_profile_first(
    client: Any, runtime: Runtime, admin_client: Any
) -> None:
    user = make_user(runtime, "bo", Role.ANALYST)
    reset = post_form(
        admin_client, f"/admin/users/{user.id}", f"/admin/users/{user.id}/reset-password"
    )
    password = reset.text.split('data-testid="new-password-value">')[1].split("<")[0]
    assert login(client, "bo", password).status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/profile"
    profile = client.get("/profile")
    assert 'data-testid="setup-password"' in profile.text
    changed = client.post(
        "/profile/password",
        follow_redirects=False,
        data={
            "csrf_token": csrf_from(profile.text),
            "current_password": password,
            "new_password": "A-brand-new-passphrase-7",
            "confirm_password": "A-brand-new-passphrase-7",
        },
    )
    assert changed.status_code == 303
    assert client.get("/").status_code == 200


def test_required_admin_totp_forces_enrolment(tmp_path: Any, clock: FrozenClock) -> None:
    from civicshield.app import create_app
    from civicshield.migrations import upgrade
    from civicshield.runtime import build_runtime
    from tests.conftest import make_settings
    from tests.integration.web.conftest import TestClient

    settings = make_settings(tmp_path / "var", require_admin_totp=True)
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=clock)
    make_user(rt, "root", Role.ADMIN)
    with TestClient(create_app(runtime=rt)) as client:
        assert login(client, "root").headers["location"] == "/profile"
        assert client.get("/admin/users", follow_redirects=False).headers["location"] == "/profile"
        assert 'data-testid="setup-totp"' in client.get("/profile").text
        _enrol(client, rt)
        assert client.get("/admin/users").status_code == 200
        assert 'data-testid="totp-disable"' not in client.get("/profile").text
    rt.close()


def test_wrong_code_shows_the_same_qr_again(client: Any, runtime: Runtime) -> None:
    make_user(runtime, "ana", Role.ANALYST)
    login(client, "ana")
    begin = post_form(client, "/profile", "/profile/totp/begin")
    qr = begin.text.split('src="data:image/svg+xml;base64,')[1].split('"')[0]
    enrolment = begin.text.split('name="enrolment" value="')[1].split('"')[0]
    wrong = client.post(
        "/profile/totp/confirm",
        data={"csrf_token": csrf_from(begin.text), "enrolment": enrolment, "code": "000000"},
    )
    assert wrong.status_code == 422
    assert f'src="data:image/svg+xml;base64,{qr}"' in wrong.text


def test_turning_off_own_totp_needs_the_password(client: Any, runtime: Runtime) -> None:
    make_user(runtime, "ana", Role.ANALYST)
    login(client, "ana")
    _enrol(client, runtime)
    profile = client.get("/profile")
    refused = client.post(
        "/profile/totp/disable",
        data={"csrf_token": csrf_from(profile.text), "totp_password": "not-my-password-1"},
    )
    assert refused.status_code == 422
    assert 'data-testid="totp-on"' in refused.text
    done = client.post(
        "/profile/totp/disable",
        follow_redirects=False,
        data={"csrf_token": csrf_from(refused.text), "totp_password": PASSWORD},
    )
    assert done.status_code == 303
    assert 'data-testid="totp-off"' in client.get("/profile").text
