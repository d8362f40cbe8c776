"""Peers: other cities' TAXII 2.1 servers. Their secrets sealed at rest, probing (discovery ->
API roots -> collections and our permissions), subscriptions to their collections,
incremental pulls with provenance, pushes, and the `intel.pull` job."""

from civicshield.intel.peers.client import RETRY_STATUSES, PeerAuth, retry_policy
from civicshield.intel.peers.jobs import JOBS, PULL_JOB
from civicshield.intel.peers.probe import CollectionInfo, ProbeResult, RootInfo, probe
from civicshield.intel.peers.pull import due_subscriptions, pull_subscription
from civicshield.intel.peers.push import push_objects
from civicshield.intel.peers.schemas import (
    PeerCreate,
    PeerDetail,
    PeerRead,
    PullResult,
    PushResult,
    SubscriptionCreate,
    SubscriptionRead,
)
from civicshield.intel.peers.secrets import open_secret, seal_secret
from civicshield.intel.peers.service import add_peer, find_peer, list_peers, probe_peer, remove_peer
from civicshield.intel.peers.subscriptions import (
    collection_url,
    get_peer,
    get_subscription,
    list_subscriptions,
    remove_subscription,
    split_collection_url,
    subscribe,
)

__all__ = [
    "JOBS",
    "PULL_JOB",
    "RETRY_STATUSES",
    "CollectionInfo",
    "PeerAuth",
    "PeerCreate",
    "PeerDetail",
    "PeerRead",
    "ProbeResult",
    "PullResult",
    "PushResult",
    "RootInfo",
    "SubscriptionCreate",
    "SubscriptionRead",
    "add_peer",
    "collection_url",
    "due_subscriptions",
    "find_peer",
    "get_peer",
    "get_subscription",
    "list_peers",
    "list_subscriptions",
    "open_secret",
    "probe",
    "probe_peer",
    "pull_subscription",
    "push_objects",
    "remove_peer",
    "remove_subscription",
    "retry_policy",
    "seal_secret",
    "split_collection_url",
    "subscribe",
]
