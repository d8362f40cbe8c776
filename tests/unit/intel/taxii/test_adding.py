"""Adding objects: per-object failures, no duplicates, TLP ceilings, delete by version, status
resources, and import into the intel store of what a peer city (a member) adds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from civicshield import intel
from civicshield.core import NotFound, Tlp
from civicshield.intel import taxii
from civicshield.intel.tlp import marking_id
from civicshield.runtime import Runtime
from tests.unit.intel.conftest import indicator

from .conftest import HIGH_VALUE, INDICATOR, ROOT, WRITABLE, member, query


def _count(rt: Runtime, collection: str) -> int:
    with rt.session() as session:
        return taxii.get_collection(session, collection).object_count


def test_bad_objects_fail_alone_and_repeats_are_not_duplicated(seeded: Runtime) -> None:
    good = indicator("[ipv4-addr:value = '203.0.113.9']")
    objects: list[Any] = [
        good,
        {"type": "indicator"},
        {"id": "indicator--c410e480-e42b-47d1-9476-85307c12bcbf"},
        {**indicator("[ipv4-addr:value = '1.2.3.4']"), "id": f"malware--{uuid.uuid4()}"},
        {**indicator("[ipv4-addr:value = '1.2.3.5']"), "modified": "yesterday"},
        "not an object",
    ]
    with seeded.session() as session:
        status = taxii.add_objects(
            session, WRITABLE, objects, added_by="us", now=seeded.clock.now()
        )
    assert (status.total_count, status.success_count, status.failure_count) == (6, 1, 5)
    assert status.status == "complete" and status.pending_count == 0
    messages = [f["message"] for f in status.failures]
    assert messages[0] == "missing 'id'" and messages[1] == "missing 'type'"
    assert "does not start with its type" in messages[2]
    assert "'modified'" in messages[3] and messages[4] == "not a JSON object"
    with seeded.session() as session:
        again = taxii.add_objects(session, WRITABLE, [good], added_by="us", now=seeded.clock.now())
        reader = taxii.principal_caller("token:vera#1", can_read=True, can_write=False)
        fetched = taxii.get_status(session, reader, ROOT, again.id)
        with pytest.raises(NotFound):  # a member sees only the statuses of its own requests
            taxii.get_status(session, member(seeded), ROOT, again.id)
    assert again.successes == [
        {"id": good["id"], "version": good["modified"], "message": "already held"}
    ]
    assert fetched == again
    assert _count(seeded, WRITABLE) == 1


def test_tlp_red_never_goes_to_a_multi_city_collection(seeded: Runtime) -> None:
    red = indicator("[domain-name:value = 'a.example']", object_marking_refs=[marking_id(Tlp.RED)])
    amber = indicator(
        "[domain-name:value = 'b.example']", object_marking_refs=[marking_id(Tlp.AMBER)]
    )
    green = indicator(
        "[domain-name:value = 'c.example']", object_marking_refs=[marking_id(Tlp.GREEN)]
    )
    now = seeded.clock.now()
    with seeded.session() as session:
        shared = taxii.create_collection(session, ROOT, "Green only", now=now, tlp=Tlp.GREEN)
        status = taxii.add_objects(session, WRITABLE, [red, green], added_by="us", now=now)
        assert [f["id"] for f in status.failures] == [red["id"]]
        assert "TLP:RED" in status.failures[0]["message"]
        ceiling = taxii.add_objects(session, shared.uuid, [amber, green], added_by="us", now=now)
        assert [f["id"] for f in ceiling.failures] == [amber["id"]]
        assert "at most TLP:GREEN" in ceiling.failures[0]["message"]
        local = taxii.create_collection(session, ROOT, "Ours", now=now, multi_city=False)
        assert (
            taxii.add_objects(session, local.uuid, [red], added_by="us", now=now).success_count == 1
        )


def test_objects_from_a_member_are_imported_into_the_intel_store(seeded: Runtime) -> None:
    peer = indicator("[ipv4-addr:value = '198.51.100.7']")
    ours = indicator("[ipv4-addr:value = '198.51.100.8']")
    location = f"https://x/taxii2/{ROOT}/collections/{WRITABLE}/"
    with seeded.session() as session:
        taxii.post_objects(
            session,
            member(seeded),
            ROOT,
            WRITABLE,
            {"objects": [peer]},
            clock=seeded.clock,
            location=location,
        )
        taxii.add_objects(session, WRITABLE, [ours], added_by="us", now=seeded.clock.now())
    with seeded.session() as session:
        stored = {
            i.stix_id
            for i in intel.list_indicators(
                session, intel.IndicatorFilter(), now=seeded.clock.now(), limit=100
            ).items
        }
        sources = [s.location for s in intel.list_sources(session)]
    assert peer["id"] in stored and ours["id"] not in stored
    assert location in sources


def test_an_envelope_without_objects_is_refused(seeded: Runtime) -> None:
    with seeded.session() as session:
        for body in ([], {"objects": {}}, {"more": False}, "x"):
            with pytest.raises(taxii.UnprocessableEnvelope) as caught:
                taxii.post_objects(
                    session, member(seeded), ROOT, WRITABLE, body, clock=seeded.clock, location="x"
                )
            assert caught.value.status == 422


def test_delete_honours_version_filters(seeded: Runtime) -> None:
    first = taxii.parse_query({"match[version]": ["first"]}, page_size=10)
    every = taxii.parse_query({}, page_size=10, default_version="all", all_specs=True)
    with seeded.session() as session:
        caller = member(seeded)
        assert taxii.delete_object(session, caller, ROOT, HIGH_VALUE, INDICATOR, first) == 1
        left = taxii.objects_page(
            session, caller, ROOT, HIGH_VALUE, every, view="versions", object_id=INDICATOR
        )
        assert left.items == ["2016-12-25T12:30:59.444Z", "2017-01-27T13:49:53.935Z"]
        assert taxii.delete_object(session, caller, ROOT, HIGH_VALUE, INDICATOR, every) == 2
        with pytest.raises(NotFound):
            taxii.objects_page(session, caller, ROOT, HIGH_VALUE, query(), object_id=INDICATOR)
