"""`/api/v1/intel/peers` and `/api/v1/intel/subscriptions`: other cities' TAXII servers and
our subscriptions to their collections (intel:read to see, intel:manage to change, probe
and pull). Secrets are write-only: a peer says `has_secret`, never the secret."""

from __future__ import annotations

from fastapi import Depends, Query, Response

from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.intel import peers
from civicshield.intel.peers import (
    PeerCreate,
    PeerDetail,
    PeerRead,
    PullResult,
    SubscriptionCreate,
    SubscriptionRead,
)

__all__ = ["router"]

router = resource_router("/intel", "intel")
READ = [Depends(require(Permission.INTEL_READ))]
MANAGE = [Depends(require(Permission.INTEL_MANAGE))]


@router.get("/peers", dependencies=READ, summary="List peers")
def list_intel_peers(session: SessionDep) -> list[PeerRead]:
    """Peer cities' TAXII servers, by name, with their approval and last probe."""
    return peers.list_peers(session)


@router.post(
    "/peers", dependencies=MANAGE, status_code=201, responses=problems(409), summary="Add a peer"
)
def add_intel_peer(
    body: PeerCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> PeerRead:
    """`secret` is the password (auth `basic`) or API token (auth `token`); it is stored
    encrypted and never shown again."""
    return peers.add_peer(
        session, body, settings=runtime.settings, actor=principal.actor, clock=runtime.clock
    )


@router.get("/peers/{peer_id}", dependencies=READ, responses=problems(404), summary="One peer")
def get_intel_peer(peer_id: int, session: SessionDep) -> PeerDetail:
    """The peer, its last probe (API roots, collections, our permissions) and subscriptions."""
    return peers.get_peer(session, peer_id)


@router.delete(
    "/peers/{peer_id}",
    dependencies=MANAGE,
    status_code=204,
    responses=problems(404),
    summary="Remove a peer",
)
def remove_intel_peer(
    peer_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """With its subscriptions; what was pulled from it stays, with its provenance."""
    peers.remove_peer(session, peer_id, actor=principal.actor, clock=runtime.clock)
    return Response(status_code=204)


@router.post(
    "/peers/{peer_id}/probe",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Probe a peer's TAXII server",
)
def probe_intel_peer(peer_id: int, session: SessionDep, runtime: RuntimeDep) -> PeerRead:
    """Discovery -> API roots -> collections with `can_read`/`can_write`, recorded on the
    peer (`last_probe`); a failure (unreachable, 401, not TAXII) is in `last_error`."""
    return peers.probe_peer(session, peer_id, settings=runtime.settings, clock=runtime.clock)


@router.get("/subscriptions", dependencies=READ, summary="List subscriptions")
def list_intel_subscriptions(
    session: SessionDep,
    peer_id: int | None = Query(default=None, description="Only this peer's."),
) -> list[SubscriptionRead]:
    """Each with its pull state (`added_after`), last pull counts and error."""
    return peers.list_subscriptions(session, peer_id=peer_id)


@router.post(
    "/subscriptions",
    dependencies=MANAGE,
    status_code=201,
    responses=problems(404, 409, 502),
    summary="Subscribe to a peer's collection",
)
def add_intel_subscription(
    body: SubscriptionCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> SubscriptionRead:
    """The peer is probed first: the collection must exist, and be readable when `pull`."""
    return peers.subscribe(
        session, body, settings=runtime.settings, actor=principal.actor, clock=runtime.clock
    )


@router.get(
    "/subscriptions/{subscription_id}",
    dependencies=READ,
    responses=problems(404),
    summary="One subscription",
)
def get_intel_subscription(subscription_id: int, session: SessionDep) -> SubscriptionRead:
    return peers.get_subscription(session, subscription_id)


@router.delete(
    "/subscriptions/{subscription_id}",
    dependencies=MANAGE,
    status_code=204,
    responses=problems(404),
    summary="Remove a subscription",
)
def remove_intel_subscription(
    subscription_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    peers.remove_subscription(session, subscription_id, actor=principal.actor, clock=runtime.clock)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/pull",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Pull a subscription now",
)
def pull_intel_subscription(
    subscription_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> PullResult:
    """Incremental (`added_after`), across pages; `ok` false with `error` when the peer
    failed (what was pulled before the failure is kept)."""
    return peers.pull_subscription(
        session,
        subscription_id,
        settings=runtime.settings,
        actor=principal.actor,
        clock=runtime.clock,
    )
