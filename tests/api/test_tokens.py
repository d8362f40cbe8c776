"""`/api/v1/tokens`: own tokens, managers' reach, no scope escalation, revocation, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicshield.accounts import Permission
from civicshield.core import FrozenClock, Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, bearer, caller, make_token

TOKEN = {"name": "ci", "scopes": ["jobs:read"], "expires_in_days": 30}


@pytest.fixture
def analyst(runtime: Runtime) -> Caller:
    return caller(runtime, "ana", Role.ANALYST)


def test_create_shows_the_secret_once_and_it_works(client: TestClient, analyst: Caller) -> None:
    response = client.post("/api/v1/tokens", json=TOKEN, headers=analyst.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["token"].startswith("cs_") and created["user_id"] == analyst.user.id
    assert created["scopes"] == ["jobs:read"]
    assert created["expires_at"] == "2026-12-22T12:00:00Z"
    read = client.get(response.headers["location"], headers=analyst.headers).json()
    assert "token" not in read and read["prefix"] == created["prefix"]
    me = client.get("/api/v1/jobs", headers=bearer(created["token"]))
    assert me.status_code == 200
    narrow = client.get("/api/v1/me", headers=bearer(created["token"]))
    assert narrow.status_code == 403  # profile:self was not among its scopes


def test_list_shows_own_tokens_and_managers_reach_everyone(
    runtime: Runtime, client: TestClient, analyst: Caller, admin_caller: Caller
) -> None:
    mine = client.get("/api/v1/tokens", headers=analyst.headers).json()
    assert [t["user_id"] for t in mine["items"]] == [analyst.user.id]
    for query in (f"?user_id={admin_caller.user.id}", "?all=true"):
        refused = client.get(f"/api/v1/tokens{query}", headers=analyst.headers)
        assert refused.status_code == 403 and "tokens:manage" in refused.json()["detail"]
    assert (
        client.get(f"/api/v1/tokens?user_id={analyst.user.id}", headers=analyst.headers).status_code
        == 200
    )
    everyone = client.get("/api/v1/tokens?all=true", headers=admin_caller.headers).json()
    assert {t["user_id"] for t in everyone["items"]} == {analyst.user.id, admin_caller.user.id}
    theirs = client.get(
        f"/api/v1/tokens?user_id={analyst.user.id}", headers=admin_caller.headers
    ).json()
    assert [t["user_id"] for t in theirs["items"]] == [analyst.user.id]


def test_list_pages_and_revoked_filter(
    runtime: Runtime, client: TestClient, analyst: Caller
) -> None:
    for n in range(4):
        make_token(runtime, analyst.user.id, [Permission.JOBS_READ], name=f"t{n}")
    first = client.get("/api/v1/tokens?limit=2", headers=analyst.headers).json()
    assert first["total"] == 5 and len(first["items"]) == 2
    assert first["next"] == "http://testserver/api/v1/tokens?limit=2&offset=2"
    last = client.get("/api/v1/tokens?limit=2&offset=4", headers=analyst.headers).json()
    assert last["next"] is None and len(last["items"]) == 1
    victim = first["items"][0]["id"]
    assert client.delete(f"/api/v1/tokens/{victim}", headers=analyst.headers).status_code == 200
    live = client.get("/api/v1/tokens", headers=analyst.headers).json()
    assert live["total"] == 4
    every = client.get("/api/v1/tokens?include_revoked=true", headers=analyst.headers).json()
    assert every["total"] == 5


def test_no_scope_escalation(runtime: Runtime, client: TestClient, analyst: Caller) -> None:
    beyond_role = {**TOKEN, "scopes": ["users:manage"]}
    refused = client.post("/api/v1/tokens", json=beyond_role, headers=analyst.headers)
    assert refused.status_code == 403 and "users:manage" in refused.json()["detail"]
    only_tokens = bearer(make_token(runtime, analyst.user.id, [Permission.TOKENS_OWN]))
    wider = client.post(
        "/api/v1/tokens", json={**TOKEN, "scopes": ["audit:read"]}, headers=only_tokens
    )
    assert wider.status_code == 403 and "audit:read" in wider.json()["detail"]
    same = client.post(
        "/api/v1/tokens", json={**TOKEN, "scopes": ["tokens:own"]}, headers=only_tokens
    )
    assert same.status_code == 201


def test_tokens_for_other_users_need_tokens_manage(
    client: TestClient, analyst: Caller, admin_caller: Caller
) -> None:
    for_admin = {**TOKEN, "user_id": admin_caller.user.id}
    refused = client.post("/api/v1/tokens", json=for_admin, headers=analyst.headers)
    assert refused.status_code == 403
    for_analyst = {**TOKEN, "user_id": analyst.user.id}
    made = client.post("/api/v1/tokens", json=for_analyst, headers=admin_caller.headers)
    assert made.status_code == 201 and made.json()["user_id"] == analyst.user.id
    beyond_role = {**for_analyst, "scopes": ["users:manage"]}
    invalid = client.post("/api/v1/tokens", json=beyond_role, headers=admin_caller.headers)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["loc"] == ["body", "scopes"]
    nobody = client.post(
        "/api/v1/tokens", json={**TOKEN, "user_id": 999999}, headers=admin_caller.headers
    )
    assert nobody.status_code == 404


def test_other_users_tokens_look_missing_to_non_managers(
    runtime: Runtime, client: TestClient, analyst: Caller, admin_caller: Caller
) -> None:
    other = caller(runtime, "bob", Role.RESPONDER)
    theirs = client.get("/api/v1/tokens", headers=other.headers).json()["items"][0]["id"]
    for response in (
        client.get(f"/api/v1/tokens/{theirs}", headers=analyst.headers),
        client.delete(f"/api/v1/tokens/{theirs}", headers=analyst.headers),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == f"API token {theirs} does not exist"
    assert client.get(f"/api/v1/tokens/{theirs}", headers=admin_caller.headers).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{theirs}", headers=admin_caller.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=other.headers).status_code == 401


def test_revoked_tokens_are_refused(client: TestClient, analyst: Caller) -> None:
    own = client.get("/api/v1/tokens", headers=analyst.headers).json()["items"][0]["id"]
    assert client.delete(f"/api/v1/tokens/{own}", headers=analyst.headers).status_code == 200
    refused = client.get("/api/v1/me", headers=analyst.headers)
    assert refused.status_code == 401
    assert "invalid, expired or revoked" in refused.json()["detail"]


def test_revoking_twice_is_a_conflict(
    runtime: Runtime, client: TestClient, analyst: Caller
) -> None:
    spare = make_token(runtime, analyst.user.id, [Permission.JOBS_READ], name="spare")
    assert client.get("/api/v1/tokens", headers=bearer(spare)).status_code == 403  # jobs:read
    listed = client.get("/api/v1/tokens", headers=analyst.headers).json()["items"]
    target = next(t["id"] for t in listed if t["name"] == "spare")
    assert client.delete(f"/api/v1/tokens/{target}", headers=analyst.headers).status_code == 200
    again = client.delete(f"/api/v1/tokens/{target}", headers=analyst.headers)
    assert again.status_code == 409


def test_expired_tokens_are_refused(
    runtime: Runtime, clock: FrozenClock, client: TestClient, analyst: Caller
) -> None:
    short = bearer(make_token(runtime, analyst.user.id, expires_in_days=1))
    assert client.get("/api/v1/me", headers=short).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get("/api/v1/me", headers=short).status_code == 401
    assert client.get("/api/v1/me", headers=analyst.headers).status_code == 200


def test_viewers_have_no_tokens_but_sector_operators_do(
    runtime: Runtime, client: TestClient, viewer_caller: Caller
) -> None:
    assert client.get("/api/v1/tokens", headers=viewer_caller.headers).status_code == 403
    operator = caller(runtime, "op", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    made = client.post(
        "/api/v1/tokens",
        json={"name": "scada", "scopes": ["profile:self"]},
        headers=operator.headers,
    )
    assert made.status_code == 201, made.text
    me = client.get("/api/v1/me", headers=bearer(made.json()["token"])).json()
    assert me["permissions"] == ["profile:self"] and me["sectors"] == ["water"]
