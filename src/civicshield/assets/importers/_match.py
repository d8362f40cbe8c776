"""Identifier -> asset lookups for an import: merge precedence MAC, host name, IP in the zone,
serial, then (SBOM imports only) the package URL without its version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.assets.models import Asset
from civicshield.core.enums import Sector

__all__ = ["KINDS", "Matcher", "describe", "keys_of", "purl_base"]

KINDS = ("mac", "hostname", "ip", "serial", "purl")


def purl_base(purl: str) -> str:
    """`pkg:type/ns/name@1.2?q=1#sub` -> `pkg:type/ns/name`: a new version is the same asset."""
    base = purl.split("#", 1)[0].split("?", 1)[0]
    return base.rsplit("@", 1)[0] if "@" in base else base


@dataclass
class Matcher:
    """Identifier -> asset id over the stored inventory, loaded once per import (one query),
    plus the identifiers earlier rows of the same file will create."""

    by_key: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    sectors: dict[int, Sector] = field(default_factory=dict)
    pending: dict[tuple[str, str], int] = field(default_factory=dict)
    claimed: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Matcher:
        matcher = cls()
        columns = (
            Asset.id,
            Asset.sector,
            Asset.zone,
            Asset.macs,
            Asset.hostnames,
            Asset.ips,
            Asset.serial,
            Asset.purl,
        )
        for asset_id, sector, zone, macs, hostnames, ips, serial, purl in session.execute(
            select(*columns)
        ):
            matcher.sectors[asset_id] = Sector(sector)
            for key in keys_of(zone, macs, hostnames, ips, serial, purl):
                matcher.by_key.setdefault(key, set()).add(asset_id)
        return matcher


def keys_of(
    zone: str,
    macs: Iterable[str],
    hostnames: Iterable[str],
    ips: Iterable[str],
    serial: str | None,
    purl: str | None = None,
) -> list[tuple[str, str]]:
    """Keys in merge precedence order."""
    keys = [("mac", m) for m in macs]
    keys += [("hostname", h) for h in hostnames]
    keys += [("ip", f"{zone}|{ip}") for ip in ips]
    if serial:
        keys.append(("serial", serial))
    if purl:
        keys.append(("purl", purl_base(purl)))
    return keys


def describe(key: tuple[str, str]) -> str:
    kind, value = key
    if kind == "ip":
        zone, ip = value.split("|", 1)
        return f"ip {ip} in zone {zone!r}" if zone else f"ip {ip} (no zone)"
    return f"{kind} {value}"
