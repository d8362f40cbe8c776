"""Every bundle we export passes OASIS `stix2-validator` 3.2.0 (pinned: 3.3.1 ships without its
schemas), with no network: stores filled from the shared MISP feed, the shared STIX examples
(incident examples, TLP 2.0 marking definitions, the medallion fixture's objects) and CSV lists,
exported at every TLP level we allow, plus the TLP 2.0 marking definitions we emit. A mutated
bundle must fail, so the check itself is known to work."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from civicshield import intel
from civicshield.core import SYSTEM, Tlp
from civicshield.intel.tlp import marking_definition, marking_id
from civicshield.runtime import Runtime

from .conftest import bundle, indicator, load, shared

validator = pytest.importorskip("stix2validator", reason="stix2-validator (test dependency)")
validator_module = pytest.importorskip("stix2validator.validator")

CSV = """value,kind,labels
198.51.100.23,ip-dst,botnet
kraken-iot.example,domain,botnet;camera
http://kraken-iot.example/bins/x.arm7,url,
d41d8cd98f00b204e9800998ecf8427f,md5,
"""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validator fetches remote extension schemas with requests; nothing may leave."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"stix2-validator tried the network: {args}")

    monkeypatch.setattr(validator_module.requests, "get", refuse)


def errors_of(obj: dict[str, Any]) -> list[str]:
    options = validator.ValidationOptions(version="2.1")
    result = validator.validate_instance(obj, options)
    if result.is_valid:
        return []
    return [str(e) for e in result.errors] or ["invalid (no message)"]


def _fill(runtime: Runtime) -> None:
    medallion = load("taxii-medallion-fixture/default_data.json")
    fixture_objects = [
        o for c in medallion["trustgroup1"]["collections"] for o in c.get("objects", [])
    ]
    own = [
        indicator(f"[ipv4-addr:value = '203.0.113.{i}']", object_marking_refs=[marking_id(level)])
        for i, level in enumerate(Tlp, start=1)
    ]
    own.append(
        indicator(
            "[network-traffic:dst_ref.value = '203.0.113.80' AND network-traffic:dst_port = 8080]",
            object_marking_refs=[marking_id(Tlp.GREEN)],
        )
    )
    with runtime.session() as s:
        kw: dict[str, Any] = {"actor": SYSTEM, "clock": runtime.clock}
        intel.import_misp_feed(s, str(shared("misp-feed-sample/feed")), **kw)
        for name in ("incident_pii_report.json", "incident_ransom.json"):
            intel.import_stix(s, load(f"stix-incident-examples/{name}"), location=name, **kw)
        tlp2 = load("stix-tlp2/tlp2-marking-definitions.json")
        intel.import_stix(s, tlp2, location="tlp2", **kw)
        intel.import_stix(s, bundle(*fixture_objects, *own), location="medallion", **kw)
        mapping = "value=ip-dst,labels=labels"
        rows = [line for line in CSV.splitlines() if ",ip-dst," in line or line.startswith("v")]
        intel.import_csv(s, "\n".join(rows), mapping=mapping, location="ips.csv", **kw)
        for kind in ("domain", "url", "md5"):
            values = [line.split(",")[0] for line in CSV.splitlines() if f",{kind}," in line]
            intel.import_csv(s, "\n".join(values), mapping=kind, location=f"{kind}.txt", **kw)


@pytest.mark.parametrize(
    ("level", "local"),
    [
        (Tlp.CLEAR, False),
        (Tlp.GREEN, False),
        (Tlp.AMBER, False),
        (Tlp.AMBER_STRICT, True),
        (Tlp.RED, True),
    ],
)
def test_exported_bundles_pass_stix2_validator(runtime: Runtime, level: Tlp, local: bool) -> None:
    _fill(runtime)
    with runtime.session() as s:
        exported = intel.export_bundle(s, max_tlp=level, local=local)
    types = [o["type"] for o in exported["objects"]]
    assert "indicator" in types
    assert errors_of(exported) == []
    for obj in exported["objects"]:
        assert errors_of(obj) == [], obj["id"]
    markings = {o["id"] for o in exported["objects"] if o["type"] == "marking-definition"}
    used = {ref for o in exported["objects"] for ref in o.get("object_marking_refs", [])}
    assert used <= markings  # every marking we point at travels with the bundle


def test_the_whole_store_exported_locally_keeps_every_source(runtime: Runtime) -> None:
    _fill(runtime)
    with runtime.session() as s:
        exported = intel.export_bundle(s, max_tlp=Tlp.RED, local=True)
    patterns = " ".join(o.get("pattern", "") for o in exported["objects"])
    for expected in (
        "kraken-iot.example",
        "198.51.100.23",
        "203.0.113.80",
        "dst_port = 8080",
        "d41d8cd98f00b204e9800998ecf8427f",
    ):
        assert expected in patterns
    misp = [
        o
        for o in exported["objects"]
        if any(r.get("source_name") == "misp" for r in o.get("external_references", []))
    ]
    assert misp, "the MISP feed's indicators are exported"
    assert errors_of(exported) == []


@pytest.mark.parametrize("level", list(Tlp))
def test_the_tlp2_marking_definitions_we_emit_pass(level: Tlp) -> None:
    definition = marking_definition(level)
    assert definition["id"] == marking_id(level)
    assert errors_of(definition) == []


def test_a_broken_bundle_fails_so_the_check_can_fail(runtime: Runtime) -> None:
    _fill(runtime)
    with runtime.session() as s:
        exported = intel.export_bundle(s, max_tlp=Tlp.GREEN)
    broken = copy.deepcopy(exported)
    first = next(o for o in broken["objects"] if o["type"] == "indicator")
    first["pattern"] = "[ipv4-addr:value = '198.51.100.1'"
    first["modified"] = "2026-13-01T00:00:00.000Z"
    assert errors_of(broken)
