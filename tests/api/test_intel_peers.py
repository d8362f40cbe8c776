"""`/api/v1/intel/peers` and `/api/v1/intel/subscriptions`: add, list, show, probe,
subscribe, pull, remove against a live TAXII server; secrets never come back; role rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from civicshield.intel.models import IntelPeer
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient
from tests.harness import LiveServer
from tests.unit.intel.conftest import indicator
from tests.unit.intel.peers.fake_taxii import FakeTaxii

SECRET = "peer-secret"


@pytest.fixture
def fake() -> Iterator[tuple[FakeTaxii, str]]:
    server = FakeTaxii(password=SECRET)
    server.add_collection("c1")
    with LiveServer(server.app(), lifespan="off") as live:
        yield server, live.url


def _peer_body(url: str, **kw: object) -> dict[str, object]:
    return {
        "name": "Villa Norte", "city": "Villa Norte", "discovery_url": f"{url}/taxii2/",
        "auth": "basic", "username": "peer", "secret": SECRET, **kw,
    }  # fmt: skip


def test_peer_lifecycle_and_secret_never_shown(
    client: TestClient, admin_caller: Caller, runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    server, url = fake
    h = admin_caller.headers
    made = client.post("/api/v1/intel/peers", json=_peer_body(url), headers=h)
    assert made.status_code == 201, made.text
    peer = made.json()
    assert peer["has_secret"] is True and SECRET not in made.text
    with runtime.session() as s:
        stored = s.scalars(select(IntelPeer)).one()
        assert stored.secret_box and SECRET not in stored.secret_box
    again = client.post("/api/v1/intel/peers", json=_peer_body(url), headers=h)
    assert again.status_code == 409
    bad = client.post("/api/v1/intel/peers", json=_peer_body("ftp://x"), headers=h)
    assert bad.status_code == 422 and "discovery_url" in bad.text

    probed = client.post(f"/api/v1/intel/peers/{peer['id']}/probe", headers=h).json()
    assert probed["last_error"] == ""
    [root] = probed["last_probe"]["roots"]
    assert root["collections"][0]["id"] == "c1" and root["collections"][0]["can_write"]

    server.put("c1", indicator("[domain-name:value = 'kraken-iot.example']"))
    sub = client.post(
        "/api/v1/intel/subscriptions",
        json={"peer_id": peer["id"], "api_root_url": root["url"], "collection_id": "c1"},
        headers=h,
    )
    assert sub.status_code == 201, sub.text
    missing = client.post(
        "/api/v1/intel/subscriptions",
        json={"peer_id": peer["id"], "api_root_url": root["url"], "collection_id": "nope"},
        headers=h,
    )
    assert missing.status_code == 422 and "nope" in missing.json()["detail"]
    sub_id = sub.json()["id"]
    pulled = client.post(f"/api/v1/intel/subscriptions/{sub_id}/pull", headers=h).json()
    assert (pulled["ok"], pulled["new"]) == (True, 1)
    shown = client.get(f"/api/v1/intel/peers/{peer['id']}", headers=h).json()
    assert shown["subscriptions"][0]["counts"]["new"] == 1
    assert shown["subscriptions"][0]["added_after"] == pulled["added_after"]
    listed = client.get("/api/v1/intel/subscriptions", headers=h).json()
    assert [s["id"] for s in listed] == [sub_id]
    assert client.get("/api/v1/intel/indicators?kind=domain", headers=h).json()["total"] == 1

    assert client.delete(f"/api/v1/intel/subscriptions/{sub_id}", headers=h).status_code == 204
    assert client.delete(f"/api/v1/intel/peers/{peer['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/intel/peers/{peer['id']}", headers=h).status_code == 404
    assert client.get("/api/v1/intel/indicators?kind=domain", headers=h).json()["total"] == 1


def test_probe_failure_is_recorded_not_raised(
    client: TestClient, admin_caller: Caller, fake: tuple[FakeTaxii, str]
) -> None:
    _, url = fake
    h = admin_caller.headers
    peer = client.post(
        "/api/v1/intel/peers", json=_peer_body(url, secret="wrong"), headers=h
    ).json()
    probed = client.post(f"/api/v1/intel/peers/{peer['id']}/probe", headers=h)
    assert probed.status_code == 200 and "401 Unauthorized" in probed.json()["last_error"]


def test_viewer_reads_but_cannot_change(
    client: TestClient, admin_caller: Caller, viewer_caller: Caller, fake: tuple[FakeTaxii, str]
) -> None:
    _, url = fake
    peer = client.post("/api/v1/intel/peers", json=_peer_body(url), headers=admin_caller.headers)
    pid = peer.json()["id"]
    v = viewer_caller.headers
    assert client.get("/api/v1/intel/peers", headers=v).status_code == 200
    assert client.get(f"/api/v1/intel/peers/{pid}", headers=v).status_code == 200
    assert client.get("/api/v1/intel/subscriptions", headers=v).status_code == 200
    body = {"peer_id": pid, "api_root_url": f"{url}/api1/", "collection_id": "c1"}
    for method, path, json in [
        ("post", "/api/v1/intel/peers", _peer_body(url, name="Other")),
        ("post", f"/api/v1/intel/peers/{pid}/probe", None),
        ("delete", f"/api/v1/intel/peers/{pid}", None),
        ("post", "/api/v1/intel/subscriptions", body),
        ("post", "/api/v1/intel/subscriptions/1/pull", None),
        ("delete", "/api/v1/intel/subscriptions/1", None),
    ]:
        answer = client.request(method, path, json=json, headers=v)
        assert answer.status_code == 403, (method, path, answer.text)
    assert client.get("/api/v1/intel/peers").status_code == 401
