"""STIX export: TLP filtering and refusals, validation, and the round trip."""

from __future__ import annotations

import pytest
import stix2  # type: ignore[import-untyped]

from civicshield import intel
from civicshield.core import SYSTEM, Tlp
from civicshield.core.errors import Invalid
from civicshield.intel.tlp import marking_id
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from tests.conftest import make_settings

from .conftest import bundle, indicator, load


def _sample() -> list[dict[str, object]]:
    return [
        indicator(
            "[ipv4-addr:value = '198.51.100.7']",
            object_marking_refs=[marking_id(Tlp.GREEN)],
            confidence=80,
            labels=["botnet"],
            kill_chain_phases=[
                {"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}
            ],
            external_references=[{"source_name": "city-cert", "url": "https://cert.example/1"}],
        ),
        indicator(
            "[domain-name:value = 'kraken-iot.example']",
            object_marking_refs=[marking_id(Tlp.AMBER)],
        ),
        indicator(
            "[url:value = 'http://kraken-iot.example/x']", object_marking_refs=[marking_id(Tlp.RED)]
        ),
    ]


def _ids(data: dict[str, object]) -> set[str]:
    return {o["id"] for o in data["objects"] if o["type"] == "indicator"}  # type: ignore[attr-defined,index]


def test_tlp_filter_and_refusals(runtime: Runtime) -> None:
    green, amber, red = _sample()
    with runtime.session() as s:
        intel.import_stix(
            s, bundle(green, amber, red), location="a", actor=SYSTEM, clock=runtime.clock
        )
        assert _ids(intel.export_bundle(s, max_tlp=Tlp.GREEN)) == {green["id"]}
        assert _ids(intel.export_bundle(s)) == {green["id"], amber["id"]}
        with pytest.raises(Invalid, match="TLP:RED may not be exported"):
            intel.export_bundle(s, max_tlp=Tlp.RED)
        with pytest.raises(Invalid, match="AMBER\\+STRICT"):
            intel.export_bundle(s, max_tlp=Tlp.AMBER_STRICT)
        local = intel.export_bundle(s, max_tlp=Tlp.RED, local=True)
    assert _ids(local) == {green["id"], amber["id"], red["id"]}
    parsed = stix2.parse(local, allow_custom=False, version="2.1")
    assert {o.type for o in parsed.objects} == {"indicator", "marking-definition"}


def test_round_trip_keeps_every_modelled_field(runtime: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    objects = _sample()[:2]
    feed = load("taxii-medallion-fixture/default_data.json")
    medallion = [
        o
        for c in feed["trustgroup1"]["collections"]
        for o in c.get("objects", [])
        if o["type"] == "indicator"
    ]
    with runtime.session() as s:
        intel.import_stix(
            s, bundle(*objects, *medallion), location="a", actor=SYSTEM, clock=runtime.clock
        )
        exported = intel.export_bundle(s)
        before = {
            i.stix_id: i
            for i in intel.list_indicators(
                s, intel.IndicatorFilter(), now=runtime.clock.now()
            ).items
        }
    stix2.parse(exported, allow_custom=False, version="2.1")
    other = make_settings(tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other.resolved_database_url)
    rt2 = build_runtime(other, clock=runtime.clock)
    try:
        with rt2.session() as s:
            report = intel.import_stix(s, exported, location="x", actor=SYSTEM, clock=rt2.clock)
            after = {
                i.stix_id: i
                for i in intel.list_indicators(
                    s, intel.IndicatorFilter(), now=rt2.clock.now()
                ).items
            }
            detail = intel.get_indicator(s, objects[0]["id"], now=rt2.clock.now())  # type: ignore[arg-type]
    finally:
        rt2.close()
    assert report.refused == []
    assert before == after
    body = detail.versions[0]
    for key in (
        "confidence",
        "labels",
        "kill_chain_phases",
        "external_references",
        "object_marking_refs",
        "valid_from",
        "modified",
    ):
        assert key in body, key
    assert body["kill_chain_phases"] == objects[0]["kill_chain_phases"]
