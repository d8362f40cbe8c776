"""`/api/v1/intel`: import a bundle and a MISP event, list and show, export; role rules."""

from __future__ import annotations

import uuid

import stix2  # type: ignore[import-untyped]

from civicshield.core import Role, Sector, Tlp
from civicshield.intel.tlp import marking_id
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller


def _indicator(pattern: str, tlp: Tlp = Tlp.GREEN) -> dict[str, object]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "valid_from": "2026-11-01T00:00:00.000Z", "pattern": pattern, "pattern_type": "stix",
        "object_marking_refs": [marking_id(tlp)],
    }  # fmt: skip


def _bundle(*objects: object) -> dict[str, object]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def test_import_list_show_export(client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    good = _indicator("[domain-name:value = 'kraken-iot.example']")
    red = _indicator("[ipv4-addr:value = '45.33.32.156']", Tlp.RED)
    bad = {**good, "id": "indicator--nope"}
    done = client.post("/api/v1/intel/import", json=_bundle(good, red, bad), headers=h)
    assert done.status_code == 200, done.text
    report = done.json()
    assert (report["new"], report["refused"][0]["path"]) == (2, "$.objects[2]")
    page = client.get("/api/v1/intel/indicators?kind=domain", headers=h).json()
    assert page["total"] == 1 and page["items"][0]["active"] is True
    shown = client.get(f"/api/v1/intel/indicators/{good['id']}", headers=h).json()
    assert shown["lookups"] == [["domain", "kraken-iot.example"]]
    assert len(shown["versions"]) == 1
    missing = client.get("/api/v1/intel/indicators/indicator--x", headers=h)
    assert missing.status_code == 404
    exported = client.get("/api/v1/intel/export", headers=h)
    assert exported.status_code == 200
    ids = {o["id"] for o in stix2.parse(exported.json(), version="2.1").objects}
    assert good["id"] in ids and red["id"] not in ids
    refused = client.get("/api/v1/intel/export?max_tlp=red", headers=h)
    assert refused.status_code == 422 and "TLP:RED" in refused.json()["detail"]
    sources = client.get("/api/v1/intel/sources", headers=h).json()
    assert sources[0]["kind"] == "stix" and sources[0]["counts"]["refused"] == 1


def test_misp_event_body(client: TestClient, admin_caller: Caller) -> None:
    event = {"Event": {
        "uuid": str(uuid.uuid4()), "timestamp": "1763000000", "distribution": "1", "info": "x",
        "Attribute": [
            {"uuid": str(uuid.uuid4()), "type": "ip-dst", "value": "45.33.32.156", "to_ids": True,
             "timestamp": "1763000000"},
            {"uuid": str(uuid.uuid4()), "type": "comment", "value": "hi", "to_ids": False},
            {"uuid": str(uuid.uuid4()), "type": "mutex", "value": "m", "to_ids": True},
        ],
    }}  # fmt: skip
    done = client.post(
        "/api/v1/intel/import?format=misp-event", json=event, headers=admin_caller.headers
    ).json()
    assert (done["new"], done["skipped"], len(done["refused"])) == (1, 1, 1)
    assert "mutex" in done["refused"][0]["reason"]
    items = client.get("/api/v1/intel/indicators", headers=admin_caller.headers).json()["items"]
    assert items[0]["tlp"] == "amber"  # distribution 1: this community


def test_roles(client: TestClient, runtime: Runtime, viewer_caller: Caller) -> None:
    body = _bundle(_indicator("[domain-name:value = 'kraken-iot.example']"))
    assert client.get("/api/v1/intel/indicators", headers=viewer_caller.headers).status_code == 200
    denied = client.post("/api/v1/intel/import", json=body, headers=viewer_caller.headers)
    assert denied.status_code == 403
    operator = caller(runtime, "ops", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert client.get("/api/v1/intel/indicators", headers=operator.headers).status_code == 403
    responder = caller(runtime, "resp", Role.RESPONDER)
    assert (
        client.post("/api/v1/intel/import", json=body, headers=responder.headers).status_code == 403
    )
    analyst = caller(runtime, "ana", Role.ANALYST)
    assert (
        client.post("/api/v1/intel/import", json=body, headers=analyst.headers).status_code == 200
    )


def test_indicator_detail_sightings_and_provenance(
    client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    creator = {"type": "identity", "spec_version": "2.1", "id": f"identity--{uuid.uuid4()}",
               "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
               "name": "Ciudad Norte CSIRT"}  # fmt: skip
    good = {**_indicator("[domain-name:value = 'kraken-iot.example']"), "confidence": 70,
            "created_by_ref": creator["id"], "labels": ["botnet"],
            "kill_chain_phases": [{"kill_chain_name": "attack", "phase_name": "c2"}]}  # fmt: skip
    sightings = [
        {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
         "created": "2026-11-02T00:00:00.000Z", "modified": "2026-11-02T00:00:00.000Z",
         "sighting_of_ref": ref, "count": n, "last_seen": "2026-11-02T10:00:00Z"}
        for ref, n in ((good["id"], 3), (good["id"], 4), (f"indicator--{uuid.uuid4()}", 9))
    ]  # fmt: skip
    mutex = _indicator("[mutex:name = 'kraken']")
    done = client.post(
        "/api/v1/intel/import?name=peer", json=_bundle(creator, good, mutex, *sightings), headers=h
    )
    assert done.status_code == 200, done.text
    newer = {**good, "modified": "2026-11-04T00:00:00.000Z", "confidence": 90}
    client.post("/api/v1/intel/import?name=update", json=_bundle(newer), headers=h)
    shown = client.get(f"/api/v1/intel/indicators/{good['id']}", headers=h).json()
    assert (shown["state"], shown["confidence"], shown["created_by"]) == (
        "active",
        90,
        "Ciudad Norte CSIRT",
    )
    assert shown["labels"] == ["botnet"] and shown["kill_chain_phases"][0]["phase_name"] == "c2"
    assert len(shown["versions"]) == 2 and shown["versions"][0]["confidence"] == 90
    assert [v["source_name"] for v in shown["history"]] == ["api:update", "api:peer"]
    assert shown["sighting_count"] == 7 and len(shown["sightings"]) == 2
    assert {s["count"] for s in shown["sightings"]} == {3, 4}
    assert {p["source_name"] for p in shown["provenance"]} == {"api:peer", "api:update"}
    unmatched = client.get("/api/v1/intel/indicators?state=not_matchable", headers=h).json()
    assert [i["stix_id"] for i in unmatched["items"]] == [mutex["id"]]
    assert unmatched["items"][0]["state"] == "not_matchable"
    sources = {s["name"]: s["id"] for s in client.get("/api/v1/intel/sources", headers=h).json()}
    by_source = client.get(f"/api/v1/intel/indicators?source={sources['api:update']}", headers=h)
    assert [i["stix_id"] for i in by_source.json()["items"]] == [good["id"]]
    bad = client.get("/api/v1/intel/indicators?state=sleeping", headers=h)
    assert bad.status_code == 422
