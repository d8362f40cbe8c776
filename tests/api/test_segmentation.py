"""`/api/v1/segmentation`: read the policy, check a draft with every problem's place, save
(refused with errors, audited), preview over stored flows, back to the default; who may."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from civicshield import audit
from civicshield.core import Role
from civicshield.detect.eventstore import EventStore
from civicshield.detect.segmentation import DEFAULT_POLICY
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller

POLICY = """
version: "2"
name: test policy
zones:
  - {id: wifi, name: Wi-Fi, cidrs: [10.60.0.0/16]}
  - {id: scada, name: SCADA, cidrs: [10.20.0.0/16]}
  - {id: internet, name: Internet, cidrs: [0.0.0.0/0]}
rules:
  - {id: wifi-web, from: wifi, to: internet, protocols: [tcp], ports: ["443"], action: allow,
     reason: web access}
  - {id: wifi-web-again, from: wifi, to: internet, protocols: [tcp], ports: ["443"],
     action: allow, reason: the same again}
"""


def _flows(rt: Runtime) -> None:
    now = rt.clock.now()
    EventStore(rt.settings.data_dir / "events").write(
        pl.DataFrame(
            {
                "@timestamp": [now - timedelta(days=d) for d in (1, 2, 3, 10)],
                "source.ip": ["10.60.1.5", "10.60.1.5", "10.60.1.6", "10.60.1.7"],
                "destination.ip": ["10.20.0.9", "8.8.8.8", "10.20.0.9", "10.20.0.9"],
                "network.transport": ["tcp"] * 4,
                "destination.port": [502, 443, 502, 502],
            },
            schema_overrides={"@timestamp": pl.Datetime("us", "UTC")},
        ),
        "zeek.conn",
    )


def test_check_save_preview_and_reset(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    shown = client.get("/api/v1/segmentation/policy", headers=h).json()
    assert shown["source"] == "default" and shown["valid"]
    assert shown["text"] == DEFAULT_POLICY.read_text(encoding="utf-8")

    broken = POLICY.replace("10.20.0.0/16", "10.20.0.1/16").replace("from: wifi,", "from: wify,")
    checked = client.post("/api/v1/segmentation/check", json={"text": broken}, headers=h).json()
    places = {(i["level"], i["where"]) for i in checked["issues"]}
    assert not checked["valid"]
    assert {("error", "zones.1.cidrs.0"), ("error", "rules.0.from")} <= places
    refused = client.put("/api/v1/segmentation/policy", json={"text": broken}, headers=h)
    assert refused.status_code == 422 and "nothing was saved" in refused.json()["detail"]
    assert client.get("/api/v1/segmentation/policy", headers=h).json()["source"] == "default"
    not_yaml = client.post("/api/v1/segmentation/check", json={"text": "zones: [\n"}, headers=h)
    assert not_yaml.json()["issues"][0]["where"].startswith("line ")

    saved = client.put("/api/v1/segmentation/policy", json={"text": POLICY}, headers=h).json()
    assert saved["source"] == "city" and saved["version"] == "2"
    assert [i["where"] for i in saved["issues"]] == ["rules.1"]  # the repeated rule, a warning
    with runtime.session() as s:
        assert audit.list_entries(s, action="segmentation.save").total == 1

    _flows(runtime)
    seen = client.post("/api/v1/segmentation/preview", json={"days": 7}, headers=h).json()
    assert (seen["flows"], seen["denied"]) == (3, 2)  # the 10-day-old flow is outside
    assert seen["by_rule"][0]["rule"] == "(default)" and seen["by_rule"][0]["sources"] == 2
    draft = POLICY + (
        "  - {id: wifi-scada, from: wifi, to: scada, action: allow, reason: a mistake}\n"
    )
    allowed = client.post("/api/v1/segmentation/preview", json={"text": draft}, headers=h)
    assert allowed.json()["denied"] == 0

    back = client.delete("/api/v1/segmentation/policy", headers=h).json()
    assert back["source"] == "default"


def test_who_may(runtime: Runtime, client: TestClient) -> None:
    viewer = caller(runtime, "seg-viewer", Role.VIEWER)
    responder = caller(runtime, "seg-responder", Role.RESPONDER)
    body = {"text": POLICY}
    assert client.get("/api/v1/segmentation/policy", headers=viewer.headers).status_code == 403
    assert client.get("/api/v1/segmentation/policy", headers=responder.headers).status_code == 200
    for method, path, json in (
        ("PUT", "/api/v1/segmentation/policy", body),
        ("DELETE", "/api/v1/segmentation/policy", None),
    ):
        answer = client.request(method, path, json=json, headers=responder.headers)
        assert answer.status_code == 403, (method, path)
    assert client.get("/api/v1/segmentation/policy").status_code == 401
