"""`/api/v1/incidents/.../notices` and the register through the API: draft, missing fields
named, send by another channel, immutable once sent, the register's versions, chain, exports,
and each role's limits."""

from __future__ import annotations

from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller

PERSONS = {
    "personal_information": "names",
    "circumstances": "lost laptop",
    "occurred_period": "March",
    "measures_taken": "remote wipe",
    "measures_for_person": "watch statements",
    "contact": "dpo",
}


def new_case(client: TestClient, h: dict[str, str], sector: str) -> int:
    made = client.post("/api/v1/incidents", json={"title": sector, "sectors": [sector]}, headers=h)
    return int(made.json()["id"])


def test_draft_send_immutable_and_register(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    case_id = new_case(client, h, "water")
    base = f"/api/v1/incidents/{case_id}"
    choices = client.get(f"{base}/notices/obligations", headers=h).json()
    assert "qc-a21.persons" in [c["obligation_id"] for c in choices]
    made = client.post(
        f"{base}/notices",
        json={
            "obligation_id": "qc-a21.persons",
            "channel": "letter",
            "language": "es",
            "fields": {"personal_information": "nombres"},
        },
        headers=h,
    )
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/{made.json()['id']}")
    nid = made.json()["id"]
    missing = client.post(f"{base}/notices/{nid}/send", headers=h)
    assert missing.status_code == 422
    named = {e["loc"][-1] for e in missing.json()["errors"]}
    assert {"circumstances", "occurred_period", "measures_taken"} <= named
    assert "personal_information" not in named
    ok = client.patch(f"{base}/notices/{nid}", json={"fields": PERSONS}, headers=h)
    assert ok.status_code == 200 and ok.json()["fields"]["contact"] == "dpo"
    sent = client.post(
        f"{base}/notices/{nid}/send", json={"sent_at": "2026-01-01T10:00:00-05:00"}, headers=h
    )
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert sent.json()["sent_at"].startswith("2026-01-01T15:00")
    assert "Medidas que la persona puede tomar" in sent.json()["copy_text"]
    again = client.patch(f"{base}/notices/{nid}", json={"recipient": "x"}, headers=h)
    assert again.status_code == 409
    one = client.post(f"{base}/register", json={"fields": {"public_notice": "no"}}, headers=h)
    assert one.status_code == 201 and one.json()["version"] == 1
    assert one.json()["data"]["notices"][0]["sha256"] == sent.json()["copy_sha256"]
    two = client.post(f"{base}/register", json={"fields": {"persons_affected": "12"}}, headers=h)
    assert two.json()["version"] == 2 and two.json()["prev_hash"] == one.json()["hash"]
    assert [v["version"] for v in client.get(f"{base}/register", headers=h).json()] == [1, 2]
    whole = client.get("/api/v1/incidents/register", headers=h).json()
    assert whole["total"] == 1 and whole["items"][0]["version"] == 2
    assert client.get("/api/v1/incidents/register/verify", headers=h).json()["ok"] is True
    exported = client.get("/api/v1/incidents/register.csv", params={"language": "fr"}, headers=h)
    assert exported.status_code == 200 and "Personnes concernées" in exported.text
    pdf = client.get("/api/v1/incidents/register.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_role_rules_hold_through_the_api(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    water, transit = new_case(client, h, "water"), new_case(client, h, "transport")
    for cid in (water, transit):
        assert (
            client.post(f"/api/v1/incidents/{cid}/register", json={}, headers=h).status_code == 201
        )
    nid = client.post(
        f"/api/v1/incidents/{water}/notices",
        json={"obligation_id": "qc-a21.persons", "channel": "letter"},
        headers=h,
    ).json()["id"]
    viewer = caller(runtime, "vera", Role.VIEWER)
    responder = caller(runtime, "rita", Role.RESPONDER)
    operator = caller(runtime, "wes", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    base = f"/api/v1/incidents/{water}"
    for who in (viewer, responder, operator):
        for method, path, body in (
            ("post", f"{base}/notices", {"obligation_id": "qc-a21.cai"}),
            ("patch", f"{base}/notices/{nid}", {"recipient": "x"}),
            ("post", f"{base}/notices/{nid}/send", {}),
            ("post", f"{base}/register", {"fields": {}}),
        ):
            got = getattr(client, method)(path, json=body, headers=who.headers)
            assert got.status_code == 403, (who.user.username, method, path)
        assert client.get(f"{base}/notices", headers=who.headers).status_code == 200
    seen = client.get("/api/v1/incidents/register", headers=operator.headers).json()
    assert [e["case_id"] for e in seen["items"]] == [water]
    csv_text = client.get("/api/v1/incidents/register.csv", headers=operator.headers).text
    assert "\r\n" in csv_text and len(csv_text.strip().splitlines()) == 2
    assert (
        client.get(f"/api/v1/incidents/{transit}/register", headers=operator.headers).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/incidents/{transit}/notices", headers=operator.headers).status_code
        == 404
    )
    assert client.get("/api/v1/incidents/register", headers=viewer.headers).json()["total"] == 2
