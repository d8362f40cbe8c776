"""Subscriptions to peers' collections: subscribe (after a probe), list, show, remove. Each
has an IntelSource (kind "taxii", location = the collection URL) keeping the pull state."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.core.settings import Settings
from civicshield.intel.models import IntelPeer, IntelSource, IntelSubscription
from civicshield.intel.peers.probe import probe
from civicshield.intel.peers.schemas import PeerDetail, SubscriptionCreate, SubscriptionRead
from civicshield.intel.peers.service import load_peer, peer_auth, peer_read
from civicshield.intel.store import source_for

__all__ = [
    "collection_url",
    "get_peer",
    "get_subscription",
    "list_subscriptions",
    "remove_subscription",
    "split_collection_url",
    "subscribe",
]

_COLLECTION_URL = re.compile(r"^(https?://.+/)collections/([^/]+)/?$")


def collection_url(api_root_url: str, collection_id: str) -> str:
    return f"{api_root_url.rstrip('/')}/collections/{collection_id}/"


def split_collection_url(url: str) -> tuple[str, str]:
    """`https://peer/root/collections/ID/` -> (`https://peer/root/`, `ID`)."""
    m = _COLLECTION_URL.match(url.strip())
    if not m:
        raise Invalid(
            f"{url!r} is not a collection URL (expected <api root>/collections/<id>/)",
            [FieldError(("collection_url",), "expected <api root>/collections/<id>/")],
        )
    return m.group(1), m.group(2)


def _sub_read(
    sub: IntelSubscription, peer: IntelPeer, source: IntelSource | None
) -> SubscriptionRead:
    state = source.state if source else {}
    return SubscriptionRead(
        id=sub.id,
        peer_id=sub.peer_id,
        peer_name=peer.name,
        api_root_url=sub.api_root_url,
        collection_id=sub.collection_id,
        collection_url=collection_url(sub.api_root_url, sub.collection_id),
        title=sub.title,
        can_read=sub.can_read,
        can_write=sub.can_write,
        multi_city=sub.multi_city,
        pull=sub.pull,
        source_id=sub.source_id,
        added_after=state.get("added_after"),
        counts=dict(source.counts) if source else {},
        last_pull_at=sub.last_pull_at,
        last_push_at=sub.last_push_at,
        last_error=sub.last_error,
        created_at=sub.created_at,
    )


def list_subscriptions(session: Session, *, peer_id: int | None = None) -> list[SubscriptionRead]:
    query = (
        select(IntelSubscription, IntelPeer, IntelSource)
        .join(IntelPeer, IntelPeer.id == IntelSubscription.peer_id)
        .outerjoin(IntelSource, IntelSource.id == IntelSubscription.source_id)
        .order_by(IntelSubscription.id)
    )
    if peer_id is not None:
        query = query.where(IntelSubscription.peer_id == peer_id)
    return [_sub_read(s, p, src) for s, p, src in session.execute(query)]


def get_peer(session: Session, peer_id: int) -> PeerDetail:
    peer = load_peer(session, peer_id)
    subs = list_subscriptions(session, peer_id=peer_id)
    return PeerDetail(**peer_read(peer).model_dump(), subscriptions=subs)


def subscribe(
    session: Session,
    data: SubscriptionCreate,
    *,
    settings: Settings,
    actor: Actor,
    clock: Clock,
    backoff_factor: float = 0.5,
) -> SubscriptionRead:
    """Subscribe to a peer's collection after a probe confirms it exists and what we may do
    there; its IntelSource (kind "taxii", location = the collection URL) keeps the pull state."""
    peer = load_peer(session, data.peer_id)
    root_url = data.api_root_url.rstrip("/") + "/"
    exists = session.scalar(
        select(IntelSubscription).where(
            IntelSubscription.peer_id == peer.id,
            IntelSubscription.api_root_url == root_url,
            IntelSubscription.collection_id == data.collection_id,
        )
    )
    if exists is not None:
        raise Conflict(f"already subscribed (subscription {exists.id})")
    auth = peer_auth(session, peer.id, settings=settings)
    result = probe(peer.discovery_url, auth, settings=settings, backoff_factor=backoff_factor)
    found = result.find(data.api_root_url, data.collection_id)
    if found is None:
        raise Invalid(
            f"peer {peer.name!r} has no collection {data.collection_id!r} under "
            f"{data.api_root_url} that we can see",
            [FieldError(("body", "collection_id"), "not found by the probe")],
        )
    if data.pull and not found.can_read:
        raise Invalid(
            f"we may not read collection {data.collection_id!r}: subscribe with pull off",
            [FieldError(("body", "pull"), "the collection is not readable for us")],
        )
    url = collection_url(data.api_root_url, data.collection_id)
    now = clock.now()
    source = source_for(
        session, kind="taxii", name=f"{peer.name}: {found.title or url}", location=url, now=now
    )
    sub = IntelSubscription(
        peer_id=peer.id,
        api_root_url=root_url,
        collection_id=data.collection_id,
        title=found.title,
        can_read=found.can_read,
        can_write=found.can_write,
        multi_city=data.multi_city,
        pull=data.pull,
        source_id=source.id,
        last_error="",
        created_at=now,
    )
    session.add(sub)
    peer.last_probe = {**result.as_dict(), "at": now.isoformat()}
    peer.last_error = ""
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intel.subscription.add",
        entity_type="intel_subscription",
        entity_id=sub.id,
        clock=clock,
        summary=f"subscribed to {url} of peer {peer.name}",
        changes={"collection_url": url, "pull": data.pull, "multi_city": data.multi_city},
    )
    return _sub_read(sub, peer, source)


def get_subscription(session: Session, subscription_id: int) -> SubscriptionRead:
    sub = session.get(IntelSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    source = session.get(IntelSource, sub.source_id) if sub.source_id else None
    return _sub_read(sub, load_peer(session, sub.peer_id), source)


def remove_subscription(
    session: Session, subscription_id: int, *, actor: Actor, clock: Clock
) -> None:
    sub = session.get(IntelSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    url = collection_url(sub.api_root_url, sub.collection_id)
    session.delete(sub)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intel.subscription.remove",
        entity_type="intel_subscription",
        entity_id=subscription_id,
        clock=clock,
        summary=f"unsubscribed from {url}",
    )
