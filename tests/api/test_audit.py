"""`/api/v1/audit`: reading the log with filters and pages, verifying the chain."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from civicshield import audit
from civicshield.core import Actor, FrozenClock, Role
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller
from tests.conftest import NOW, make_user


def record(rt: Runtime, action: str, entity_id: int, actor: str = "bot") -> None:
    with rt.session() as session:
        audit.record(
            session,
            actor=Actor(kind="system", name=actor),
            action=action,
            entity_type="thing",
            entity_id=entity_id,
            clock=rt.clock,
        )


def test_newest_first_with_pages(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    for n in range(5):
        record(runtime, "thing.poke", n)
    page = client.get("/api/v1/audit?limit=4", headers=admin_caller.headers).json()
    total = page["total"]
    assert total >= 7  # the users and the token made by the fixtures, then five pokes
    seqs = [e["seq"] for e in page["items"]]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == total
    assert page["next"] == "http://testserver/api/v1/audit?limit=4&offset=4"
    entry = page["items"][0]
    assert entry["action"] == "thing.poke" and entry["actor"] == "system:bot"
    assert entry["at"] == "2026-11-22T12:00:00Z"


def test_filters(
    runtime: Runtime, clock: FrozenClock, client: TestClient, admin_caller: Caller
) -> None:
    record(runtime, "thing.poke", 1, actor="a")
    clock.advance(timedelta(hours=1))
    record(runtime, "thing.prod", 2, actor="b")
    clock.advance(timedelta(hours=1))
    record(runtime, "other.poke", 2, actor="b")

    def actions(**params: str) -> list[str]:
        r = client.get("/api/v1/audit", params=params, headers=admin_caller.headers)
        assert r.status_code == 200, r.text
        return [e["action"] for e in r.json()["items"]]

    assert actions(action="thing.") == ["thing.prod", "thing.poke"]
    assert actions(actor="system:b") == ["other.poke", "thing.prod"]
    assert actions(entity_type="thing", entity_id="2") == ["other.poke", "thing.prod"]
    one_hour = (NOW + timedelta(hours=1)).isoformat()
    assert actions(since=one_hour, entity_type="thing") == ["other.poke", "thing.prod"]
    assert actions(until=one_hour, entity_type="thing") == ["thing.poke"]
    in_tijuana = (NOW + timedelta(hours=1)).astimezone(ZoneInfo("America/Tijuana"))
    assert in_tijuana.isoformat() == "2026-11-22T05:00:00-08:00"
    assert actions(since=in_tijuana.isoformat(), action="thing.") == ["thing.prod"]
    assert actions(since="2026-11-22T13:00:00Z", action="thing.") == ["thing.prod"]


def test_times_need_an_offset(client: TestClient, admin_caller: Caller) -> None:
    naive = client.get("/api/v1/audit?since=2026-11-22T12:00:00", headers=admin_caller.headers)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["loc"] == ["query", "since"]
    bad = client.get("/api/v1/audit?until=yesterday", headers=admin_caller.headers)
    assert bad.status_code == 422


def test_next_link_keeps_filters_and_encodes_offsets(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    for n in range(3):
        record(runtime, "thing.poke", n)
    since = "2026-11-22T12:00:00+00:00"
    page = client.get(
        "/api/v1/audit",
        params={"action": "thing.", "since": since, "limit": 2},
        headers=admin_caller.headers,
    ).json()
    assert page["total"] == 3
    assert "since=2026-11-22T12%3A00%3A00%2B00%3A00" in page["next"]
    rest = client.get(page["next"], headers=admin_caller.headers).json()
    assert len(rest["items"]) == 1 and rest["next"] is None


def test_who_may_read_and_verify(runtime: Runtime, client: TestClient) -> None:
    analyst = caller(runtime, "ana", Role.ANALYST)
    assert client.get("/api/v1/audit", headers=analyst.headers).status_code == 200
    refused = client.post("/api/v1/audit/verify", headers=analyst.headers)
    assert refused.status_code == 403 and "audit:verify" in refused.json()["detail"]
    responder = caller(runtime, "rob", Role.RESPONDER)
    assert client.get("/api/v1/audit", headers=responder.headers).status_code == 403


def test_verify_reports_an_intact_chain_and_a_tampered_one(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    make_user(runtime, "ana", Role.ANALYST)
    report = client.post("/api/v1/audit/verify", headers=admin_caller.headers).json()
    assert report["ok"] is True and report["checked"] == report["head_seq"] >= 3
    with runtime.session() as session:
        session.execute(text("UPDATE audit_entry SET summary = 'nothing happened' WHERE seq = 2"))
    broken = client.post("/api/v1/audit/verify", headers=admin_caller.headers).json()
    assert broken["ok"] is False and broken["broken_at"] == 2
    assert "edited" in broken["reason"]
