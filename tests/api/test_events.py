"""`/api/v1/events`: hunt, partitions, quarantine; permissions."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from civicshield.core import Role, Sector
from civicshield.detect.eventstore import EventStore
from civicshield.detect.quarantine import QuarantineStore
from civicshield.detect.readers.base import Quarantined
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller


def seed(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    store = EventStore(runtime.settings.data_dir / "events")
    stamps = pl.Series([now] * 3, dtype=pl.Datetime("us", "UTC"))
    store.write(pl.DataFrame({"@timestamp": stamps, "port": ["23", "23", "80"]}), "zeek.conn")
    QuarantineStore(runtime.settings.data_dir / "quarantine").add(
        "syslog", [Quarantined("fw.log", "line 7", "no PRI", "garbage")]
    )


def test_hunt_partitions_and_quarantine(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    seed(runtime)
    h = admin_caller.headers
    sql = "SELECT port, count(*) AS n FROM events GROUP BY port ORDER BY n DESC"
    body = client.post("/api/v1/events/hunt", json={"sql": sql, "since": "1d"}, headers=h)
    assert body.status_code == 200, body.text
    assert body.json()["rows"][0] == {"port": "23", "n": 2} and not body.json()["truncated"]
    cut = client.post("/api/v1/events/hunt", json={"sql": sql, "limit": 1}, headers=h).json()
    assert cut["truncated"] and len(cut["rows"]) == 1
    bad = client.post("/api/v1/events/hunt", json={"sql": "SELECT nope FROM events"}, headers=h)
    assert bad.status_code == 422 and "hunt query failed" in bad.text
    parts = client.get("/api/v1/events/partitions", headers=h).json()
    assert parts["items"][0]["dataset"] == "zeek.conn" and parts["items"][0]["files"] == 1
    quarantined = client.get("/api/v1/events/quarantine", headers=h).json()
    assert quarantined["items"][0]["position"] == "line 7"


def test_viewers_and_sector_operators_may_not_hunt(
    runtime: Runtime, client: TestClient, viewer_caller: Caller
) -> None:
    body = {"sql": "SELECT 1"}
    assert (
        client.post("/api/v1/events/hunt", json=body, headers=viewer_caller.headers).status_code
        == 403
    )
    op = caller(runtime, "olga", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert client.get("/api/v1/events/quarantine", headers=op.headers).status_code == 403


def test_replay_after_a_fix(runtime: Runtime, client: TestClient, admin_caller: Caller) -> None:
    good = (
        b'{"timestamp": "2026-11-22T10:00:00.000000+0000", "event_type": "dns",'
        b' "src_ip": "10.0.0.1"}'
    )
    QuarantineStore(runtime.settings.data_dir / "quarantine").add(
        "eve", [Quarantined("eve.json", "line 3", "was refused by an old reader", good.decode())]
    )
    h = admin_caller.headers
    done = client.post("/api/v1/events/quarantine/replay?format=eve", headers=h)
    assert done.status_code == 200, done.text
    assert done.json() == {"replayed": 1, "recovered": 1, "still_bad": 0}
    assert client.get("/api/v1/events/quarantine", headers=h).json()["total"] == 0
    stored = client.post(
        "/api/v1/events/hunt", json={"sql": 'SELECT "source.ip" FROM events'}, headers=h
    ).json()
    assert stored["rows"] == [{"source.ip": "10.0.0.1"}]
    refused = client.post("/api/v1/events/quarantine/replay?format=nfdump", headers=h)
    assert refused.status_code == 422
