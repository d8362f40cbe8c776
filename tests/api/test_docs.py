"""`/api/docs` (self-hosted Swagger UI) and the OpenAPI document it shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from civicshield import accounts
from civicshield.api.routes import docs
from civicshield.runtime import Runtime
from tests.api.conftest import TestClient, sign_in

VENDOR = docs.VENDOR_DIR


def test_docs_page_loads_vendored_swagger_with_integrity(client: TestClient) -> None:
    if not (VENDOR / "manifest.json").is_file():
        pytest.skip("front-end assets not installed (make assets)")
    manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for key in ("swagger-ui.css", "swagger-ui.js"):
        entry = manifest[key]
        assert f'"/static/vendor/{entry["file"]}" integrity="{entry["integrity"]}"' in page
        assert client.get(f"/static/vendor/{entry['file']}").status_code == 200
    assert '<script src="/api/docs/init.js"></script>' in page
    assert 'data-openapi-url="/api/v1/openapi.json"' in page
    assert re.search(r"<script>|<style|style=|onload=", page) is None  # CSP: nothing inline
    assert 'data-csrf-token=""' in page  # anonymous: no CSRF token to hand out
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_signed_in_browser_gets_its_csrf_token_for_try_it_out(
    runtime: Runtime, client: TestClient, admin: accounts.UserRead
) -> None:
    if not (VENDOR / "manifest.json").is_file():
        pytest.skip("front-end assets not installed (make assets)")
    browser = sign_in(client, runtime, "admin")
    assert f'data-csrf-token="{browser.csrf}"' in client.get("/api/docs").text


def test_missing_assets_page_says_to_run_make_assets(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "VENDOR_DIR", tmp_path)
    response = client.get("/api/docs")
    assert response.status_code == 503
    assert "make assets" in response.text and "manifest.json" in response.text
    (tmp_path / "manifest.json").write_text(
        json.dumps({"swagger-ui.css": {"file": "a.css", "integrity": "sha384-x"}}),
        encoding="utf-8",
    )
    assert "a.css does not exist" in client.get("/api/docs").text
    (tmp_path / "a.css").write_text("body {}", encoding="utf-8")
    assert "no entry &#x27;swagger-ui.js&#x27;" in client.get("/api/docs").text


def test_init_script_is_a_static_file(client: TestClient) -> None:
    response = client.get("/api/docs/init.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in response.text and "X-CSRF-Token" in response.text


def test_openapi_documents_security_and_problem_responses(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"]["scheme"] == "bearer"
    assert schemes["sessionCookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "cs_session",
        "description": schemes["sessionCookie"]["description"],
    }
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if path.startswith("/api/v1/")
    ]
    assert len(operations) >= 25
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)) and "list_users" in ids
    for path, method, op in operations:
        problems = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        assert problems, (path, method)
        for status, response in problems.items():
            assert list(response["content"]) == ["application/problem+json"], (path, status)
        if path == "/api/v1/health":
            assert "security" not in op and "503" in problems
            continue
        assert op["security"] == [{"bearerToken": []}, {"sessionCookie": []}], path
        assert {"401", "403"} <= set(problems), path
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    page = spec["components"]["schemas"]["Page_UserRead_"]
    assert set(page["required"]) == {"items", "total", "limit", "offset", "next"}
