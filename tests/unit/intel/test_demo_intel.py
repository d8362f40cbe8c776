"""The demo's two peer cities: our trust group, Ensenada's pushed indicators, Mexicali's
subscription, our publication and the one waiting for approval; loading twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from stix2validator import validate_instance  # type: ignore[import-untyped]

from civicshield import intel
from civicshield.core import FrozenClock
from civicshield.detect.indicators import compile_pattern
from civicshield.intel import sharing, taxii
from civicshield.intel.demo import ROOT, load_demo_intel
from civicshield.intel.demo_bundles import PEERS, our_indicator, peer_bundle
from civicshield.intel.models import IntelProvenance, IntelSubscription
from civicshield.runtime import Runtime
from tests.conftest import NOW


def test_the_peers_bundles_are_valid_and_matchable() -> None:
    for peer in PEERS:
        bundle = peer_bundle(peer, NOW)
        assert validate_instance(bundle).is_valid, peer.key
        for obj in bundle["objects"]:
            if obj["type"] == "indicator":
                assert compile_pattern(obj["pattern"])
    assert compile_pattern(our_indicator(NOW, "identity--x")["pattern"])


def test_two_peer_cities_exchange_indicators(runtime: Runtime) -> None:
    clock = FrozenClock(NOW)
    with runtime.session() as s:
        notes = load_demo_intel(s, runtime.settings, clock=clock)
    assert "members ensenada and mexicali" in notes[0]
    with runtime.session() as s:
        [root] = [r for r in taxii.list_api_roots(s) if r.slug == ROOT]
        assert root.is_default
        collections = {c.alias: c for c in taxii.list_collections(s)}
        assert collections["camera-botnet"].multi_city
        # Ensenada's bundle and our published indicator (with its marking) are in it
        assert collections["camera-botnet"].object_count >= len(
            peer_bundle(PEERS[0], NOW)["objects"]
        )
        assert {m.username for m in taxii.list_members(s)} == {"ensenada", "mexicali"}
        page = intel.list_indicators(s, intel.IndicatorFilter(), now=clock.now())
        names = {i.name for i in page.items}
        assert {
            "Kraken IoT loader host",
            "Kraken IoT C2 domain",
            "Kraken IoT report endpoint",
        } <= names
        assert all(i.state == "active" for i in page.items)
        members = {
            p.detail.get("member") or p.detail.get("peer")
            for p in s.scalars(select(IntelProvenance))
        }
        assert {"ensenada", "Mexicali"} <= members
        sub = s.scalars(select(IntelSubscription)).one()
        assert not sub.pull and sub.last_pull_at is not None
        statuses = sorted(p.status for p in sharing.list_publications(s, limit=10)[0])
        assert statuses == ["awaiting_approval", "published"]
    with runtime.session() as s:
        assert load_demo_intel(s, runtime.settings, clock=clock) == ["demo intel already loaded"]
        assert s.scalar(select(func.count()).select_from(IntelSubscription)) == 1
