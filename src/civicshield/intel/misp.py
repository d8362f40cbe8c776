"""MISP events to STIX 2.1 (pure). Each attribute flagged `to_ids` (top level or inside an
Object) becomes one indicator whose id is derived from the attribute's uuid, so importing the
same event again gives the same objects (unchanged, or a new version when the attribute's
`timestamp` moved). The event's creator organisation becomes an `identity` (`created_by_ref`).

Attribute type -> STIX pattern (STIX 2.1 Part 5; the choices follow MISP's misp-stix where it
keeps the indicator matchable):
  ip-src, ip-dst               [ipv4-addr:value = 'v'] (ipv6-addr when the value has ':')
  ip-src|port, ip-dst|port     [network-traffic:dst_ref.value = 'ip' AND
                                network-traffic:dst_port = p] (src_ref/src_port for
                                ip-src|port): matched when one flow carries both (lookup
                                kinds dst_ip_port / src_ip_port)
  domain, hostname             [domain-name:value = 'v']
  url                          [url:value = 'v']
  md5, sha1, sha256            [file:hashes.MD5 = 'v'], 'SHA-1', 'SHA-256'
  filename|md5 (sha1, sha256)  the hash alone (the file name goes into the indicator's name)
  email, email-src, email-dst  [email-addr:value = 'v']
  filename                     [file:name = 'v'] (kept, not matchable)
  regkey, regkey|value         [windows-registry-key:key = 'k'] (kept, not matchable)
Other types (`domain|ip` and `hostname|port` among them: STIX has no single-object form for
them that one event can be matched against) are refused with the reason. Markings: a `tlp:*`
tag (attribute first, then event; tlp:white reads as CLEAR) wins; otherwise the distribution
level: 0 (organisation only) -> AMBER+STRICT, 1 (community) and 4 (sharing group) -> AMBER,
2 (connected communities) -> GREEN, 3 (all) -> CLEAR; 5 (inherit) takes the event's. Other
tags become `labels`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from civicshield.core.enums import Tlp
from civicshield.intel.report import ImportReport
from civicshield.intel.tlp import marking_id

__all__ = ["MISP_TYPES", "event_to_stix", "tlp_of_misp"]

_NS = uuid.UUID("6f4e0b39-33a9-4a0c-9a8e-2a4c1f3b7d10")  # our namespace for derived ids
_HASHES = {"md5": "MD5", "sha1": "'SHA-1'", "sha256": "'SHA-256'"}
MISP_TYPES = (
    "domain", "email", "email-dst", "email-src", "filename", "filename|md5", "filename|sha1",
    "filename|sha256", "hostname", "ip-dst", "ip-dst|port", "ip-src", "ip-src|port", "md5",
    "regkey", "regkey|value", "sha1", "sha256", "url",
)  # fmt: skip
_TAG_TLP = {
    "tlp:white": Tlp.CLEAR,
    "tlp:clear": Tlp.CLEAR,
    "tlp:green": Tlp.GREEN,
    "tlp:amber": Tlp.AMBER,
    "tlp:amber+strict": Tlp.AMBER_STRICT,
    "tlp:red": Tlp.RED,
}
_DISTRIBUTION = {0: Tlp.AMBER_STRICT, 1: Tlp.AMBER, 2: Tlp.GREEN, 3: Tlp.CLEAR, 4: Tlp.AMBER}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ip_object(value: str) -> str:
    return "ipv6-addr" if ":" in value else "ipv4-addr"


def pattern_for(kind: str, value: str) -> str:
    """The STIX pattern of one MISP attribute; ValueError when the type has no mapping."""
    if kind in ("ip-src", "ip-dst"):
        return f"[{_ip_object(value)}:value = {_quote(value)}]"
    if kind in ("ip-src|port", "ip-dst|port"):
        ip, _, port = value.rpartition("|")
        if not port.isdigit():
            raise ValueError(f"{kind} value {value!r} has no port after '|'")
        side = "src" if kind.startswith("ip-src") else "dst"
        return (
            f"[network-traffic:{side}_ref.value = {_quote(ip)} AND "
            f"network-traffic:{side}_port = {int(port)}]"
        )
    if kind in ("domain", "hostname"):
        return f"[domain-name:value = {_quote(value)}]"
    if kind == "url":
        return f"[url:value = {_quote(value)}]"
    if kind in _HASHES:
        return f"[file:hashes.{_HASHES[kind]} = {_quote(value)}]"
    if kind.startswith("filename|") and kind[9:] in _HASHES:
        return f"[file:hashes.{_HASHES[kind[9:]]} = {_quote(value.rpartition('|')[2])}]"
    if kind in ("email", "email-src", "email-dst"):
        return f"[email-addr:value = {_quote(value)}]"
    if kind == "filename":
        return f"[file:name = {_quote(value)}]"
    if kind in ("regkey", "regkey|value"):
        return f"[windows-registry-key:key = {_quote(value.partition('|')[0])}]"
    raise ValueError(f"MISP type {kind!r} has no STIX pattern mapping")


def _tags(container: dict[str, Any]) -> list[str]:
    return [str(t.get("name", "")) for t in container.get("Tag", []) if isinstance(t, dict)]


def tlp_of_misp(tags: list[str], distribution: Any) -> Tlp | None:
    found = [_TAG_TLP[t.lower()] for t in tags if t.lower() in _TAG_TLP]
    if found:
        return max(found, key=lambda level: list(Tlp).index(level))
    try:
        return _DISTRIBUTION.get(int(distribution))
    except (TypeError, ValueError):
        return None


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return fallback


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _attributes(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"$.Event.Attribute[{i}]", a) for i, a in enumerate(event.get("Attribute", []))]
    for j, obj in enumerate(event.get("Object", []) or []):
        for i, a in enumerate(obj.get("Attribute", []) if isinstance(obj, dict) else []):
            found.append((f"$.Event.Object[{j}].Attribute[{i}]", a))
    return found


def event_to_stix(data: Any, report: ImportReport) -> list[tuple[str, dict[str, Any]]]:
    """(JSON path, STIX object) for the event's identity and its `to_ids` attributes; the
    attributes without `to_ids` count as skipped, unmappable ones are refused."""
    event = data.get("Event", data) if isinstance(data, dict) else None
    if not isinstance(event, dict) or ("Attribute" not in event and "uuid" not in event):
        raise ValueError("not a MISP event: expected {'Event': {...}} with 'uuid' and 'Attribute'")
    event_time = _time(event.get("timestamp"), datetime(1970, 1, 1, tzinfo=UTC))
    event_tags = _tags(event)
    event_tlp = tlp_of_misp(event_tags, event.get("distribution"))
    out: list[tuple[str, dict[str, Any]]] = []
    creator = None
    orgc = event.get("Orgc")
    if isinstance(orgc, dict) and orgc.get("uuid"):
        creator = f"identity--{orgc['uuid']}"
        out.append(("$.Event.Orgc", {
            "type": "identity", "spec_version": "2.1", "id": creator,
            "created": _stamp(event_time), "modified": _stamp(event_time),
            "name": str(orgc.get("name", "")), "identity_class": "organization",
        }))  # fmt: skip
    for path, attr in _attributes(event):
        if not isinstance(attr, dict) or not attr.get("to_ids"):
            report.skipped += 1
            continue
        kind, value = str(attr.get("type", "")), str(attr.get("value", ""))
        try:
            pattern = pattern_for(kind, value)
        except ValueError as exc:
            report.read += 1
            report.refuse(path, str(exc))
            continue
        when = _time(attr.get("timestamp"), event_time)
        tags = _tags(attr) + event_tags
        dist = attr.get("distribution")
        tlp = tlp_of_misp(_tags(attr), dist) if str(dist) != "5" else None
        tlp = tlp or (tlp_of_misp(tags, None) or event_tlp)
        ident = attr.get("uuid") or str(uuid.uuid5(_NS, f"{event.get('uuid')}:{kind}:{value}"))
        name = f"{kind}: {value}" if "|" not in kind else f"{kind}: {value.replace('|', ' ')}"
        indicator: dict[str, Any] = {
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{ident}",
            "created": _stamp(when), "modified": _stamp(when), "name": name[:500],
            "pattern": pattern, "pattern_type": "stix", "valid_from": _stamp(when),
        }  # fmt: skip
        if attr.get("comment"):
            indicator["description"] = str(attr["comment"])
        labels = [t for t in tags if not t.lower().startswith("tlp:")]
        if labels:
            indicator["labels"] = sorted(set(labels))
        if creator:
            indicator["created_by_ref"] = creator
        if tlp:
            indicator["object_marking_refs"] = [marking_id(tlp)]
        indicator["external_references"] = [
            {"source_name": "misp", "external_id": str(event.get("uuid", "")),
             "description": f"{event.get('info', '')} / {attr.get('category', '')}"[:500]}
        ]  # fmt: skip
        out.append((path, indicator))
    return out
