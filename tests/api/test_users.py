"""`/api/v1/users`: listing with pagination and filters, administration, scopes and CSRF."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp

from civicshield import accounts, audit
from civicshield.accounts import Permission
from civicshield.core import SYSTEM, FrozenClock, Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, bearer, caller, make_token, sign_in
from tests.conftest import PASSWORD, make_user

NEW_USER = {"username": "ana.lopez", "password": PASSWORD, "role": "analyst"}


def audit_actions(rt: Runtime, action: str) -> list[audit.AuditEntryRead]:
    with rt.session() as session:
        return audit.list_entries(session, action=action).items


def test_list_pages_follow_next_until_the_end(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    for n in range(6):
        make_user(runtime, f"user{n}", Role.VIEWER)
    first = client.get("/api/v1/users?limit=3", headers=admin_caller.headers).json()
    assert (first["total"], first["limit"], first["offset"]) == (7, 3, 0)
    assert first["next"] == "http://testserver/api/v1/users?limit=3&offset=3"
    seen: list[str] = []
    page: dict[str, Any] = first
    while True:
        seen += [u["username"] for u in page["items"]]
        if page["next"] is None:
            break
        page = client.get(page["next"], headers=admin_caller.headers).json()
    assert seen == sorted(["root", *(f"user{n}" for n in range(6))])
    assert page["offset"] == 6 and len(page["items"]) == 1


def test_next_keeps_the_filters(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    for n in range(3):
        make_user(runtime, f"view{n}", Role.VIEWER)
    page = client.get(
        "/api/v1/users", params={"role": "viewer", "limit": 2}, headers=admin_caller.headers
    ).json()
    assert page["total"] == 3 and page["next"] is not None
    assert "role=viewer" in page["next"]
    rest = client.get(page["next"], headers=admin_caller.headers).json()
    assert [u["username"] for u in rest["items"]] == ["view2"] and rest["next"] is None


def test_filters(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    make_user(runtime, "carla", Role.RESPONDER)
    make_user(runtime, "carlos", Role.VIEWER)
    gone = make_user(runtime, "dario", Role.VIEWER)
    with runtime.session() as session:
        accounts.set_active(session, gone.id, False, actor=SYSTEM, clock=runtime.clock)

    def names(**params: Any) -> list[str]:
        r = client.get("/api/v1/users", params=params, headers=admin_caller.headers)
        assert r.status_code == 200, r.text
        return [u["username"] for u in r.json()["items"]]

    assert names(q="CARL") == ["carla", "carlos"]
    assert names(role="viewer") == ["carlos", "dario"]
    assert names(active="false") == ["dario"]
    assert names(role="viewer", active="true") == ["carlos"]
    assert client.get("/api/v1/users?role=emperor", headers=admin_caller.headers).status_code == 422


def test_create_returns_201_with_location_and_is_audited(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    response = client.post("/api/v1/users", json=NEW_USER, headers=admin_caller.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["username"] == "ana.lopez" and created["role"] == "analyst"
    assert "password" not in created and "password_hash" not in created
    location = response.headers["location"]
    assert location == f"http://testserver/api/v1/users/{created['id']}"
    assert client.get(location, headers=admin_caller.headers).json() == created
    [entry] = audit_actions(runtime, "user.create")[:1]
    assert entry.entity_id == str(created["id"])
    assert entry.actor.startswith("token:root#")


def test_create_refusals(client: TestClient, admin_caller: Caller) -> None:
    headers = admin_caller.headers
    assert client.post("/api/v1/users", json=NEW_USER, headers=headers).status_code == 201
    again = client.post("/api/v1/users", json=NEW_USER, headers=headers)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    weak = client.post(
        "/api/v1/users", json={**NEW_USER, "username": "b", "password": "short"}, headers=headers
    )
    assert weak.status_code == 422
    weak = client.post(
        "/api/v1/users", json={**NEW_USER, "username": "bo", "password": "short"}, headers=headers
    )
    assert weak.status_code == 422 and weak.json()["title"] == "Weak password"
    assert {tuple(e["loc"]) for e in weak.json()["errors"]} == {("body", "password")}


def test_sector_operators_need_sectors(client: TestClient, admin_caller: Caller) -> None:
    operator = {**NEW_USER, "username": "op", "role": "sector_operator"}
    missing = client.post("/api/v1/users", json=operator, headers=admin_caller.headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "sectors"]
    ok = client.post(
        "/api/v1/users",
        json={**operator, "sectors": ["water", "energy"]},
        headers=admin_caller.headers,
    )
    assert ok.status_code == 201 and ok.json()["sectors"] == ["energy", "water"]
    wrong = client.post(
        "/api/v1/users", json={**NEW_USER, "sectors": ["water"]}, headers=admin_caller.headers
    )
    assert wrong.status_code == 422


def test_get_update_and_role_change_revokes_tokens(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    ana = caller(runtime, "ana", Role.ANALYST)
    assert client.get("/api/v1/me", headers=ana.headers).status_code == 200
    url = f"/api/v1/users/{ana.user.id}"
    changed = client.patch(url, json={"display_name": "Ana López"}, headers=admin_caller.headers)
    assert changed.status_code == 200 and changed.json()["display_name"] == "Ana López"
    assert client.get("/api/v1/me", headers=ana.headers).status_code == 200
    promoted = client.patch(url, json={"role": "responder"}, headers=admin_caller.headers)
    assert promoted.json()["role"] == "responder"
    assert client.get("/api/v1/me", headers=ana.headers).status_code == 401
    assert client.patch(url, json={"role": "god"}, headers=admin_caller.headers).status_code == 422
    assert client.get("/api/v1/users/424242", headers=admin_caller.headers).status_code == 404


def test_disable_and_enable(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    bob = caller(runtime, "bob", Role.RESPONDER)
    disabled = client.post(f"/api/v1/users/{bob.user.id}/disable", headers=admin_caller.headers)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert client.get("/api/v1/me", headers=bob.headers).status_code == 401
    again = client.post(f"/api/v1/users/{bob.user.id}/disable", headers=admin_caller.headers)
    assert again.status_code == 200  # idempotent
    assert len(audit_actions(runtime, "user.update")) == 1
    enabled = client.post(f"/api/v1/users/{bob.user.id}/enable", headers=admin_caller.headers)
    assert enabled.json()["is_active"] is True
    assert client.get("/api/v1/me", headers=bob.headers).status_code == 401  # still revoked
    self_disable = client.post(
        f"/api/v1/users/{admin_caller.user.id}/disable", headers=admin_caller.headers
    )
    assert self_disable.status_code == 409


def test_reset_password(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    carla = make_user(runtime, "carla", Role.ANALYST)
    url = f"/api/v1/users/{carla.id}/reset-password"
    generated = client.post(url, headers=admin_caller.headers)
    assert generated.status_code == 200, generated.text
    body = generated.json()
    assert body["generated"] is True and len(body["password"]) >= 16
    with runtime.session() as session:
        login = accounts.authenticate(
            session,
            username="carla",
            password=body["password"],
            ip=None,
            clock=runtime.clock,
            config=runtime.accounts,
        )
        assert login.user_id == carla.id
    assert client.get(f"/api/v1/users/{carla.id}", headers=admin_caller.headers).json()[
        "must_change_password"
    ]
    chosen = client.post(
        url, json={"password": "Another-Long-Secret-42"}, headers=admin_caller.headers
    )
    assert chosen.json() == {"user_id": carla.id, "generated": False, "password": None}
    weak = client.post(url, json={"password": "abc"}, headers=admin_caller.headers)
    assert weak.status_code == 422 and weak.json()["errors"][0]["loc"] == ["body", "password"]
    missing = client.post("/api/v1/users/999999/reset-password", headers=admin_caller.headers)
    assert missing.status_code == 404


def test_disable_two_factor(
    runtime: Runtime, clock: FrozenClock, client: TestClient, admin_caller: Caller
) -> None:
    dora = make_user(runtime, "dora", Role.RESPONDER)
    url = f"/api/v1/users/{dora.id}/totp"
    assert client.delete(url, headers=admin_caller.headers).status_code == 409
    with runtime.session() as session:
        enrolment = accounts.begin_totp(session, dora.id, config=runtime.accounts)
        code = pyotp.TOTP(enrolment.secret).at(clock.now())
        accounts.confirm_totp(
            session, dora.id, secret=enrolment.secret, code=code, actor=SYSTEM, clock=clock
        )
    clock.advance(timedelta(seconds=1))
    response = client.delete(url, headers=admin_caller.headers)
    assert response.status_code == 200 and response.json()["totp_enabled"] is False
    assert audit_actions(runtime, "user.totp_disabled")[0].actor.startswith("token:root#")


def test_a_read_only_token_cannot_create_users(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    read_only = bearer(make_token(runtime, admin_caller.user.id, [Permission.USERS_READ]))
    assert client.get("/api/v1/users", headers=read_only).status_code == 200
    refused = client.post("/api/v1/users", json=NEW_USER, headers=read_only)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this API token's scopes do not include users:manage"


def test_roles_without_users_read_are_refused(runtime: Runtime, client: TestClient) -> None:
    for name, role in [("an", Role.ANALYST), ("op", Role.SECTOR_OPERATOR)]:
        who = caller(runtime, name, role, sectors=[Sector.WATER] if name == "op" else None)
        refused = client.get("/api/v1/users", headers=who.headers)
        assert refused.status_code == 403
        assert f"your role ({role.value})" in refused.json()["detail"]


def test_session_writes_need_the_csrf_header(
    runtime: Runtime, client: TestClient, admin: accounts.UserRead
) -> None:
    browser = sign_in(client, runtime, "admin")
    assert client.get("/api/v1/users").status_code == 200  # reads need no CSRF header
    missing = client.post("/api/v1/users", json=NEW_USER)
    assert missing.status_code == 403 and missing.json()["title"] == "CSRF check failed"
    wrong = client.post("/api/v1/users", json=NEW_USER, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/users", json=NEW_USER, headers={"X-CSRF-Token": browser.csrf})
    assert ok.status_code == 201, ok.text
    assert audit_actions(runtime, "user.create")[0].actor == "admin"


def test_bearer_requests_need_no_csrf_header_even_with_a_cookie(
    runtime: Runtime, client: TestClient, admin: accounts.UserRead, admin_caller: Caller
) -> None:
    sign_in(client, runtime, "admin")
    response = client.post("/api/v1/users", json=NEW_USER, headers=admin_caller.headers)
    assert response.status_code == 201
