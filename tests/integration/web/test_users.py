"""User administration pages: list and filters, create with field errors, edit, actions."""

from __future__ import annotations

from typing import Any

from civicshield import accounts, audit
from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.conftest import PASSWORD, make_user
from tests.integration.web.support import login, post_form


def _create(client: Any, **fields: Any) -> Any:
    data = {
        "username": "",
        "display_name": "",
        "email": "",
        "role": "analyst",
        "password": PASSWORD,
        **fields,
    }
    return post_form(client, "/admin/users/new", "/admin/users/new", data)


def test_list_filters_and_htmx_fragment(admin_client: Any, runtime: Runtime) -> None:
    make_user(runtime, "ana.lopez", Role.ANALYST)
    make_user(runtime, "rui", Role.RESPONDER)
    page = admin_client.get("/admin/users?q=ana")
    assert 'data-testid="user-row-ana.lopez"' in page.text
    assert 'data-testid="user-row-rui"' not in page.text
    by_role = admin_client.get("/admin/users?role=responder").text
    assert 'data-testid="user-row-rui"' in by_role and "user-row-ana.lopez" not in by_role
    fragment = admin_client.get(
        "/admin/users?role=responder", headers={"HX-Request": "true", "HX-Target": "user-table"}
    )
    assert fragment.text.lstrip().startswith("<div") and "<html" not in fragment.text
    assert 'data-testid="user-row-rui"' in fragment.text


def test_list_paginates(admin_client: Any, runtime: Runtime) -> None:
    for i in range(27):
        make_user(runtime, f"user{i:02d}", Role.VIEWER)
    first = admin_client.get("/admin/users?role=viewer").text
    assert "Showing 1–25 of 27" in first
    assert 'href="/admin/users?role=viewer&amp;offset=25"' in first
    second = admin_client.get("/admin/users?role=viewer&offset=25").text
    assert "Showing 26–27 of 27" in second and 'data-testid="page-previous"' in second


def test_create_with_invalid_input_keeps_values_and_shows_errors(admin_client: Any) -> None:
    response = _create(
        admin_client,
        username="Bad Name!",
        display_name="Ana López",
        email="not-an-email",
        role="analyst",
    )
    assert response.status_code == 422
    text = response.text
    assert 'data-testid="error-username"' in text
    assert 'value="Bad Name!"' in text and 'value="Ana López"' in text
    assert 'value="not-an-email"' in text
    assert 'aria-invalid="true"' in text


def test_create_with_weak_password_and_missing_sector(admin_client: Any) -> None:
    weak = _create(admin_client, username="ana", password="short")
    assert weak.status_code == 422
    assert "use at least 12 characters" in weak.text
    assert 'data-testid="error-password"' in weak.text
    no_sector = _create(admin_client, username="op", role="sector_operator")
    assert no_sector.status_code == 422
    assert "choose at least one sector" in no_sector.text


def test_create_then_duplicate(admin_client: Any, runtime: Runtime) -> None:
    response = _create(
        admin_client,
        username="op",
        role="sector_operator",
        sectors=["water", "energy"],
        email="op@city.example",
    )
    assert response.status_code == 303
    detail = admin_client.get(response.headers["location"])
    assert "The user was created." in detail.text
    with runtime.session() as session:
        user = accounts.get_user_by_username(session, "op")
        assert set(user.sectors) == {Sector.WATER, Sector.ENERGY}
        assert audit.list_entries(session, action="user.create").total == 2  # admin + op
    duplicate = _create(admin_client, username="op")
    assert duplicate.status_code == 422
    assert "This username is already taken." in duplicate.text


def test_sectors_are_dropped_for_other_roles(admin_client: Any, runtime: Runtime) -> None:
    response = _create(admin_client, username="ana", role="analyst", sectors=["water"])
    assert response.status_code == 303
    with runtime.session() as session:
        assert accounts.get_user_by_username(session, "ana").sectors == []


def test_edit_disable_reset_and_totp_off(
    admin_client: Any, runtime: Runtime, new_client: Any
) -> None:
    user = make_user(runtime, "bo", Role.ANALYST)
    url = f"/admin/users/{user.id}"
    edited = post_form(
        admin_client, url, url, {"display_name": "Bo Tremblay", "email": "", "role": "responder"}
    )
    assert edited.status_code == 303
    page = admin_client.get(url).text
    assert "Bo Tremblay" in page and "The user was updated." in page

    other = new_client()
    assert login(other, "bo").status_code == 303
    disabled = post_form(admin_client, url, f"{url}/active", {"active": "no"})
    assert disabled.status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 303  # session ended
    post_form(admin_client, url, f"{url}/active", {"active": "yes"})

    reset = post_form(admin_client, url, f"{url}/reset-password")
    assert reset.status_code == 200
    password = reset.text.split('data-testid="new-password-value">')[1].split("<")[0]
    assert len(password) >= 12
    assert password not in admin_client.get(url).text  # shown once only
    assert 'data-testid="user-disable-totp"' not in admin_client.get(url).text


def test_cannot_disable_yourself(admin_client: Any, runtime: Runtime) -> None:
    with runtime.session() as session:
        me = accounts.get_user_by_username(session, "admin")
    page = admin_client.get(f"/admin/users/{me.id}").text
    assert 'data-testid="user-toggle-active"' not in page
    response = post_form(
        admin_client, f"/admin/users/{me.id}", f"/admin/users/{me.id}/active", {"active": "no"}
    )
    assert response.status_code == 409
    assert "you cannot change your own role or disable yourself" in response.text


def test_unknown_user_is_404(admin_client: Any) -> None:
    assert admin_client.get("/admin/users/999").status_code == 404


def test_roles_table(admin_client: Any) -> None:
    page = admin_client.get("/admin/roles").text
    assert "View the dashboard" in page and "Sector operator" in page
    assert page.count("<tr>") >= 11
