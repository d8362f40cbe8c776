"""What the demo's two peer cities share about the camera botnet, as STIX 2.1 bundles.

The values are the demo telemetry's botnet infrastructure (documentation addresses of RFC 5737
and names under `.example`, so nothing real), so continuous detection over the demo city's
traffic finds them. Ids are stable (UUIDv5) so loading the demo twice changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from civicshield.core import Tlp
from civicshield.intel.tlp import marking_definition, marking_id

__all__ = ["PEERS", "DemoPeer", "our_indicator", "peer_bundle"]

_NS = uuid.UUID("6f0d3c52-2f4e-4f55-9a0e-4b8d1c2a7e10")
_MALWARE = f"malware--{uuid.uuid5(_NS, 'kraken-iot')}"
_KILL_CHAIN = "lockheed-martin-cyber-kill-chain"


@dataclass(frozen=True)
class DemoPeer:
    key: str
    city: str
    indicators: list[tuple[str, str, str, int]]  # (name, pattern, kill-chain phase, confidence)

    @property
    def identity_id(self) -> str:
        return f"identity--{uuid.uuid5(_NS, self.key)}"


PEERS = (
    DemoPeer(
        "ensenada",
        "Ensenada",
        [
            ("Kraken IoT loader host", "[ipv4-addr:value = '192.0.2.45']", "delivery", 90),
            (
                "Kraken IoT payload URL",
                "[url:value = 'http://192.0.2.45/bins/kraken.arm7']",
                "delivery",
                85,
            ),
            (
                "Kraken IoT telnet brute-force sources",
                "[ipv4-addr:value ISSUBSET '192.0.2.0/27']",
                "exploitation",
                60,
            ),
        ],
    ),
    DemoPeer(
        "mexicali",
        "Mexicali",
        [
            (
                "Kraken IoT C2 domain",
                "[domain-name:value = 'kraken-iot.example']",
                "command-and-control",
                80,
            ),
            (
                "Kraken IoT telnet C2",
                "[network-traffic:dst_ref.value = '192.0.2.66' AND network-traffic:dst_port = 23]",
                "command-and-control",
                75,
            ),
        ],
    ),
)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _indicator(
    peer: DemoPeer, name: str, pattern: str, phase: str, confidence: int, at: datetime
) -> dict[str, Any]:
    stamp = _stamp(at)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(_NS, peer.key + pattern)}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": peer.identity_id,
        "name": name,
        "description": f"Seen by {peer.city} during the Kraken IoT camera botnet campaign.",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        "valid_until": _stamp(at + timedelta(days=60)),
        "confidence": confidence,
        "labels": ["camera-botnet", "iot"],
        "kill_chain_phases": [{"kill_chain_name": _KILL_CHAIN, "phase_name": phase}],
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }


def peer_bundle(peer: DemoPeer, at: datetime) -> dict[str, Any]:
    """`peer`'s bundle: its identity, the TLP:GREEN marking, the malware and the indicators
    that indicate it."""
    stamp = _stamp(at)
    identity = {
        "type": "identity", "spec_version": "2.1", "id": peer.identity_id, "created": stamp,
        "modified": stamp, "name": f"Municipality of {peer.city}",
        "identity_class": "organization", "sectors": ["government-local"],
    }  # fmt: skip
    malware = {
        "type": "malware", "spec_version": "2.1", "id": _MALWARE, "created": stamp,
        "modified": stamp, "name": "Kraken IoT", "is_family": True,
        "malware_types": ["bot"], "object_marking_refs": [marking_id(Tlp.GREEN)],
    }  # fmt: skip
    objects: list[dict[str, Any]] = [identity, marking_definition(Tlp.GREEN), malware]
    for name, pattern, phase, confidence in peer.indicators:
        indicator = _indicator(peer, name, pattern, phase, confidence, at)
        objects.append(indicator)
        objects.append({
            "type": "relationship", "spec_version": "2.1",
            "id": f"relationship--{uuid.uuid5(_NS, indicator['id'] + 'indicates')}",
            "created": stamp, "modified": stamp, "relationship_type": "indicates",
            "source_ref": indicator["id"], "target_ref": _MALWARE,
            "created_by_ref": peer.identity_id, "object_marking_refs": [marking_id(Tlp.GREEN)],
        })  # fmt: skip
    return {"type": "bundle", "id": f"bundle--{uuid.uuid5(_NS, peer.key)}", "objects": objects}


def our_indicator(at: datetime, created_by: str) -> dict[str, Any]:
    """What our city adds: the botnet's report endpoint, seen only in our traffic."""
    stamp = _stamp(at)
    pattern = "[network-traffic:dst_ref.value = '192.0.2.67' AND network-traffic:dst_port = 48101]"
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(_NS, 'ours' + pattern)}", "created": stamp,
        "modified": stamp, "created_by_ref": created_by, "name": "Kraken IoT report endpoint",
        "description": "Compromised city cameras report to this address after infection.",
        "indicator_types": ["malicious-activity"], "pattern": pattern, "pattern_type": "stix",
        "valid_from": stamp, "confidence": 85, "labels": ["camera-botnet", "iot"],
        "kill_chain_phases": [
            {"kill_chain_name": _KILL_CHAIN, "phase_name": "actions-on-objectives"}
        ],
        "object_marking_refs": [marking_id(Tlp.GREEN)],
    }  # fmt: skip
