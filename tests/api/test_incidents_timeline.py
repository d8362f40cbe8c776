"""`/api/v1/incidents/...`: observables, related cases, timeline (JSON, CSV), report (HTML, PDF),
metrics and recommendation blocks; each role's limits tried through the API."""

from __future__ import annotations

from civicshield import alerts, assets
from civicshield.core import SYSTEM, Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller
from tests.unit.alerts.test_record import matches


def seed(runtime: Runtime) -> int:
    with runtime.session() as s:
        assets.create_asset(
            s,
            assets.AssetCreate(name="PLC 19", sector="water", kind="ot", ips=["10.0.0.5"]),
            actor=SYSTEM,
            clock=runtime.clock,
        )
        return alerts.record_matches(s, matches(2), batch_id="b", clock=runtime.clock).created[0]


def test_observables_related_timeline_report_and_metrics(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    alert_id = seed(runtime)
    case = client.post("/api/v1/incidents/from-alerts", json={"alert_ids": [alert_id]}, headers=h)
    case_id = case.json()["id"]
    base = f"/api/v1/incidents/{case_id}"
    taken = client.post(f"{base}/observables/from-alerts", headers=h)
    assert taken.status_code == 200
    assert {(o["type"], o["value"]) for o in taken.json()} == {
        ("ipv4", "10.0.0.5"),
        ("ipv4", "10.20.0.9"),
    }
    bad = client.post(f"{base}/observables", json={"type": "sha1", "value": "abc"}, headers=h)
    assert bad.status_code == 422 and "40 hexadecimal" in bad.text and "value" in bad.text
    made = client.post(
        f"{base}/observables", json={"type": "domain", "value": "C2.Example.org"}, headers=h
    )
    assert made.status_code == 201 and made.json()["value"] == "c2.example.org"
    other = client.post(
        "/api/v1/incidents", json={"title": "Other", "sectors": ["water"]}, headers=h
    ).json()
    client.post(
        f"/api/v1/incidents/{other['id']}/observables",
        json={"type": "domain", "value": "c2.example.org"},
        headers=h,
    )
    related = client.get(f"{base}/related", headers=h).json()
    assert related == [
        {
            "id": other["id"],
            "title": "Other",
            "status": "new",
            "severity": "medium",
            "shared": ["domain:c2.example.org"],
        }
    ]
    timeline = client.get(f"{base}/timeline", headers=h).json()
    assert {e["kind"] for e in timeline} >= {"alert", "action", "observable"}
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    as_csv = client.get(f"{base}/timeline", params={"format": "csv"}, headers=h)
    assert as_csv.headers["content-type"].startswith("text/csv")
    report = client.get(
        f"{base}/report", params={"lang": "fr", "blocks": ["mfa-remote-access"]}, headers=h
    )
    assert report.status_code == 200 and "Exiger l&#39;AMF" in report.text
    pdf = client.get(f"{base}/report", params={"format": "pdf"}, headers=h)
    assert pdf.content.startswith(b"%PDF")
    unknown = client.get(f"{base}/report", params={"blocks": ["nope"]}, headers=h)
    assert unknown.status_code == 422
    metrics = client.get("/api/v1/incidents/metrics", headers=h).json()
    assert metrics["open_by_status"] == {"new": 2} and metrics["total"]["detected"] == 1
    blocks = client.get("/api/v1/incidents/recommendations", headers=h).json()
    assert len(blocks) >= 10 and {"en", "es", "fr"} <= set(blocks[0]["title"])
    removed = client.delete(f"{base}/observables/{made.json()['id']}", headers=h)
    assert removed.status_code == 204
    assert client.get(f"{base}/related", headers=h).json() == []


def test_role_rules_hold_through_the_api(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    water = client.post(
        "/api/v1/incidents", json={"title": "Water", "sectors": ["water"]}, headers=h
    ).json()
    transit = client.post(
        "/api/v1/incidents", json={"title": "Transit", "sectors": ["transport"]}, headers=h
    ).json()
    for case in (water, transit):
        client.post(
            f"/api/v1/incidents/{case['id']}/observables",
            json={"type": "ipv4", "value": "192.0.2.1"},
            headers=h,
        )
    viewer = caller(runtime, "vera", Role.VIEWER)
    w = f"/api/v1/incidents/{water['id']}"
    assert client.get(f"{w}/observables", headers=viewer.headers).status_code == 200
    assert client.get(f"{w}/timeline", headers=viewer.headers).status_code == 200
    for method, path, body in (
        ("post", f"{w}/observables", {"type": "ipv4", "value": "192.0.2.2"}),
        ("post", f"{w}/observables/from-alerts", None),
        ("delete", f"{w}/observables/1", None),
    ):
        kwargs = {"json": body} if body else {}
        refused = getattr(client, method)(path, headers=viewer.headers, **kwargs)
        assert refused.status_code == 403, (method, path)
    operator = caller(runtime, "wes", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    t = f"/api/v1/incidents/{transit['id']}"
    for path in (f"{t}/observables", f"{t}/related", f"{t}/timeline", f"{t}/report"):
        assert client.get(path, headers=operator.headers).status_code == 404, path
    assert (
        client.post(
            f"{t}/observables",
            json={"type": "ipv4", "value": "192.0.2.9"},
            headers=operator.headers,
        ).status_code
        == 404
    )
    assert client.get(f"{w}/related", headers=operator.headers).json() == []  # transit hidden
    assert client.get(f"{w}/related", headers=h).json()[0]["id"] == transit["id"]
    mine = client.get("/api/v1/incidents/metrics", headers=operator.headers).json()
    assert mine["open_by_status"] == {"new": 1}
    assert [r["group"] for r in mine["by_sector"]] == ["water"]
    responder = caller(runtime, "rita", Role.RESPONDER)
    added = client.post(
        f"{w}/observables", json={"type": "md5", "value": "A" * 32}, headers=responder.headers
    )
    assert added.status_code == 201 and added.json()["value"] == "a" * 32
