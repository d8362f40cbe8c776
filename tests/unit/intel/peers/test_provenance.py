"""Every version received gets a provenance row: STIX bundles (new and unchanged), MISP events
(with the event uuid) and CSV lists (including values already held)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from civicshield import intel
from civicshield.core import SYSTEM
from civicshield.intel.models import IntelObject, IntelProvenance, IntelSource
from civicshield.runtime import Runtime
from tests.unit.intel.conftest import bundle, indicator


def _rows(rt: Runtime) -> list[IntelProvenance]:
    with rt.session() as s:
        rows = list(s.scalars(select(IntelProvenance).order_by(IntelProvenance.id)))
        s.expunge_all()
        return rows


def test_stix_import_records_every_version_received(runtime: Runtime) -> None:
    one = indicator("[ipv4-addr:value = '198.51.100.1']")
    newer = {**one, "modified": "2026-11-02T00:00:00.000Z"}
    with runtime.session() as s:
        intel.import_stix(s, bundle(one), location="a.json", actor=SYSTEM, clock=runtime.clock)
    with runtime.session() as s:
        report = intel.import_stix(
            s, bundle(one, newer), location="peer", actor=SYSTEM, clock=runtime.clock,
            kind="taxii", provenance={"peer": "Villa Norte", "date_added": "2026-11-02T00:00:00Z"},
        )  # fmt: skip
    assert (report.unchanged, report.new_versions) == (1, 1)
    rows = _rows(runtime)
    assert len(rows) == 3
    with runtime.session() as s:
        versions = dict(s.execute(select(IntelObject.id, IntelObject.modified_key)).all())
        taxii = s.scalars(select(IntelSource).where(IntelSource.kind == "taxii")).one()
        assert taxii.location == "peer"
    first, again, new = rows
    assert first.detail == {"source_kind": "stix", "location": "a.json"}
    assert again.object_id == first.object_id  # the unchanged version, received again
    assert versions[new.object_id].startswith("2026-11-02")
    assert again.source_id == new.source_id == taxii.id
    assert new.detail["peer"] == "Villa Norte" and new.detail["source_kind"] == "taxii"
    assert new.received_at == runtime.clock.now()


def test_misp_event_provenance_names_the_event(runtime: Runtime) -> None:
    event_uuid = str(uuid.uuid4())
    event = {"Event": {
        "uuid": event_uuid, "timestamp": "1763000000", "info": "botnet", "distribution": "1",
        "Attribute": [{"uuid": str(uuid.uuid4()), "type": "ip-dst", "value": "45.33.32.156",
                       "to_ids": True, "timestamp": "1763000000"}],
    }}  # fmt: skip
    with runtime.session() as s:
        report = intel.import_misp_event(
            s, event, location="event.json", actor=SYSTEM, clock=runtime.clock
        )
    assert report.stored >= 1
    rows = _rows(runtime)
    assert len(rows) == report.stored
    assert {r.detail["misp_event_uuid"] for r in rows} == {event_uuid}


def test_csv_values_already_held_are_received_again(runtime: Runtime) -> None:
    text = "45.33.32.156\n198.51.100.7\n"
    for _ in range(2):
        with runtime.session() as s:
            intel.import_csv(
                s, text, mapping="ipv4", location="list.txt", actor=SYSTEM, clock=runtime.clock
            )
    rows = _rows(runtime)
    assert len(rows) == 4
    assert len({r.object_id for r in rows}) == 2
