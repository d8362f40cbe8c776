"""One error shape for every `/api` route: RFC 9457 problem+json, whatever goes wrong.

Routes are enumerated from the app itself, so a new route is covered without editing this file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from civicshield import accounts
from civicshield.accounts import Permission
from civicshield.core import RateLimited, Role
from civicshield.http import PUBLIC, declared_access
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from tests.api.conftest import Caller, TestClient, caller
from tests.conftest import test_settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors"}
OPENAPI_URL = "/api/v1/openapi.json"  # FastAPI's own route: no dependencies to declare access


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    access: Permission | str | None

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", "999999", self.path)


def api_routes(app: FastAPI) -> Iterator[ApiRoute]:
    """Every (method, path) under /api with its declared access (None: none declared)."""
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith("/api"):
            continue
        dependant = getattr(route, "dependant", None)
        declared = [
            access
            for dep in (dependant.dependencies if dependant is not None else [])
            if dep.call is not None and (access := declared_access(dep.call)) is not None
        ]
        assert len(declared) <= 1, f"{path} declares access more than once: {declared}"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield ApiRoute(method, path, declared[0] if declared else None)


def assert_problem(
    response: httpx.Response, status: int, path: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["type"].startswith("https://civicshield.example/problems/")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == (path or response.request.url.path)
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"loc", "msg"}
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert "Traceback" not in response.text
    return body


def test_every_api_route_declares_access(app: FastAPI) -> None:
    routes = list(api_routes(app))
    assert len(routes) >= 25
    undeclared = [r for r in routes if r.access is None and r.path != OPENAPI_URL]
    assert undeclared == []


def test_anonymous_requests_get_401_unless_the_route_is_public(
    app: FastAPI, client: TestClient
) -> None:
    checked = 0
    for route in api_routes(app):
        response = client.request(route.method, route.url)
        if route.access == PUBLIC or route.path == OPENAPI_URL:
            assert response.status_code not in (401, 403), (route, response.text)
            continue
        body = assert_problem(response, 401)
        assert body["title"] == "Unauthorized"
        assert body["errors"] == []
        checked += 1
    assert checked >= 20


def test_viewer_token_gets_403_where_the_route_needs_more(
    app: FastAPI, client: TestClient, viewer_caller: Caller
) -> None:
    viewer_can = accounts.permissions_for(Role.VIEWER)
    refused = allowed = 0
    for route in api_routes(app):
        if route.access == PUBLIC or route.access is None:
            continue
        response = client.request(route.method, route.url, headers=viewer_caller.headers)
        if route.access in viewer_can:
            assert response.status_code not in (401, 403), (route, response.text)
            allowed += 1
            continue
        body = assert_problem(response, 403)
        assert isinstance(route.access, Permission)
        assert route.access.value in body["detail"]
        refused += 1
    assert refused >= 20 and allowed >= 3


def test_a_bad_bearer_token_is_a_401_that_says_so(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer cs_nope_nope"})
    body = assert_problem(response, 401)
    assert "invalid, expired or revoked" in body["detail"]


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["title"] == "Not found"
    assert body["type"].endswith("/not-found")
    assert_problem(client.get("/api/nothing-here"), 404)


def test_wrong_method_is_a_405_problem_that_keeps_allow(client: TestClient) -> None:
    response = client.delete("/api/v1/health")
    body = assert_problem(response, 405)
    assert response.headers["allow"] == "GET"
    assert body["title"] == "Method not allowed"
    assert body["detail"] == "DELETE is not allowed on /api/v1/health (allowed: GET)"


def test_malformed_json_is_a_422_naming_the_position(
    client: TestClient, admin_caller: Caller
) -> None:
    response = client.post(
        "/api/v1/users",
        content=b'{"username": "ana", "role": ',
        headers={**admin_caller.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["title"] == "Malformed JSON"
    assert "position 28" in body["detail"]
    assert body["errors"][0]["loc"] == ["body", 28]


def test_a_body_not_sent_as_json_says_how_to_send_it(
    client: TestClient, admin_caller: Caller
) -> None:
    response = client.post("/api/v1/users", content=b"username=ana", headers=admin_caller.headers)
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "loc": ["body"],
            "msg": "send a JSON object with the header Content-Type: application/json",
        }
    ]


def test_invalid_fields_are_a_422_listing_each_location(
    client: TestClient, admin_caller: Caller
) -> None:
    response = client.post(
        "/api/v1/users",
        json={"username": "A", "role": "emperor", "surprise": 1},
        headers=admin_caller.headers,
    )
    body = assert_problem(response, 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert {("body", "username"), ("body", "role"), ("body", "password")} <= locs
    assert ("body", "surprise") in locs  # unknown fields are refused, not ignored
    assert body["detail"].startswith(f"{len(locs)} invalid fields: ")

    query = assert_problem(client.get("/api/v1/users?limit=0", headers=admin_caller.headers), 422)
    assert query["errors"][0]["loc"] == ["query", "limit"]
    path = assert_problem(client.get("/api/v1/users/abc", headers=admin_caller.headers), 422)
    assert path["errors"][0]["loc"] == ["path", "user_id"]


def test_domain_errors_keep_their_status_title_and_headers(
    client: TestClient, admin_caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = assert_problem(client.get("/api/v1/users/999999", headers=admin_caller.headers), 404)
    assert body == {
        "type": "https://civicshield.example/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "user 999999 does not exist",
        "instance": "/api/v1/users/999999",
        "errors": [],
    }

    def limited(*args: object, **kwargs: object) -> None:
        raise RateLimited("slow down", retry_after=7)

    monkeypatch.setattr(accounts, "list_users", limited)
    response = client.get("/api/v1/users", headers=admin_caller.headers)
    assert assert_problem(response, 429)["detail"] == "slow down"
    assert response.headers["retry-after"] == "7"


def test_an_unexpected_error_is_a_generic_500_without_internals(
    quiet_client: TestClient,
    admin_caller: Caller,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail: /srv/civicshield/db password=hunter2")

    monkeypatch.setattr(accounts, "list_users", explode)
    with caplog.at_level(logging.ERROR, logger="civicshield.api.errors"):
        response = quiet_client.get("/api/v1/users", headers=admin_caller.headers)
    body = assert_problem(response, 500)
    assert body["title"] == "Internal server error"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    reference = re.search(r"reference ([0-9a-f]{12})", body["detail"])
    assert reference is not None
    logged = [r for r in caplog.records if r.name == "civicshield.api.errors"]
    assert logged and logged[0].exc_info is not None
    assert reference.group(1) in logged[0].getMessage()


@pytest.fixture
def small_limit_client(tmp_path: Path) -> Iterator[TestClient]:
    from civicshield.app import create_app

    settings = test_settings(
        tmp_path / "small",
        database_url=f"sqlite:///{tmp_path / 'small.db'}",
        max_body_bytes=2048,
    )
    upgrade(settings.resolved_database_url)
    runtime: Runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            yield client
    finally:
        runtime.close()


def test_an_oversized_body_is_a_413_problem(small_limit_client: TestClient) -> None:
    runtime: Runtime = small_limit_client.app.state.runtime  # type: ignore[attr-defined]
    token = caller(runtime, "root", Role.ADMIN).headers
    big = {"username": "ana", "password": "x" * 3000, "role": "viewer"}
    body = assert_problem(small_limit_client.post("/api/v1/users", json=big, headers=token), 413)
    assert "2048 bytes" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
        yield b'{"username": "ana", "password": "'
        yield b"x" * 3000
        yield b'"}'

    chunked = small_limit_client.post(
        "/api/v1/users",
        content=chunks(),
        headers={**token, "Content-Type": "application/json"},
    )
    assert_problem(chunked, 413)
    small = small_limit_client.get("/api/v1/users", headers=token)
    assert small.status_code == 200
