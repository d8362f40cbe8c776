"""`/api/v1/me`: who is asking (token or session, role, sectors, permissions), preferences."""

from __future__ import annotations

from civicshield import accounts, audit
from civicshield.accounts import Permission
from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, bearer, caller, make_token, sign_in


def test_me_through_a_token(client: TestClient, admin_caller: Caller) -> None:
    me = client.get("/api/v1/me", headers=admin_caller.headers).json()
    assert me["id"] == admin_caller.user.id and me["username"] == "root"
    assert me["role"] == "admin" and me["via"] == "token" and me["token_id"] is not None
    assert set(me["permissions"]) == {p.value for p in Permission}
    assert (me["language"], me["timezone"], me["theme"]) == ("en", "UTC", "system")


def test_a_token_narrows_the_permissions(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    narrow = bearer(make_token(runtime, admin_caller.user.id, [Permission.PROFILE_SELF]))
    me = client.get("/api/v1/me", headers=narrow).json()
    assert me["role"] == "admin" and me["permissions"] == ["profile:self"]
    refused = client.get("/api/v1/meta/enums", headers=narrow)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this API token's scopes do not include dashboard:view"


def test_sector_operator(runtime: Runtime, client: TestClient) -> None:
    operator = caller(runtime, "olga", Role.SECTOR_OPERATOR, sectors=[Sector.WATER, Sector.ENERGY])
    me = client.get("/api/v1/me", headers=operator.headers).json()
    assert me["role"] == "sector_operator" and me["sectors"] == ["energy", "water"]
    assert me["permissions"] == sorted(
        p.value for p in accounts.permissions_for(Role.SECTOR_OPERATOR)
    )
    assert client.get("/api/v1/meta/enums", headers=operator.headers).status_code == 200
    for path in ("/api/v1/users", "/api/v1/jobs", "/api/v1/audit"):
        assert client.get(path, headers=operator.headers).status_code == 403


def test_update_preferences(runtime: Runtime, client: TestClient, viewer_caller: Caller) -> None:
    changed = client.patch(
        "/api/v1/me",
        json={"language": "es-MX", "timezone": "America/Tijuana", "theme": "dark"},
        headers=viewer_caller.headers,
    )
    assert changed.status_code == 200, changed.text
    me = changed.json()
    assert (me["language"], me["timezone"], me["theme"]) == ("es-MX", "America/Tijuana", "dark")
    assert client.get("/api/v1/me", headers=viewer_caller.headers).json() == me
    with runtime.session() as session:
        [entry] = audit.list_entries(session, action="user.preferences").items
    assert entry.changes["theme"] == ["system", "dark"]
    assert entry.actor.startswith("token:vera#")
    unchanged = client.patch("/api/v1/me", json={}, headers=viewer_caller.headers)
    assert unchanged.json() == me


def test_update_preferences_validates(client: TestClient, viewer_caller: Caller) -> None:
    bad = client.patch(
        "/api/v1/me",
        json={"timezone": "Mars/Olympus", "theme": "neon"},
        headers=viewer_caller.headers,
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} == {
        ("body", "timezone"),
        ("body", "theme"),
    }
    role = client.patch("/api/v1/me", json={"role": "admin"}, headers=viewer_caller.headers)
    assert role.status_code == 422 and role.json()["errors"][0]["loc"] == ["body", "role"]


def test_me_through_a_browser_session(
    runtime: Runtime, client: TestClient, admin: accounts.UserRead
) -> None:
    browser = sign_in(client, runtime, "admin")
    me = client.get("/api/v1/me").json()
    assert me["via"] == "session" and me["token_id"] is None and me["username"] == "admin"
    refused = client.patch("/api/v1/me", json={"theme": "dark"})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/csrf")
    ok = client.patch("/api/v1/me", json={"theme": "dark"}, headers={"X-CSRF-Token": browser.csrf})
    assert ok.status_code == 200 and ok.json()["theme"] == "dark"


def test_an_unknown_session_cookie_is_anonymous(client: TestClient) -> None:
    client.cookies.set("cs_session", "not-a-session")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("authentication required")
