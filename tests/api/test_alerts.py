"""`/api/v1/ingest` and `/api/v1/alerts`: posting telemetry, the queue, triage, suppressions."""

from __future__ import annotations

import gzip

import orjson

from civicshield import alerts, jobs
from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller
from tests.unit.alerts.test_record import matches

NDJSON = {"Content-Type": "application/x-ndjson"}


def conn(i: int) -> dict[str, object]:
    return {"_path": "conn", "ts": 1763812800 + i, "uid": f"C{i}", "id.orig_h": "10.0.0.5",
            "id.resp_h": "10.20.0.9", "id.resp_p": 23, "proto": "tcp"}  # fmt: skip


def test_ingest_ndjson_gzip_and_array(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    body = b"\n".join(orjson.dumps(conn(i)) for i in range(3)) + b"\n{broken\n"
    ok = client.post("/api/v1/ingest/zeek.conn", content=body, headers={**h, **NDJSON})
    assert ok.status_code == 202, ok.text
    got = ok.json()
    assert (got["received"], got["accepted"], got["quarantined"]) == (4, 3, 1)
    assert got["datasets"] == {"zeek.conn": 3} and "line 4" in got["reasons"][0]
    packed = gzip.compress(orjson.dumps([conn(7), {"ts": "x"}, [1]]))
    zipped = client.post(
        "/api/v1/ingest/zeek.conn",
        content=packed,
        headers={**h, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert zipped.status_code == 202 and zipped.json()["accepted"] == 1
    assert zipped.json()["quarantined"] == 2
    with runtime.session() as s:
        assert jobs.list_jobs(s, name="telemetry.detect").total == 1
    sources = client.get("/api/v1/ingest/sources", headers=h).json()
    assert [x["name"] for x in sources] == ["http:zeek.conn@root#1"]
    assert sources[0]["events_total"] == 4 and sources[0]["quarantined_total"] == 3
    datasets = client.get("/api/v1/ingest/datasets", headers=h).json()
    assert [(d["dataset"], d["events_last_day"], d["quarantined_last_day"]) for d in datasets] == [
        ("zeek.conn", 4, 3)
    ]
    patched = client.patch(
        f"/api/v1/ingest/sources/{sources[0]['id']}",
        json={"expected_interval_seconds": 600},
        headers=h,
    )
    assert patched.json()["expected_interval_seconds"] == 600


def test_ingest_refusals(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    xml = client.post(
        "/api/v1/ingest/zeek.conn",
        content=b"<a/>",
        headers={**h, "Content-Type": "application/xml"},
    )
    assert xml.status_code == 415 and xml.headers["content-type"] == "application/problem+json"
    bad_name = client.post("/api/v1/ingest/..%2Fetc", content=b"{}", headers={**h, **NDJSON})
    assert bad_name.status_code in (404, 422)
    bomb = gzip.compress(b"{}\n" * (runtime.settings.ingest_max_bytes * 4))
    inflated = client.post(
        "/api/v1/ingest/json", content=bomb, headers={**h, **NDJSON, "Content-Encoding": "gzip"}
    )
    assert inflated.status_code == 413 and "inflates" in inflated.json()["detail"]
    corrupt = client.post(
        "/api/v1/ingest/json",
        content=b"\x1f\x8bnot",
        headers={**h, **NDJSON, "Content-Encoding": "gzip"},
    )
    assert corrupt.status_code == 422 and "gzip" in corrupt.json()["detail"]
    viewer = caller(runtime, "vera", Role.VIEWER)
    denied = client.post("/api/v1/ingest/json", content=b"{}", headers={**viewer.headers, **NDJSON})
    assert denied.status_code == 403


def test_queue_triage_undo_and_suppress(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    import polars as pl

    with runtime.session() as s:
        ids = alerts.record_matches(
            s,
            pl.concat([matches(3), matches(2, src="10.0.0.9")]),
            batch_id="b",
            clock=runtime.clock,
        ).created
    h = admin_caller.headers
    groups = client.get("/api/v1/alerts/groups", headers=h).json()
    assert groups[0]["alerts"] == 2 and groups[0]["events"] == 5
    page = client.get(
        "/api/v1/alerts", params={"min_severity": "high", "technique": "T1110"}, headers=h
    ).json()
    assert page["total"] == 2
    closed = client.post(
        "/api/v1/alerts/triage",
        json={"action": "close", "alert_ids": ids, "resolution": "false_positive", "reason": "lab"},
        headers=h,
    )
    assert closed.json()["changed"] == ids and closed.json()["unchanged"] == []
    steps = closed.json()["steps"]
    assert len(steps) == 2
    assert client.get("/api/v1/alerts", headers=h).json()["total"] == 0  # open ones only
    undone = client.post(f"/api/v1/alerts/{ids[0]}/undo", headers=h).json()
    assert undone["action"] == "close" and undone["alert"]["status"] == "new"
    rest = client.post("/api/v1/alerts/undo", json={"steps": steps}, headers=h).json()
    assert [r["id"] for r in rest] == [steps[1]]
    closed_again = client.post(
        "/api/v1/alerts/triage",
        json={"action": "close", "alert_ids": [ids[1]], "resolution": "benign"},
        headers=h,
    )
    assert closed_again.status_code == 200
    conflict = client.post(
        "/api/v1/alerts/triage", json={"action": "acknowledge", "alert_ids": ids}, headers=h
    )
    assert conflict.status_code == 409 and str(ids[1]) in conflict.json()["detail"]
    detail = client.get(f"/api/v1/alerts/{ids[0]}", headers=h).json()
    assert detail["similar"] == {"source.ip": "10.0.0.5", "event.dataset": "zeek.conn"}
    made = client.post(
        "/api/v1/alerts/suppressions",
        json={"rule_id": detail["rule_id"], "match": detail["similar"], "reason": "test rig"},
        headers=h,
    )
    assert made.status_code == 201 and made.json()["author"] == "token:root#1"
    assert (
        client.delete(f"/api/v1/alerts/suppressions/{made.json()['id']}", headers=h).status_code
        == 204
    )
    assert client.get("/api/v1/alerts/suppressions", headers=h).json() == []


def test_sector_operators_see_their_sectors_only(runtime: Runtime, client: TestClient) -> None:
    import polars as pl

    with runtime.session() as s:
        alerts.record_matches(s, pl.concat([matches(1)]), batch_id="b", clock=runtime.clock)
    water = caller(runtime, "wes", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert client.get("/api/v1/alerts", headers=water.headers).json()["total"] == 0
    assert client.get("/api/v1/alerts/1", headers=water.headers).status_code == 404
