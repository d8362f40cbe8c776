"""`/api/v1/jobs`: queue, inspect, retry and cancel background jobs; schedules, definitions."""

from __future__ import annotations

from typing import Any

import pytest

from civicshield import audit, jobs
from civicshield.core import Role
from civicshield.jobs import JobDefinition, JobRead
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller


def run_one(rt: Runtime) -> JobRead | None:
    return jobs.run_next(
        rt.session, registry=rt.jobs, clock=rt.clock, worker="test", services=rt.services
    )


@pytest.fixture
def failing(runtime: Runtime) -> str:
    def fail(ctx: Any) -> None:
        ctx.log.info("about to fail")
        raise RuntimeError("boom")

    runtime.jobs.add(
        JobDefinition(name="test.fail", run=fail, max_attempts=1, description="Always fails.")
    )
    return "test.fail"


def test_definitions_and_schedules(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    definitions = client.get("/api/v1/jobs/definitions", headers=admin_caller.headers).json()
    by_name = {d["name"]: d for d in definitions["items"]}
    assert {"accounts.prune_sessions", "audit.verify", "mail.send"} <= set(by_name)
    assert by_name["audit.verify"]["every_seconds"] == 86400
    assert by_name["audit.verify"]["description"]
    assert definitions["total"] == len(runtime.jobs.all())
    paged = client.get("/api/v1/jobs/definitions?limit=1", headers=admin_caller.headers).json()
    assert len(paged["items"]) == 1 and paged["next"].endswith("limit=1&offset=1")

    assert client.get("/api/v1/jobs/schedules", headers=admin_caller.headers).json()["total"] == 0
    with runtime.session() as session:
        jobs.sync_schedules(session, registry=runtime.jobs, clock=runtime.clock)
    schedules = client.get("/api/v1/jobs/schedules", headers=admin_caller.headers).json()
    assert {s["job_name"] for s in schedules["items"]} == {
        "accounts.prune_sessions",
        "audit.verify",
        "events.maintenance",
        "incidents.evidence_verify",
        "incidents.reminders",
        "intel.ageing",
        "intel.pull",
        "jobs.prune",
        "telemetry.demo_stream",
        "telemetry.health",
        "vulns.expire_acceptances",
        "vulns.risk_snapshot",
        "vulns.sync",
    }


def test_queue_run_and_read_the_log(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    response = client.post(
        "/api/v1/jobs", json={"name": "audit.verify"}, headers=admin_caller.headers
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "queued" and job["requested_by"].startswith("token:root#")
    location = response.headers["location"]
    assert location == f"http://testserver/api/v1/jobs/{job['id']}"
    assert client.get(location, headers=admin_caller.headers).json()["log"] == []
    ran = run_one(runtime)
    assert ran is not None and ran.status == "succeeded"
    detail = client.get(location, headers=admin_caller.headers).json()
    assert detail["status"] == "succeeded" and detail["result"]["ok"] is True
    assert [line["level"] for line in detail["log"]] == ["INFO"]
    assert "audit chain intact" in detail["log"][0]["message"]
    with runtime.session() as session:
        [entry] = audit.list_entries(session, action="job.enqueue").items
    assert entry.entity_id == str(job["id"]) and entry.changes == {"args": []}


def test_queue_refuses_unknown_names_and_extra_fields(
    client: TestClient, admin_caller: Caller
) -> None:
    unknown = client.post("/api/v1/jobs", json={"name": "nope"}, headers=admin_caller.headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"loc": ["body", "name"], "msg": "unknown job name"}]
    assert "audit.verify" in unknown.json()["detail"]
    extra = client.post(
        "/api/v1/jobs", json={"name": "audit.verify", "when": "now"}, headers=admin_caller.headers
    )
    assert extra.status_code == 422


def test_list_filters_and_pages(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    for name in ("audit.verify", "accounts.prune_sessions", "audit.verify"):
        r = client.post("/api/v1/jobs", json={"name": name}, headers=admin_caller.headers)
        assert r.status_code == 202
    run_one(runtime)  # the oldest (audit.verify) runs

    def ids(**params: Any) -> list[int]:
        r = client.get("/api/v1/jobs", params=params, headers=admin_caller.headers)
        assert r.status_code == 200, r.text
        return [j["id"] for j in r.json()["items"]]

    assert ids() == [3, 2, 1]
    assert ids(name="audit.verify") == [3, 1]
    assert ids(status="succeeded") == [1]
    assert ids(status="queued", name="audit.verify") == [3]
    assert (
        client.get("/api/v1/jobs?status=sleeping", headers=admin_caller.headers).status_code == 422
    )
    page = client.get("/api/v1/jobs?limit=2", headers=admin_caller.headers).json()
    assert page["next"] == "http://testserver/api/v1/jobs?limit=2&offset=2"


def test_cancel_and_retry(
    runtime: Runtime, client: TestClient, admin_caller: Caller, failing: str
) -> None:
    h = admin_caller.headers
    queued = client.post("/api/v1/jobs", json={"name": "audit.verify"}, headers=h).json()
    assert client.post(f"/api/v1/jobs/{queued['id']}/retry", headers=h).status_code == 409
    cancelled = client.post(f"/api/v1/jobs/{queued['id']}/cancel", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/jobs/{queued['id']}/cancel", headers=h).status_code == 409
    retried = client.post(f"/api/v1/jobs/{queued['id']}/retry", headers=h)
    assert retried.json()["status"] == "queued"

    doomed = client.post("/api/v1/jobs", json={"name": failing, "args": {"x": 1}}, headers=h).json()
    while (ran := run_one(runtime)) is not None and ran.id != doomed["id"]:
        pass
    failed = client.get(f"/api/v1/jobs/{doomed['id']}", headers=h).json()
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: boom"
    assert [line["level"] for line in failed["log"]] == ["INFO", "ERROR"]
    again = client.post(f"/api/v1/jobs/{doomed['id']}/retry", headers=h)
    assert again.status_code == 200 and again.json()["status"] == "queued"
    with runtime.session() as session:
        actions = [e.action for e in audit.list_entries(session, action="job.").items]
    assert actions == ["job.retry", "job.enqueue", "job.retry", "job.cancel", "job.enqueue"]
    assert client.post("/api/v1/jobs/999999/cancel", headers=h).status_code == 404
    assert client.get("/api/v1/jobs/999999", headers=h).status_code == 404


def test_who_may_see_and_run_jobs(runtime: Runtime, client: TestClient) -> None:
    analyst = caller(runtime, "ana", Role.ANALYST)
    assert client.get("/api/v1/jobs", headers=analyst.headers).status_code == 200
    refused = client.post("/api/v1/jobs", json={"name": "audit.verify"}, headers=analyst.headers)
    assert refused.status_code == 403 and "jobs:manage" in refused.json()["detail"]
    viewer = caller(runtime, "vic", Role.VIEWER)
    for path in ("/api/v1/jobs", "/api/v1/jobs/schedules", "/api/v1/jobs/definitions"):
        assert client.get(path, headers=viewer.headers).status_code == 403
