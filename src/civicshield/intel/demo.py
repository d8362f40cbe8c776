"""The demo city's threat intel: two peer cities share indicators about the camera botnet.

Our TAXII server gets a trust group (API root `border-cities`) with a multi-city collection
about the botnet and one for sightings; Ensenada and Mexicali are its members. Ensenada pushed
its indicators into our collection (imported with that provenance); we subscribe to Mexicali's
collection (a peer record whose server is not reachable from the demo: its last pull is
recorded as if it had happened, and scheduled pulls are off). We add what only our traffic
showed (the botnet's report endpoint) and publish it to the multi-city collection under the
sharing policy; the same indicator prepared for Mexicali waits for a second person's approval,
because it would be our first publication to that peer.

Loaded before the telemetry demo (its alerts over the history then include the indicator
hits, and their sightings). Loading again adds nothing (the API root is the marker)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.accounts import AccountsConfig
from civicshield.core import Actor, Clock, Tlp
from civicshield.core.settings import Settings
from civicshield.intel import sharing, taxii
from civicshield.intel.demo_bundles import PEERS, DemoPeer, our_indicator, peer_bundle
from civicshield.intel.imports import import_stix
from civicshield.intel.models import IntelPeer, IntelSource, IntelSubscription
from civicshield.intel.peers import seal_secret
from civicshield.intel.sightings import city_identity_id

__all__ = ["ROOT", "load_demo_intel"]

ROOT = "border-cities"
DEMO = Actor(kind="system", name="demo")
ANALYST = Actor(kind="user", name="analyst")
_MEXICALI_URL = "https://taxii.mexicali.example/taxii2/"
_MEXICALI_ROOT = "https://taxii.mexicali.example/taxii2/baja-california/"
_MEXICALI_COLLECTION = "5b0d5c1e-7a51-4e8b-9f3d-2c6e0a4b7d11"


def _base(settings: Settings) -> str:
    return (settings.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def _server(session: Session, settings: Settings, now: datetime) -> tuple[str, str]:
    """Our trust group: the root, two collections, the two peer cities' member accounts."""
    taxii.create_api_root(
        session, ROOT, "Border cities trust group", now=now, is_default=True, actor=DEMO,
        description="Baja California municipalities sharing what they see (demo).",
        max_content_length=settings.taxii_max_content_length,
    )  # fmt: skip
    botnet = taxii.create_collection(
        session, ROOT, "Camera botnet indicators", now=now, can_read=True, can_write=False,
        description="Indicators about IoT botnets attacking city cameras.", topic="cameras",
        tlp=Tlp.AMBER, multi_city=True, alias="camera-botnet", actor=DEMO,
    )  # fmt: skip
    taxii.create_collection(
        session, ROOT, "Sightings", now=now, can_read=True, can_write=False,
        description="What each city saw of the shared indicators.", topic="sightings",
        tlp=Tlp.AMBER, multi_city=True, alias="sightings", actor=DEMO,
    )  # fmt: skip
    hasher = AccountsConfig.from_settings(settings).hasher
    for peer in PEERS:
        # Random passwords nobody knows: an administrator sets real ones with
        # `civicshield intel taxii member-add` (see docs/taxii.md).
        taxii.create_member(
            session, peer.key, secrets.token_urlsafe(24), hasher=hasher, city=peer.city,
            api_root_slugs=[ROOT], now=now, actor=DEMO,
        )  # fmt: skip
        taxii.set_grant(session, peer.key, botnet.uuid, can_read=True, can_write=True, now=now)
    return botnet.uuid, f"{_base(settings)}/taxii2/{ROOT}/collections/{botnet.uuid}/"


def _ensenada_pushed(
    session: Session, peer: DemoPeer, collection: str, url: str, clock: Clock, at: datetime
) -> int:
    """Ensenada added its bundle to our collection, as its TAXII client would."""
    objects = peer_bundle(peer, at)["objects"]
    taxii.add_objects(session, collection, objects, added_by=peer.key, now=at)
    report = import_stix(
        session, {"type": "bundle", "id": f"bundle--{peer.identity_id[10:]}", "objects": objects},
        location=url, actor=Actor(kind="taxii", name=peer.key), clock=clock, kind="taxii",
        name="Camera botnet indicators",
        provenance={"member": peer.key, "collection_url": url, "added": "pushed"},
    )  # fmt: skip
    return report.new


def _mexicali_pulled(
    session: Session, settings: Settings, peer: DemoPeer, clock: Clock, at: datetime
) -> int:
    """Mexicali is a peer we subscribe to; its last pull is recorded as if it had run."""
    row = IntelPeer(
        name=peer.city, city=peer.city, discovery_url=_MEXICALI_URL, auth="basic",
        username="ciudad-demo", created_at=at,
        last_error="demo peer: its server is not reachable from the demo (pulls are off)",
    )  # fmt: skip
    session.add(row)
    session.flush()
    row.secret_box = seal_secret(settings, secrets.token_urlsafe(24), peer=row.name)
    url = f"{_MEXICALI_ROOT}collections/{_MEXICALI_COLLECTION}/"
    report = import_stix(
        session, peer_bundle(peer, at), location=url, actor=DEMO, clock=clock, kind="taxii",
        name=f"{peer.city}: Kraken IoT",
        provenance={"peer": peer.city, "peer_id": row.id, "collection_url": url,
                    "date_added_first": at.isoformat(), "date_added_last": at.isoformat()},
    )  # fmt: skip
    source = session.scalar(
        select(IntelSource).where(IntelSource.kind == "taxii", IntelSource.location == url)
    )
    assert source is not None
    source.state = {"added_after": at.isoformat()}
    session.add(
        IntelSubscription(
            peer_id=row.id, api_root_url=_MEXICALI_ROOT, collection_id=_MEXICALI_COLLECTION,
            title="Kraken IoT (Mexicali)", can_read=True, can_write=True, multi_city=False,
            pull=False, source_id=source.id, last_pull_at=at, created_at=at,
        )
    )  # fmt: skip
    session.flush()
    return report.new


def _publish_ours(
    session: Session, settings: Settings, collection: str, clock: Clock, at: datetime
) -> list[str]:
    identity = city_identity_id(settings.city_name)
    ours = our_indicator(at, identity)
    import_stix(
        session, {"type": "bundle", "id": f"bundle--{ours['id'][11:]}", "objects": [ours]},
        location="local:demo", actor=ANALYST, clock=clock, name="Our indicators",
    )  # fmt: skip
    now = clock.now()
    sent = sharing.prepare(
        session, [ours["id"]], sharing.PublicationTarget(collection_uuid=collection),
        actor=ANALYST, settings=settings, now=now,
    )  # fmt: skip
    sent = sharing.publish(session, sent.id, actor=ANALYST, settings=settings, now=now)
    sub = session.scalar(select(IntelSubscription.id))
    waiting = sharing.prepare(
        session, [ours["id"]], sharing.PublicationTarget(subscription_id=sub),
        actor=ANALYST, settings=settings, now=now,
    )  # fmt: skip
    return [
        f"our report-endpoint indicator published to the multi-city collection ({sent.status})",
        f"publication {waiting.id} to Mexicali is {waiting.status.replace('_', ' ')} "
        "(first publication to that peer: a second person approves it on /intel/publish)",
    ]


def load_demo_intel(session: Any, settings: Settings, *, clock: Clock) -> list[str]:
    if any(root.slug == ROOT for root in taxii.list_api_roots(session)):
        return ["demo intel already loaded"]
    at = clock.now() - timedelta(days=4)  # shared before the botnet reached us
    collection, url = _server(session, settings, at)
    ensenada, mexicali = PEERS
    received = _ensenada_pushed(session, ensenada, collection, url, clock, at)
    pulled = _mexicali_pulled(session, settings, mexicali, clock, at + timedelta(hours=6))
    notes = [
        f"demo intel: TAXII trust group /taxii2/{ROOT}/ with members ensenada and mexicali; "
        f"{received} objects pushed by Ensenada, {pulled} pulled from Mexicali",
    ]
    return notes + _publish_ours(session, settings, collection, clock, at)
