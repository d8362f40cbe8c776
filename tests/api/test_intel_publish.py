"""`/api/v1/intel/publications` and `/policy`: trying to publish forbidden objects (TLP:RED
and TLP:AMBER+STRICT to a multi-city collection, personal data, internal addresses), the
approval step for a new peer, delivery, and who may do what."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from stix2validator import validate_string  # type: ignore[import-untyped]

from civicshield import audit
from civicshield.core import Role, Tlp
from civicshield.intel import peers, taxii
from civicshield.intel.models import IntelPeer, IntelSubscription
from civicshield.intel.tlp import marking_id
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller

COLLECTION = "9f5ec4cb-1c41-4b4a-8ac5-0a0d0f0c1c11"
T0 = "2026-11-01T00:00:00.000Z"


def _indicator(pattern: str, tlp: Tlp | None, **props: Any) -> dict[str, Any]:
    body = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "valid_from": T0,
        "pattern": pattern,
        "pattern_type": "stix",
        "name": "Kraken",
        **props,
    }
    if tlp is not None:
        body["object_marking_refs"] = [marking_id(tlp)]
    return body


class Sent:
    """Fake TAXII collection and peer client: records what was delivered."""

    def __init__(self) -> None:
        self.collection: list[dict[str, Any]] = []
        self.peer: list[dict[str, Any]] = []

    def get_collection(self, session: object, uuid_: str) -> SimpleNamespace:
        return SimpleNamespace(uuid=uuid_, multi_city=True, tlp=None)

    def add_objects(
        self,
        session: object,
        uuid_: str,
        objects: list[dict[str, Any]],
        *,
        added_by: str,
        now: object,
    ) -> dict[str, Any]:
        self.collection.extend(objects)
        return {"status": "complete", "success_count": len(objects)}

    def push_objects(
        self,
        session: object,
        sub_id: int,
        objects: list[dict[str, Any]],
        *,
        settings: object,
        now: object,
    ) -> dict[str, Any]:
        self.peer.extend(objects)
        return {"status": "complete", "success_count": len(objects)}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    fake = Sent()
    monkeypatch.setattr(taxii, "get_collection", fake.get_collection, raising=False)
    monkeypatch.setattr(taxii, "add_objects", fake.add_objects, raising=False)
    monkeypatch.setattr(peers, "push_objects", fake.push_objects, raising=False)
    return fake


def _store(client: TestClient, h: dict[str, str], *objects: dict[str, Any]) -> None:
    body = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
    done = client.post("/api/v1/intel/import", json=body, headers=h)
    assert done.status_code == 200 and not done.json()["refused"], done.text


def _subscription(rt: Runtime, *, multi_city: bool = True) -> int:
    now = rt.clock.now()
    with rt.session() as s:
        peer = IntelPeer(
            name="Ciudad Vecina", discovery_url="https://vecina.example/taxii2/", created_at=now
        )
        s.add(peer)
        s.flush()
        sub = IntelSubscription(
            peer_id=peer.id,
            api_root_url="https://vecina.example/api1/",
            collection_id=str(uuid.uuid4()),
            can_write=True,
            multi_city=multi_city,
            created_at=now,
        )
        s.add(sub)
        s.flush()
        return sub.id


def test_forbidden_tlp_refused_for_a_multi_city_collection(
    client: TestClient, admin_caller: Caller, sent: Sent
) -> None:
    h = admin_caller.headers
    red = _indicator("[ipv4-addr:value = '45.33.32.156']", Tlp.RED)
    strict = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.AMBER_STRICT)
    _store(client, h, red, strict)
    body = {"object_ids": [red["id"], strict["id"]], "collection_uuid": COLLECTION}
    done = client.post("/api/v1/intel/publications", json=body, headers=h)
    assert done.status_code == 201, done.text
    pub = done.json()
    assert pub["status"] == "refused" and pub["object_count"] == 0
    assert {(r["object_id"], r["rule"]) for r in pub["refusals"]} == {
        (red["id"], "tlp-multi-city"),
        (strict["id"], "tlp-multi-city"),
    }
    send = client.post(f"/api/v1/intel/publications/{pub['id']}/publish", headers=h)
    assert send.status_code == 409 and "refused" in send.json()["detail"]
    assert sent.collection == []


def test_personal_data_and_internal_addresses_leave_stripped(
    client: TestClient, admin_caller: Caller, sent: Sent
) -> None:
    h = admin_caller.headers
    leaky = _indicator(
        "[ipv4-addr:value = '192.168.10.20'] OR [ipv4-addr:value = '45.33.32.156']",
        None,
        description="Dr. Ana Ruiz (ana.ruiz@ciudad.example, 55 1234 5678) saw 10.1.2.3",
    )
    red = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.RED)
    _store(client, h, leaky, red)
    body = {
        "object_ids": [leaky["id"], red["id"], "indicator--nope"],
        "collection_uuid": COLLECTION,
    }
    pub = client.post("/api/v1/intel/publications", json=body, headers=h).json()
    assert pub["status"] == "draft"
    assert {r["object_id"]: r["rule"] for r in pub["refusals"]} == {
        "indicator--nope": "unknown-object",
        red["id"]: "tlp-multi-city",
    }
    detail = client.get(f"/api/v1/intel/publications/{pub['id']}", headers=h).json()
    text = str(detail["prepared"])
    for secret in ("192.168.10.20", "10.1.2.3", "Ana Ruiz", "ana.ruiz@", "1234 5678"):
        assert secret not in text
    assert "45.33.32.156" in text and "internal-" in text
    assert {c["rule"] for c in detail["changes"]} >= {
        "internal-address",
        "personal-email",
        "personal-phone",
        "personal-name",
        "tlp-default",
    }
    assert validate_string(str(__import__("json").dumps(detail["prepared"]))).is_valid
    send = client.post(f"/api/v1/intel/publications/{pub['id']}/publish", headers=h)
    assert send.status_code == 200 and send.json()["status"] == "published"
    assert [o["id"] for o in sent.collection if o["type"] == "indicator"] == [leaky["id"]]
    assert "192.168.10.20" not in str(sent.collection)


def test_first_publication_to_a_new_peer_needs_another_persons_approval(
    client: TestClient, runtime: Runtime, admin_caller: Caller, sent: Sent
) -> None:
    h = admin_caller.headers
    good = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.GREEN)
    _store(client, h, good)
    sub = _subscription(runtime)
    body = {"object_ids": [good["id"]], "subscription_id": sub}
    pub = client.post("/api/v1/intel/publications", json=body, headers=h).json()
    assert pub["status"] == "awaiting_approval"
    path = f"/api/v1/intel/publications/{pub['id']}"
    early = client.post(f"{path}/publish", headers=h)
    assert early.status_code == 409 and "approval" in early.json()["detail"]
    own = client.post(f"{path}/approve", headers=h)
    assert own.status_code == 409 and "another person" in own.json()["detail"]
    analyst = caller(runtime, "ana", Role.ANALYST)
    assert client.post(f"{path}/approve", headers=analyst.headers).status_code == 403
    officer = caller(runtime, "pia", Role.PRIVACY_OFFICER)
    approved = client.post(f"{path}/approve", headers=officer.headers)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "pia"
    assert client.post(f"{path}/publish", headers=h).json()["status"] == "published"
    assert [o["id"] for o in sent.peer if o["type"] == "indicator"] == [good["id"]]
    with runtime.session() as s:
        assert s.get(IntelPeer, 1).approved_by == "pia"  # type: ignore[union-attr]
        trail = audit.list_entries(s, entity_type="intel_publication", entity_id=str(pub["id"]))
        actions = [e.action for e in trail.items]
        assert sorted(actions) == sorted(
            ["intel.publication.prepare", "intel.publication.approve", "intel.publication.publish"]
        )
    # The peer is approved now: the next publication is a draft at once.
    again = client.post("/api/v1/intel/publications", json=body, headers=h).json()
    assert again["status"] == "draft"
    rejected = client.post(
        f"/api/v1/intel/publications/{again['id']}/reject",
        json={"reason": "wrong peer"},
        headers=officer.headers,
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["note"] == "wrong peer"


def test_roles_policy_and_bad_input(
    client: TestClient, runtime: Runtime, viewer_caller: Caller, sent: Sent
) -> None:
    v = viewer_caller.headers
    assert client.get("/api/v1/intel/publications", headers=v).json()["total"] == 0
    policy = client.get("/api/v1/intel/policy", headers=v).json()
    assert policy["refuse_multi_city_tlp"] == ["red", "amber+strict"]
    body = {"object_ids": ["indicator--x"], "collection_uuid": COLLECTION}
    assert client.post("/api/v1/intel/publications", json=body, headers=v).status_code == 403
    analyst = caller(runtime, "ana", Role.ANALYST).headers
    both = {**body, "subscription_id": 1}
    bad = client.post("/api/v1/intel/publications", json=both, headers=analyst)
    assert bad.status_code == 422 and "exactly one" in bad.text
    missing = client.post(
        "/api/v1/intel/publications",
        json={"object_ids": ["x"], "subscription_id": 99},
        headers=analyst,
    )
    assert missing.status_code == 404 and "subscription 99" in missing.json()["detail"]
    assert client.get("/api/v1/intel/publications/5", headers=v).status_code == 404


def test_web_queue_preview_and_buttons_by_permission(
    client: TestClient, runtime: Runtime, sent: Sent
) -> None:
    from tests.api.conftest import sign_in

    admin = caller(runtime, "root", Role.ADMIN)
    red = _indicator("[ipv4-addr:value = '45.33.32.156']", Tlp.RED)
    good = _indicator(
        "[domain-name:value = 'cnc.example']", Tlp.GREEN, description="contact ana@ciudad.example"
    )
    _store(client, admin.headers, red, good)
    sub = _subscription(runtime)
    browser = sign_in(client, runtime, "root")
    form = {
        "csrf_token": browser.csrf,
        "object_ids": f"{red['id']}\n{good['id']}",
        "collection_uuid": "",
        "subscription_id": str(sub),
    }
    made = client.post("/intel/publish", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="refusal"' in html and "TLP:RED may not go" in html
    assert "E-mail address" in html and "ana@ciudad.example" not in html
    assert 'data-testid="approve-submit"' in html and 'data-testid="send-submit"' not in html
    own = client.post(f"{made.headers['location']}/approve", data={"csrf_token": browser.csrf})
    assert own.status_code == 409 and "another person" in own.text
    no_csrf = client.post(f"{made.headers['location']}/approve", data={})
    assert no_csrf.status_code in (400, 403)
    caller(runtime, "pia", Role.PRIVACY_OFFICER)
    officer = sign_in(client, runtime, "pia")
    done = client.post(
        f"{made.headers['location']}/approve",
        data={"csrf_token": officer.csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    # the privacy officer may approve but not publish: no publish button, and 403 on POST
    preview = client.get(made.headers["location"]).text
    assert 'data-testid="send-submit"' not in preview and "Ready to publish" in preview
    assert (
        client.post(
            f"{made.headers['location']}/send", data={"csrf_token": officer.csrf}
        ).status_code
        == 403
    )
    browser = sign_in(client, runtime, "root")
    sent_page = client.post(f"{made.headers['location']}/send", data={"csrf_token": browser.csrf})
    assert (
        sent_page.status_code == 200
        and 'data-testid="flash"' in sent_page.text
        and [o["id"] for o in sent.peer][:1] == [good["id"]]
    )
    assert "Sent to the collection" in sent_page.text
    assert 'data-testid="send-submit"' not in sent_page.text
    queue = client.get("/intel/publish").text
    assert "Sent to the collection" in queue and 'data-testid="prepare-form"' in queue
    bad = client.post(
        "/intel/publish", data={**form, "collection_uuid": COLLECTION, "csrf_token": browser.csrf}
    )
    assert bad.status_code == 422 and "exactly one target" in bad.text


def test_failed_delivery_is_recorded(
    client: TestClient, runtime: Runtime, admin_caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = admin_caller.headers
    good = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.GREEN)
    _store(client, h, good)
    sub = _subscription(runtime)
    with runtime.session() as s:
        peer = s.get(IntelPeer, 1)
        assert peer is not None
        peer.approved_at, peer.approved_by = runtime.clock.now(), "pia"
    outcomes: list[Any] = [{"status": "failed", "error": "HTTP 503 from the peer"}]

    def push(*_: object, **__: object) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(peers, "push_objects", push, raising=False)
    outcomes.append(ConnectionError("connection refused"))
    body = {"object_ids": [good["id"]], "subscription_id": sub}
    for expected in ("HTTP 503 from the peer", "ConnectionError: connection refused"):
        pub = client.post("/api/v1/intel/publications", json=body, headers=h).json()
        assert pub["status"] == "draft"
        done = client.post(f"/api/v1/intel/publications/{pub['id']}/publish", headers=h).json()
        assert (done["status"], done["error"]) == ("failed", expected)
    listed = client.get("/api/v1/intel/publications?status=failed", headers=h).json()
    assert listed["total"] == 2
