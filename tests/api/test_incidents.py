"""`/api/v1/incidents`: open from alerts, merge, change, history; each role's limits tried
through the API."""

from __future__ import annotations

import polars as pl

from civicshield import alerts, assets
from civicshield.core import SYSTEM, Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller
from tests.unit.alerts.test_record import matches


def seed(runtime: Runtime) -> list[int]:
    with runtime.session() as s:
        assets.create_asset(
            s,
            assets.AssetCreate(name="PLC 19", sector="water", kind="ot", ips=["10.0.0.5"]),
            actor=SYSTEM,
            clock=runtime.clock,
        )
        frame = pl.concat([matches(2), matches(1, src="10.0.0.9", rule="r-2")])
        return alerts.record_matches(s, frame, batch_id="b", clock=runtime.clock).created


def test_from_alerts_merge_change_and_history(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    first, second = seed(runtime)
    h = admin_caller.headers
    made = client.post("/api/v1/incidents/from-alerts", json={"alert_ids": [first]}, headers=h)
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/{made.json()['id']}")
    case_id = made.json()["id"]
    assert made.json()["sectors"] == ["water"] and made.json()["severity"] == "high"
    merged = client.post(
        "/api/v1/incidents/from-alerts", json={"alert_ids": [second], "case_id": case_id}, headers=h
    )
    assert merged.status_code == 201 and merged.json()["id"] == case_id
    again = client.post("/api/v1/incidents/from-alerts", json={"alert_ids": [second]}, headers=h)
    assert again.status_code == 409 and f"case {case_id}" in again.json()["detail"]
    bad = client.patch(f"/api/v1/incidents/{case_id}", json={"status": "closed"}, headers=h)
    assert bad.status_code == 422
    ok = client.patch(
        f"/api/v1/incidents/{case_id}",
        json={"status": "contain", "owner": "bob", "reason": "PLC isolated"},
        headers=h,
    )
    assert ok.json()["status"] == "contain"
    detail = client.get(f"/api/v1/incidents/{case_id}", headers=h).json()
    assert detail["alert_ids"] == [first, second]
    assert {"field": "owner", "new": "bob", "reason": "PLC isolated"}.items() <= next(
        x for x in detail["history"] if x["field"] == "owner"
    ).items()
    listed = client.get("/api/v1/incidents", params={"open_only": True}, headers=h).json()
    assert listed["total"] == 1
    assert client.get(f"/api/v1/alerts/{first}", headers=h).json()["status"] == "escalated"


def test_role_rules_hold_through_the_api(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    first, _ = seed(runtime)
    h = admin_caller.headers
    water = client.post(
        "/api/v1/incidents", json={"title": "Water", "sectors": ["water"]}, headers=h
    ).json()
    transit = client.post(
        "/api/v1/incidents", json={"title": "Transit", "sectors": ["transport"]}, headers=h
    ).json()
    viewer = caller(runtime, "vera", Role.VIEWER)
    assert client.get("/api/v1/incidents", headers=viewer.headers).json()["total"] == 2
    for method, path, body in (
        ("post", "/api/v1/incidents", {"title": "Mine"}),
        ("post", "/api/v1/incidents/from-alerts", {"alert_ids": [first]}),
        ("patch", f"/api/v1/incidents/{water['id']}", {"owner": "vera"}),
    ):
        refused = getattr(client, method)(path, json=body, headers=viewer.headers)
        assert refused.status_code == 403, (method, path)
    operator = caller(runtime, "wes", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    seen = client.get("/api/v1/incidents", headers=operator.headers).json()
    assert [c["title"] for c in seen["items"]] == ["Water"]
    assert (
        client.get(f"/api/v1/incidents/{transit['id']}", headers=operator.headers).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/v1/incidents/{transit['id']}", json={"owner": "wes"}, headers=operator.headers
        ).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/v1/incidents/{water['id']}", json={"owner": "wes"}, headers=operator.headers
        ).json()["owner"]
        == "wes"
    )


def test_playbook_tasks_and_approval_through_the_api(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    case = client.post("/api/v1/incidents", json={"title": "Cameras beaconing"}, headers=h).json()
    tasks = client.post(
        f"/api/v1/incidents/{case['id']}/playbook",
        json={"playbook_id": "iot-camera-botnet", "lang": "fr-CA"},
        headers=h,
    )
    assert tasks.status_code == 200 and len(tasks.json()) > 3
    gated = next(t for t in tasks.json() if t["requires_approval"])
    early = client.post(
        f"/api/v1/incidents/{case['id']}/tasks/{gated['id']}/status",
        json={"status": "done"},
        headers=h,
    )
    assert early.status_code == 409 and "approve" in early.json()["detail"]
    approved = client.post(f"/api/v1/incidents/{case['id']}/tasks/{gated['id']}/approve", headers=h)
    assert approved.json()["approved_by"] == "token:root#1"
    done = client.post(
        f"/api/v1/incidents/{case['id']}/tasks/{gated['id']}/status",
        json={"status": "done"},
        headers=h,
    )
    assert done.json()["status"] == "done"
    other = client.post(
        f"/api/v1/incidents/{case['id']}/playbook", json={"playbook_id": "ransomware"}, headers=h
    )
    assert other.status_code == 409
    viewer = caller(runtime, "vera", Role.VIEWER)
    assert (
        client.post(
            f"/api/v1/incidents/{case['id']}/tasks/{gated['id']}/status",
            json={"status": "open"},
            headers=viewer.headers,
        ).status_code
        == 403
    )
