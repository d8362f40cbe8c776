"""Importing the shared MISP feed and STIX examples loses no field we model: every stored
version's `body` is the input object verbatim (STIX) or carries every attribute property we
map (MISP), the derived columns agree with the body, and exporting then importing into a
second store gives the same objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stix2  # type: ignore[import-untyped]
from sqlalchemy import select

from civicshield import intel
from civicshield.core import SYSTEM, Tlp
from civicshield.intel.misp import pattern_for, tlp_of_misp
from civicshield.intel.models import IntelIndicator, IntelObject
from civicshield.intel.tlp import marking_id
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from tests.conftest import make_settings

from .conftest import load, shared

STIX_FILES = (
    "stix-incident-examples/incident_pii_report.json",
    "stix-incident-examples/incident_ransom.json",
    "stix-tlp2/tlp2-marking-definitions.json",
)


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _stored(s: Any) -> dict[tuple[str, str], IntelObject]:
    return {(o.stix_id, o.modified_key): o for o in s.scalars(select(IntelObject))}


def _latest(s: Any, stix_id: str) -> IntelObject:
    return s.scalars(
        select(IntelObject)
        .where(IntelObject.stix_id == stix_id)
        .order_by(IntelObject.modified_key.desc())
    ).first()


# Extension-defined object types (the Incident Core extension's impact, task, event): `stix2`
# hands them back as plain dicts, so their timestamps are strings (parsed by
# stix_objects._utc); the test below checks their columns.
EXTENSION_TYPES = frozenset({"impact", "task", "event"})


def _check_columns(row: IntelObject) -> None:
    body = row.body
    assert row.type == body["type"]
    assert row.spec_version == body.get("spec_version", "2.1")
    if row.type not in EXTENSION_TYPES:
        assert row.created == _when(body.get("created"))
        assert row.modified == _when(body.get("modified"))
    assert row.valid_from == _when(body.get("valid_from"))
    assert row.valid_until == _when(body.get("valid_until"))
    assert row.revoked == bool(body.get("revoked", False))
    assert row.confidence == body.get("confidence")
    assert row.labels == body.get("labels", [])
    assert row.created_by_ref == body.get("created_by_ref")
    assert row.object_marking_refs == body.get("object_marking_refs", [])


def test_stix_examples_are_stored_verbatim(runtime: Runtime) -> None:
    with runtime.session() as s:
        for name in STIX_FILES:
            data = load(name)
            report = intel.import_stix(s, data, location=name, actor=SYSTEM, clock=runtime.clock)
            refused = {r.stix_id for r in report.refused}
            for obj in data["objects"]:
                if obj["id"] in refused:
                    continue
                row = _latest(s, obj["id"])
                assert row is not None, obj["id"]
                assert row.body == obj, obj["id"]  # every property, extensions included
                _check_columns(row)


def test_extension_defined_objects_keep_their_timestamps(runtime: Runtime) -> None:
    name = "stix-incident-examples/incident_ransom.json"
    with runtime.session() as s:
        intel.import_stix(s, load(name), location=name, actor=SYSTEM, clock=runtime.clock)
        rows = [o for o in s.scalars(select(IntelObject)) if o.type in EXTENSION_TYPES]
    assert rows
    assert all(r.modified == _when(r.body["modified"]) for r in rows)


def _misp_attributes() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for path in sorted(shared("misp-feed-sample/feed").glob("*-*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))["Event"]
        attrs = list(event.get("Attribute", []))
        for obj in event.get("Object", []) or []:
            attrs.extend(obj.get("Attribute", []))
        out.extend((event, a) for a in attrs)
    return out


def test_misp_feed_keeps_every_mapped_property(runtime: Runtime) -> None:
    feed = str(shared("misp-feed-sample/feed"))
    with runtime.session() as s:
        report = intel.import_misp_feed(s, feed, actor=SYSTEM, clock=runtime.clock)
        checked = 0
        for event, attr in _misp_attributes():
            row = _latest(s, f"indicator--{attr['uuid']}")
            if not attr["to_ids"]:
                assert row is None
                continue
            assert row is not None, attr
            body = row.body
            _check_columns(row)
            assert body["pattern"] == pattern_for(attr["type"], attr["value"])
            stamp = datetime.fromtimestamp(int(attr["timestamp"]), UTC)
            assert row.modified == row.valid_from == stamp
            assert body.get("description", "") == attr.get("comment", "")
            tags = [t["name"] for t in attr.get("Tag", []) + event.get("Tag", [])]
            assert body.get("labels", []) == sorted({t for t in tags if not t.startswith("tlp:")})
            level = tlp_of_misp(tags, None) or tlp_of_misp([], event.get("distribution"))
            assert body.get("object_marking_refs") == ([marking_id(level)] if level else None)
            assert body["created_by_ref"] == f"identity--{event['Orgc']['uuid']}"
            assert body["external_references"][0]["external_id"] == event["uuid"]
            assert _latest(s, body["created_by_ref"]).body["name"] == event["Orgc"]["name"]
            checked += 1
        events = {e["uuid"] for e, _ in _misp_attributes()}
        assert checked == report.read - len(events) > 0  # identities: one per event
        assert report.refused == []


def _canonical(body: dict[str, Any]) -> Any:
    parsed = stix2.parse(body, allow_custom=False, version="2.1")
    return json.loads(parsed.serialize()) if hasattr(parsed, "serialize") else parsed


def _snapshot(s: Any) -> dict[str, Any]:
    objects = {o.stix_id: o.body for o in s.scalars(select(IntelObject))}
    derived = {
        r.stix_id: (r.pattern, r.kind, r.lookups, r.not_matchable, r.tlp, r.revoked)
        for r in s.scalars(select(IntelIndicator))
    }
    return {"objects": objects, "indicators": derived}


def test_export_then_import_gives_the_same_objects(runtime: Runtime, tmp_path: Path) -> None:
    with runtime.session() as s:
        kw: dict[str, Any] = {"actor": SYSTEM, "clock": runtime.clock}
        intel.import_misp_feed(s, str(shared("misp-feed-sample/feed")), **kw)
        intel.import_stix(s, load(STIX_FILES[2]), location="tlp2", **kw)
        exported = intel.export_bundle(s, max_tlp=Tlp.RED, local=True)
        before = _snapshot(s)
    other = make_settings(tmp_path / "other", database_url=f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other.resolved_database_url)
    second = build_runtime(other, clock=runtime.clock)
    try:
        with second.session() as s:
            report = intel.import_stix(s, exported, location="x", actor=SYSTEM, clock=second.clock)
            after = _snapshot(s)
    finally:
        second.close()
    assert report.refused == []
    assert after["indicators"] == before["indicators"]
    assert len(before["indicators"]) == sum(1 for _, a in _misp_attributes() if a["to_ids"])
    for stix_id, body in after["objects"].items():
        # The export is written by `stix2`: '.000Z' may become 'Z' and defaults (such as
        # pattern_version) are spelt out, so compare the objects as `stix2` reads them.
        assert _canonical(before["objects"][stix_id]) == _canonical(body), stix_id
    # everything but the marking definitions no exported object points at travels
    left_out = set(before["objects"]) - set(after["objects"])
    used = {r for b in after["objects"].values() for r in b.get("object_marking_refs", [])}
    assert all(i.startswith("marking-definition--") and i not in used for i in left_out)
    assert set(after["objects"]) <= set(before["objects"])
