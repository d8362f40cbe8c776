"""`/api/v1/incidents/{id}/clocks` and friends: start, events, assessments, holds, the due list
and reminders; each role's limits tried through the API."""

from __future__ import annotations

from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller

BASE = "/api/v1/incidents"


def test_clocks_of_a_case_through_the_api(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    case = client.post(BASE, json={"title": "Records breach", "sectors": ["water"]}, headers=h)
    cid = case.json()["id"]
    for ob in ("qc-a21.cai", "qc-a21.persons", "gdpr.art33"):
        assert (
            client.post(f"{BASE}/{cid}/clocks", json={"obligation_id": ob}, headers=h).status_code
            == 201
        )
    bad = client.post(f"{BASE}/{cid}/clocks", json={"obligation_id": "xx.nope"}, headers=h)
    assert bad.status_code == 422 and "unknown obligation" in bad.json()["detail"]
    ambiguous = client.post(
        f"{BASE}/{cid}/start-events",
        json={"kind": "became_aware", "at": "2026-11-01 01:30", "zone": "America/Toronto"},
        headers=h,
    )
    assert ambiguous.status_code == 422 and "happens twice" in ambiguous.json()["detail"]
    made = client.post(
        f"{BASE}/{cid}/start-events",
        json={"kind": "cause_to_believe", "at": "2026-11-22 05:00", "zone": "America/Toronto"},
        headers=h,
    )
    assert made.status_code == 201 and made.json()["at"].startswith("2026-11-22T10:00")
    events = client.get(f"{BASE}/{cid}/start-events", headers=h).json()
    assert [e["kind"] for e in events] == ["cause_to_believe"]
    views = {v["obligation_id"]: v for v in client.get(f"{BASE}/{cid}/clocks", headers=h).json()}
    assert views["qc-a21.cai"]["kind"] == "internal-target"
    assert views["qc-a21.cai"]["due_at"].startswith("2026-11-25T10:00")
    assert views["gdpr.art33"]["status"] == "waiting"
    assessed = client.post(
        f"{BASE}/{cid}/assessments",
        json={"requirement": "risk_of_serious_injury", "met": True, "reasoning": "health data",
              "factors": {"sensitivity": "high"}, "consulted": "privacy officer"},
        headers=h,
    )  # fmt: skip
    assert assessed.status_code == 201
    refused = client.post(
        f"{BASE}/{cid}/holds",
        json={"obligation_id": "qc-a21.cai", "reason": "police", "authority": "SQ",
              "review_on": "2026-12-01"},
        headers=h,
    )  # fmt: skip
    assert refused.status_code == 422 and "63.8" in refused.json()["detail"]
    hold = client.post(
        f"{BASE}/{cid}/holds",
        json={"obligation_id": "qc-a21.persons", "reason": "police", "authority": "SQ",
              "review_on": "2026-12-01"},
        headers=h,
    )  # fmt: skip
    assert hold.status_code == 201
    views = {v["obligation_id"]: v for v in client.get(f"{BASE}/{cid}/clocks", headers=h).json()}
    assert views["qc-a21.persons"]["status"] == "suspended"
    lifted = client.post(f"{BASE}/{cid}/holds/{hold.json()['id']}/lift", headers=h)
    assert lifted.status_code == 200 and lifted.json()["end"] is not None
    due = client.get(f"{BASE}/clocks/due", params={"within_hours": 100}, headers=h).json()
    assert {d["clock"]["obligation_id"] for d in due} == {"qc-a21.cai", "qc-a21.persons"}
    gone = client.post(f"{BASE}/{cid}/clocks/gdpr.art33/withdraw", json={"reason": ""}, headers=h)
    assert gone.status_code == 422
    gone = client.post(
        f"{BASE}/{cid}/clocks/gdpr.art33/withdraw", json={"reason": "no EU subjects"}, headers=h
    )
    assert gone.status_code == 200 and gone.json()["withdrawn_reason"] == "no EU subjects"
    assert client.get(f"{BASE}/reminders", headers=h).json() == []
    assert client.post(f"{BASE}/reminders/999/acknowledge", headers=h).status_code == 404


def test_role_rules_for_clocks(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    water = client.post(BASE, json={"title": "Water", "sectors": ["water"]}, headers=h).json()["id"]
    other = client.post(
        BASE, json={"title": "Transit", "sectors": ["transport"]}, headers=h
    ).json()["id"]
    for cid in (water, other):
        client.post(f"{BASE}/{cid}/clocks", json={"obligation_id": "qc-a21.persons"}, headers=h)
    event = {"kind": "cause_to_believe", "at": "2026-11-22T08:00Z"}
    assessment = {"requirement": "risk_of_serious_injury", "met": False, "reasoning": "low"}
    hold = {"obligation_id": "qc-a21.persons", "reason": "r", "authority": "a",
            "review_on": "2026-12-01"}  # fmt: skip
    writes = (
        ("clocks", {"obligation_id": "gdpr.art33"}),
        ("clocks/qc-a21.persons/withdraw", {"reason": "x"}),
        ("start-events", event),
        ("assessments", assessment),
        ("holds", hold),
    )
    viewer = caller(runtime, "vera", Role.VIEWER)
    assert client.get(f"{BASE}/{water}/clocks", headers=viewer.headers).status_code == 200
    for path, body in writes:
        r = client.post(f"{BASE}/{water}/{path}", json=body, headers=viewer.headers)
        assert r.status_code == 403, path
    operator = caller(runtime, "wes", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    for path, body in writes:
        if path != "assessments":
            r = client.post(f"{BASE}/{other}/{path}", json=body, headers=operator.headers)
            assert r.status_code == 404, path
    assert client.get(f"{BASE}/{other}/clocks", headers=operator.headers).status_code == 404
    for who in (operator, caller(runtime, "rita", Role.RESPONDER)):
        r = client.post(f"{BASE}/{water}/assessments", json=assessment, headers=who.headers)
        assert r.status_code == 403
    ok = client.post(f"{BASE}/{water}/start-events", json=event, headers=operator.headers)
    assert ok.status_code == 201
    seen = client.get(f"{BASE}/clocks/due", headers=operator.headers).json()
    assert {d["case_id"] for d in seen} == {water}
    privacy = caller(runtime, "pia", Role.PRIVACY_OFFICER)
    r = client.post(f"{BASE}/{water}/assessments", json=assessment, headers=privacy.headers)
    assert r.status_code == 201
