"""Language and theme: switches in the header, saved for users, cookies for visitors, and
the server renders `lang` and `data-theme` so the first paint is already right."""

from __future__ import annotations

from typing import Any

from civicshield import accounts
from civicshield.runtime import Runtime
from tests.integration.web.support import post_form


def test_anonymous_language_switch_uses_a_cookie(client: Any) -> None:
    assert '<html lang="en"' in client.get("/login").text
    response = post_form(
        client,
        "/login",
        "/preferences/language",
        {"language": "es-MX"},
        headers={"Referer": "http://testserver/login?next=%2Faudit"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faudit"
    page = client.get("/login").text
    assert '<html lang="es-MX"' in page
    assert "Iniciar sesión" in page
    post_form(client, "/login", "/preferences/language", {"language": "fr-CA"})
    page = client.get("/login").text
    assert '<html lang="fr-CA"' in page and "Se connecter" in page


def test_accept_language_is_the_fallback(client: Any) -> None:
    page = client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}).text
    assert '<html lang="es-MX"' in page
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert '<html lang="en"' in page


def test_user_language_is_saved_and_wins_over_the_cookie(
    admin_client: Any, runtime: Runtime
) -> None:
    post_form(admin_client, "/", "/preferences/language", {"language": "fr-CA"})
    with runtime.session() as session:
        assert accounts.get_user_by_username(session, "admin").language == "fr-CA"
    admin_client.cookies.set("cs_lang", "es-MX")
    page = admin_client.get("/").text
    assert '<html lang="fr-CA"' in page and "Tableau de bord" in page


def test_theme_switch_sets_data_theme(client: Any, admin_client: Any, runtime: Runtime) -> None:
    assert 'data-theme="system"' in client.get("/login").text
    post_form(client, "/login", "/preferences/theme", {"theme": "dark"})
    assert 'data-theme="dark"' in client.get("/login").text

    post_form(admin_client, "/", "/preferences/theme", {"theme": "light"})
    page = admin_client.get("/").text
    assert '<html lang="en" data-theme="light">' in page
    with runtime.session() as session:
        assert accounts.get_user_by_username(session, "admin").theme == "light"


def test_script_theme_switch_gets_no_content(admin_client: Any) -> None:
    response = post_form(
        admin_client,
        "/",
        "/preferences/theme",
        {"theme": "dark"},
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 204
    assert "cs_theme=dark" in response.headers["set-cookie"]


def test_referer_from_elsewhere_is_not_followed(client: Any) -> None:
    response = post_form(
        client,
        "/login",
        "/preferences/theme",
        {"theme": "dark"},
        headers={"Referer": "https://evil.example/phish"},
    )
    assert response.headers["location"] == "/"


def test_profile_preferences(admin_client: Any) -> None:
    response = post_form(
        admin_client,
        "/profile",
        "/profile",
        {
            "display_name": "Ana Administradora",
            "language": "es-MX",
            "timezone": "America/Tijuana",
            "theme": "dark",
        },
    )
    assert response.status_code == 303
    page = admin_client.get("/profile").text
    assert '<html lang="es-MX" data-theme="dark">' in page
    assert "Ana Administradora" in page
    assert '<option value="America/Tijuana" selected>' in page
    bad = post_form(
        admin_client,
        "/profile",
        "/profile",
        {"display_name": "x", "language": "xx", "timezone": "Mars/Olympus", "theme": "dark"},
    )
    assert bad.status_code == 422
    assert 'data-testid="error-timezone"' in bad.text


def test_password_change_errors(admin_client: Any) -> None:
    wrong = post_form(
        admin_client,
        "/profile",
        "/profile/password",
        {
            "current_password": "nope-nope-nope",
            "new_password": "Another-good-pass-42",
            "confirm_password": "Another-good-pass-42",
        },
    )
    assert wrong.status_code == 422 and 'data-testid="error-current_password"' in wrong.text
    differ = post_form(
        admin_client,
        "/profile",
        "/profile/password",
        {"current_password": "x", "new_password": "a", "confirm_password": "b"},
    )
    assert 'data-testid="error-confirm_password"' in differ.text
