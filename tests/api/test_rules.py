"""`/api/v1/rules`: the detection rule catalogue (filters, pages, one rule with its YAML) and
the job that builds it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civicshield import audit, jobs
from civicshield.core import Role
from civicshield.detect import catalog
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, caller, sign_in
from tests.catalog_rules import FILTER, HOSTILE, LOW, PS, install_rules


@pytest.fixture
def rules(runtime: Runtime) -> None:
    install_rules(runtime.settings)


@pytest.fixture
def built(rules: None, runtime: Runtime) -> catalog.Catalog:
    return catalog.build_catalog(runtime.settings)


def ids(client: TestClient, who: Caller, **params: object) -> list[str]:
    response = client.get("/api/v1/rules", params=params, headers=who.headers)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["items"]]


def test_build_job_then_list(
    rules: None, runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    missing = client.get("/api/v1/rules", headers=admin_caller.headers)
    assert missing.status_code == 409
    assert missing.headers["content-type"] == "application/problem+json"
    assert "POST /api/v1/rules/catalog" in missing.json()["detail"]

    queued = client.post("/api/v1/rules/catalog", headers=admin_caller.headers)
    assert queued.status_code == 202
    job = queued.json()
    assert job["name"] == "rules.catalog" and job["status"] == "queued"
    assert queued.headers["location"] == f"http://testserver/api/v1/jobs/{job['id']}"
    again = client.post("/api/v1/rules/catalog", headers=admin_caller.headers)
    assert again.status_code == 202 and again.json()["id"] == job["id"]  # not a second job
    with runtime.session() as session:
        entries = audit.list_entries(session, action="job.enqueue", limit=10, offset=0).items
    assert [e.entity_id for e in entries] == [str(job["id"])]

    done = jobs.run_next(
        runtime.session,
        registry=runtime.jobs,
        clock=runtime.clock,
        worker="test",
        services=runtime.services,
    )
    assert done is not None and done.status.value == "succeeded", done
    assert done.result is not None and done.result["rules"] == 4
    assert done.result["runnable"] == 3 and done.result["cached"] is True

    catalog._MEMO.clear()  # the web process reads what the worker saved
    page = client.get("/api/v1/rules", headers=admin_caller.headers).json()
    assert page["total"] == 4
    first = page["items"][0]
    assert first["path"] == "windows/filters/admins.yml" and first["kind"] == "filter"
    assert first["runnable"] is False and first["reason"] == "filter rules are not supported yet"


def test_filters_and_pages(built: object, client: TestClient, admin_caller: Caller) -> None:
    assert ids(client, admin_caller) == [FILTER, HOSTILE, LOW, PS]
    assert ids(client, admin_caller, min_level="high") == [HOSTILE, PS]
    assert ids(client, admin_caller, runnable="false") == [FILTER]
    assert ids(client, admin_caller, technique="T1059") == [HOSTILE, PS]
    assert ids(client, admin_caller, tactic="discovery", status="stable") == [LOW]
    assert ids(client, admin_caller, q="calc") == [LOW]
    assert ids(client, admin_caller, folder="windows/process_creation") == [LOW, PS]
    assert ids(client, admin_caller, kind="filter") == [FILTER]
    page = client.get("/api/v1/rules?limit=3", headers=admin_caller.headers).json()
    assert page["total"] == 4 and len(page["items"]) == 3
    assert page["next"] == "http://testserver/api/v1/rules?limit=3&offset=3"
    rest = client.get(page["next"], headers=admin_caller.headers).json()
    assert [r["id"] for r in rest["items"]] == [PS] and rest["next"] is None

    bad = client.get("/api/v1/rules?min_level=severe", headers=admin_caller.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "min_level"]
    assert client.get("/api/v1/rules?kind=x", headers=admin_caller.headers).status_code == 422


def test_one_rule_with_its_yaml(
    built: catalog.Catalog,
    client: TestClient,
    admin_caller: Caller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rule = client.get(f"/api/v1/rules/{PS}", headers=admin_caller.headers).json()
    assert rule["title"] == "PowerShell run" and rule["author"] == "CivicShield tests"
    assert rule["level"] == "high" and rule["techniques"] == ["T1059.001"]
    assert rule["tactics"] == ["execution"] and rule["runnable"] is True
    assert f"id: {PS}" in rule["yaml"] and rule["source"].endswith("ps.yml")

    monkeypatch.setattr(catalog, "MAX_SOURCE_BYTES", 10)  # a file it will not show
    gone = client.get(f"/api/v1/rules/{HOSTILE}", headers=admin_caller.headers).json()
    assert gone["yaml"] is None and gone["title"] == "<script>alert(1)</script>"

    unknown = client.get("/api/v1/rules/no-such-rule", headers=admin_caller.headers)
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/not-found")

    # a deleted file changes the rule set: the catalogue must be rebuilt
    (built.roots[0] / "windows/hostile.yml").unlink()
    assert client.get(f"/api/v1/rules/{PS}", headers=admin_caller.headers).status_code == 409


def test_who_may_read_and_rebuild(built: object, runtime: Runtime, client: TestClient) -> None:
    assert client.get("/api/v1/rules").status_code == 401
    for role in (Role.ANALYST, Role.RESPONDER):
        reader = caller(runtime, role.value, role)
        assert client.get("/api/v1/rules", headers=reader.headers).status_code == 200
        assert client.get(f"/api/v1/rules/{PS}", headers=reader.headers).status_code == 200
        refused = client.post("/api/v1/rules/catalog", headers=reader.headers)
        assert refused.status_code == 403 and "rules:manage" in refused.json()["detail"]
    for role in (Role.PRIVACY_OFFICER, Role.VIEWER):
        other = caller(runtime, role.value.replace("_", "-"), role)
        refused = client.get("/api/v1/rules", headers=other.headers)
        assert refused.status_code == 403 and "rules:read" in refused.json()["detail"]


def test_a_browser_session_needs_the_csrf_header(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    browser = sign_in(client, runtime, "root")
    refused = browser.client.post("/api/v1/rules/catalog")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/csrf")
    accepted = browser.client.post("/api/v1/rules/catalog", headers={"X-CSRF-Token": browser.csrf})
    assert accepted.status_code == 202


def test_no_rules_configured(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    # no pack installed, no city rules, and no feeds path (tests point it at ../shared/data)
    runtime.settings = runtime.settings.model_copy(update={"feeds_path": None})
    response = client.get("/api/v1/rules", headers=admin_caller.headers)
    assert response.status_code == 409 and "no detection rules" in response.json()["detail"]
