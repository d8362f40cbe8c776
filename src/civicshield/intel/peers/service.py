"""Peers (a city's TAXII server we read from and publish to): add, list, find, remove,
probe. Functions flush; the caller
commits. Changes are audited, never with the secret."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, ExternalServiceError, FieldError, Invalid, NotFound
from civicshield.core.settings import Settings
from civicshield.intel.models import IntelPeer, IntelSubscription
from civicshield.intel.peers.client import PeerAuth
from civicshield.intel.peers.probe import probe
from civicshield.intel.peers.schemas import (
    PeerCreate,
    PeerRead,
)
from civicshield.intel.peers.secrets import open_secret, seal_secret

__all__ = [
    "add_peer",
    "find_peer",
    "list_peers",
    "load_peer",
    "peer_auth",
    "peer_read",
    "probe_peer",
    "remove_peer",
]


def peer_read(peer: IntelPeer) -> PeerRead:
    return PeerRead(
        id=peer.id,
        name=peer.name,
        city=peer.city,
        discovery_url=peer.discovery_url,
        auth=peer.auth,
        username=peer.username,
        has_secret=bool(peer.secret_box),
        approved_at=peer.approved_at,
        approved_by=peer.approved_by,
        last_probe=peer.last_probe or {},
        last_error=peer.last_error,
        created_at=peer.created_at,
    )


def load_peer(session: Session, peer_id: int) -> IntelPeer:
    peer = session.get(IntelPeer, peer_id)
    if peer is None:
        raise NotFound(f"no peer with id {peer_id}")
    return peer


def find_peer(session: Session, ref: str) -> PeerRead:
    """A peer by id or by name."""
    peer = session.get(IntelPeer, int(ref)) if ref.isdigit() else None
    peer = peer or session.scalar(select(IntelPeer).where(IntelPeer.name == ref))
    if peer is None:
        raise NotFound(f"no peer named {ref!r}")
    return peer_read(peer)


def peer_auth(session: Session, peer_id: int, *, settings: Settings) -> PeerAuth:
    peer = load_peer(session, peer_id)
    secret = open_secret(settings, peer.secret_box, peer=peer.name)
    return PeerAuth(kind=peer.auth, username=peer.username, secret=secret)


def add_peer(
    session: Session, data: PeerCreate, *, settings: Settings, actor: Actor, clock: Clock
) -> PeerRead:
    name = data.name.strip()
    if session.scalar(select(func.count()).where(IntelPeer.name == name)):
        raise Conflict(f"a peer named {name!r} already exists")
    secret = data.secret.get_secret_value()
    if data.auth == "basic" and not (data.username and secret):
        raise Invalid(
            "HTTP Basic needs a username and a password",
            [FieldError(("body", "username"), "required with auth 'basic'")],
        )
    if data.auth == "token" and not secret:
        raise Invalid("a token is required", [FieldError(("body", "secret"), "required")])
    peer = IntelPeer(
        name=name,
        city=data.city,
        discovery_url=data.discovery_url,
        auth=data.auth,
        username=data.username if data.auth == "basic" else "",
        secret_box=seal_secret(settings, secret, peer=name),
        last_probe={},
        last_error="",
        created_at=clock.now(),
    )
    session.add(peer)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intel.peer.add",
        entity_type="intel_peer",
        entity_id=peer.id,
        clock=clock,
        summary=f"added peer {name} ({data.discovery_url}, auth {data.auth})",
        changes={"name": name, "discovery_url": data.discovery_url, "auth": data.auth},
    )
    return peer_read(peer)


def list_peers(session: Session) -> list[PeerRead]:
    return [peer_read(p) for p in session.scalars(select(IntelPeer).order_by(IntelPeer.name))]


def remove_peer(session: Session, peer_id: int, *, actor: Actor, clock: Clock) -> None:
    """Remove a peer and its subscriptions; what was pulled from it stays (with provenance)."""
    peer = load_peer(session, peer_id)
    # subscriptions first, in their own statement: the unit of work does not order them
    session.execute(delete(IntelSubscription).where(IntelSubscription.peer_id == peer_id))
    session.delete(peer)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intel.peer.remove",
        entity_type="intel_peer",
        entity_id=peer_id,
        clock=clock,
        summary=f"removed peer {peer.name} and its subscriptions",
    )


def probe_peer(
    session: Session, peer_id: int, *, settings: Settings, clock: Clock, backoff_factor: float = 0.5
) -> PeerRead:
    """Probe the peer's server and record the result (`last_probe`) or the error
    (`last_error`) on it; never raises for the server's failures."""
    peer = load_peer(session, peer_id)
    auth = peer_auth(session, peer_id, settings=settings)
    try:
        result = probe(peer.discovery_url, auth, settings=settings, backoff_factor=backoff_factor)
    except ExternalServiceError as exc:
        peer.last_error = exc.detail
        peer.last_probe = {**(peer.last_probe or {}), "failed_at": clock.now().isoformat()}
    else:
        peer.last_error = ""
        peer.last_probe = {**result.as_dict(), "at": clock.now().isoformat()}
    session.flush()
    return peer_read(peer)
