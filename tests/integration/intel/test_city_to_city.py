"""Two cities, end to end over HTTP: ours prepares a publication to a peer city's TAXII
collection; the sharing policy holds back TLP:RED, pseudonymises our internal address and strips
our bookkeeping; the first publication to the new peer waits for a second person's approval;
once sent, the peer's server holds the objects and its own intel store has imported them with
their provenance. Then our sightings go the same way (`intel push --sightings` does this)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from civicshield import intel
from civicshield.app import create_app
from civicshield.core import Actor, Conflict, FrozenClock, Tlp
from civicshield.intel import peers, sharing, taxii
from civicshield.intel.models import IntelObject, IntelProvenance
from civicshield.migrations.runner import upgrade
from civicshield.runtime import Runtime, build_runtime
from tests.conftest import NOW, make_settings
from tests.harness import LiveServer
from tests.unit.intel.conftest import bundle, indicator

ANALYST = Actor(kind="user", name="ana")
OFFICER = Actor(kind="user", name="paula")
FAST = {"backoff_factor": 0.0}
SECRET = "Border-Cities-0123456789"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


@pytest.fixture
def peer_city(tmp_path: Path) -> Iterator[tuple[Runtime, str, str]]:
    """The peer: one multi-city collection our member `ciudad` may write."""
    settings = make_settings(tmp_path / "peer", database_url=f"sqlite:///{tmp_path / 'p.db'}")
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=FrozenClock(NOW))
    now = rt.clock.now()
    with rt.session() as s:
        taxii.create_api_root(s, "border", "Border cities", now=now, is_default=True)
        col = taxii.create_collection(
            s, "border", "Camera botnet", now=now, can_write=False, multi_city=True
        )
        taxii.create_member(
            s, "ciudad", SECRET, hasher=rt.accounts.hasher, city="Ciudad Demo",
            api_root_slugs=["border"], now=now,
        )  # fmt: skip
        taxii.set_grant(s, "ciudad", col.uuid, can_read=True, can_write=True, now=now)
    with LiveServer(create_app(runtime=rt)) as live:
        yield rt, live.url, col.uuid
    rt.close()


def _subscribe(runtime: Runtime, url: str, collection: str) -> int:
    data = peers.PeerCreate(
        name="Ensenada", discovery_url=f"{url}/taxii2/", auth="basic", username="ciudad",
        secret=SECRET,  # type: ignore[arg-type]
    )  # fmt: skip
    with runtime.session() as s:
        peer = peers.add_peer(
            s, data, settings=runtime.settings, actor=ANALYST, clock=runtime.clock
        )
        sub = peers.subscribe(
            s, peers.SubscriptionCreate(peer_id=peer.id, api_root_url=f"{url}/taxii2/border/",
                                        collection_id=collection),
            settings=runtime.settings, actor=ANALYST, clock=runtime.clock, **FAST,
        )  # fmt: skip
    return sub.id


def test_publication_to_a_peer_city(runtime: Runtime, peer_city: tuple[Runtime, str, str]) -> None:
    peer_rt, url, collection = peer_city
    shareable = indicator(
        "[ipv4-addr:value = '192.0.2.45']", name="Loader",
        description="Seen from 10.20.30.40 by ana@city.example", object_marking_refs=[GREEN],
    )  # fmt: skip
    secret = indicator("[ipv4-addr:value = '192.0.2.99']", object_marking_refs=[RED])
    with runtime.session() as s:
        intel.import_stix(
            s, bundle(shareable, secret), location="ours", actor=ANALYST, clock=runtime.clock
        )
    sub_id = _subscribe(runtime, url, collection)
    target = sharing.PublicationTarget(subscription_id=sub_id)
    now = runtime.clock.now()
    with runtime.session() as s:
        pub = sharing.prepare(
            s, [shareable["id"], secret["id"]], target, actor=ANALYST,
            settings=runtime.settings, now=now,
        )  # fmt: skip
        assert pub.status == "awaiting_approval"  # a new peer
        assert [r.object_id for r in pub.refusals] == [secret["id"]]
        with pytest.raises(Conflict):  # four eyes
            sharing.approve(s, pub.id, actor=ANALYST, now=now)
        sharing.approve(s, pub.id, actor=OFFICER, now=now)
        sent = sharing.publish(s, pub.id, actor=ANALYST, settings=runtime.settings, now=now)
    assert sent.status == "published", sent.error

    with peer_rt.session() as s:
        [held] = [c for c in taxii.list_collections(s) if c.uuid == collection]
        assert held.object_count == 2  # the indicator and its TLP:GREEN marking definition
        rows = s.scalars(select(IntelObject).where(IntelObject.stix_id == shareable["id"])).all()
        [row] = rows
        text = str(row.body)
        assert "10.20.30.40" not in text and "ana@city.example" not in text
        assert row.body["pattern"] == shareable["pattern"]  # a public address stays
        assert not s.scalars(select(IntelObject).where(IntelObject.stix_id == secret["id"])).all()
        [prov] = s.scalars(select(IntelProvenance).where(IntelProvenance.object_id == row.id))
        # posted to the peer's TAXII server by our member account
        assert (prov.detail["source_kind"], prov.detail["member"]) == ("taxii", "ciudad")
        assert collection in prov.detail["collection_url"]

    # our sightings follow; the peer is approved now, so no second approval
    hits = pl.DataFrame(
        {"rule_id": [f"intel/{shareable['id']}"] * 2, "@timestamp": [NOW, NOW],
         "_entry": ["spool-1", "spool-1"]},
    )  # fmt: skip
    with runtime.session() as s:
        assert intel.record_sightings(s, hits, now=now, settings=runtime.settings) == 1
        ids = intel.our_sightings_since(s, now)
        pub = sharing.prepare(s, ids, target, actor=ANALYST, settings=runtime.settings, now=now)
        assert pub.status == "draft"
        sent = sharing.publish(s, pub.id, actor=ANALYST, settings=runtime.settings, now=now)
    assert sent.status == "published", sent.error
    with peer_rt.session() as s:
        [sighting] = s.scalars(select(IntelObject).where(IntelObject.type == "sighting")).all()
        assert sighting.body["count"] == 2
        assert not any(k.startswith("x_civicshield") for k in sighting.body)
        assert sighting.object_marking_refs == [intel.tlp.marking_id(Tlp.AMBER)]
