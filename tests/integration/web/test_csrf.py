"""Forged or cross-site form posts are refused with the "form expired or forged" page."""

from __future__ import annotations

from typing import Any

import pytest

from civicshield.core import Role
from tests.integration.web.support import csrf_from, login, post_form

FORGED = "Form expired or forged"


def _assert_forged(response: Any) -> None:
    assert response.status_code == 403
    assert FORGED in response.text
    assert 'data-status="403"' in response.text


def test_post_without_token_is_refused(admin_client: Any) -> None:
    response = admin_client.post(
        "/admin/users/new",
        follow_redirects=False,
        data={"username": "mallory", "role": "admin", "password": "Some-long-password-1"},
    )
    _assert_forged(response)
    assert "mallory" not in admin_client.get("/admin/users").text


def test_post_with_a_wrong_token_is_refused(admin_client: Any) -> None:
    response = admin_client.post(
        "/preferences/theme", follow_redirects=False, data={"theme": "dark", "csrf_token": "x" * 43}
    )
    _assert_forged(response)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_post_is_refused_even_with_the_token(
    admin_client: Any, headers: dict[str, str]
) -> None:
    response = post_form(
        admin_client, "/profile", "/preferences/theme", {"theme": "dark"}, headers=headers
    )
    _assert_forged(response)


def test_same_origin_headers_pass(admin_client: Any) -> None:
    response = post_form(
        admin_client,
        "/profile",
        "/preferences/theme",
        {"theme": "dark"},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303


def test_htmx_header_token_is_accepted(admin_client: Any) -> None:
    token = csrf_from(admin_client.get("/").text)
    response = admin_client.post(
        "/preferences/theme",
        data={"theme": "light"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 204


def test_session_token_is_per_session(as_role: Any) -> None:
    one, two = as_role(Role.ANALYST, "one"), as_role(Role.ANALYST, "two")
    token_of_one = csrf_from(one.get("/").text)
    response = two.post(
        "/preferences/theme",
        data={"theme": "dark", "csrf_token": token_of_one},
        follow_redirects=False,
    )
    _assert_forged(response)


def test_anonymous_login_needs_the_signed_cookie(client: Any, admin: Any, new_client: Any) -> None:
    token = csrf_from(client.get("/login").text)
    stranger = new_client()  # has no cs_anon cookie: the token alone is worthless
    response = stranger.post(
        "/login",
        follow_redirects=False,
        data={"csrf_token": token, "username": "admin", "password": "whatever-password"},
    )
    _assert_forged(response)
    stranger.cookies.set("cs_anon", "attacker-chosen")
    response = stranger.post(
        "/login",
        follow_redirects=False,
        data={"csrf_token": token, "username": "admin", "password": "whatever-password"},
    )
    _assert_forged(response)
    assert login(client, "admin").status_code == 303


def test_logout_needs_the_token(admin_client: Any) -> None:
    _assert_forged(admin_client.post("/logout", follow_redirects=False))
    assert admin_client.get("/").status_code == 200
