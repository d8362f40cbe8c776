"""Normalisers for asset identifiers, shared by the schemas and the importers.

Each raises ValueError with a short message naming the bad value; callers add the place."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = [
    "normalise_cpe",
    "normalise_hostname",
    "normalise_ip",
    "normalise_mac",
    "normalise_purl",
    "normalise_tag",
    "unique",
]

_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$"
)
# CPE 2.3 formatted string (NIST IR 7695 §6.2): 11 components after "cpe:2.3:", part a/h/o.
# Syntax only; full binding rules and matching live in `vulns` (a layer above, never imported).
_CPE_COMPONENT = r"(?:\\.|[^:\\])+"
_CPE23 = re.compile(rf"^cpe:2\.3:[aho\*\-](?::{_CPE_COMPONENT}){{10}}$")
_PURL = re.compile(r"^pkg:[a-zA-Z.+-][a-zA-Z0-9.+-]*/\S+$")
_TAG = re.compile(r"^[\w.:+/-]{1,64}$")


def normalise_mac(value: str) -> str:
    """`AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` or `aabbccddeeff` -> `aa:bb:cc:dd:ee:ff`."""
    hexdigits = re.sub(r"[:\-.\s]", "", value.strip().lower())
    if not _MAC_HEX.fullmatch(hexdigits):
        raise ValueError(f"{value!r} is not a MAC address (48 bits, e.g. aa:bb:cc:dd:ee:ff)")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


def normalise_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


def normalise_hostname(value: str) -> str:
    name = value.strip().lower().rstrip(".")
    if not _HOSTNAME.fullmatch(name):
        raise ValueError(f"{value!r} is not a host name")
    return name


def normalise_cpe(value: str) -> str:
    cpe = value.strip()
    if not _CPE23.fullmatch(cpe):
        raise ValueError(f"{value!r} is not a CPE 2.3 formatted string (cpe:2.3:part:vendor:…)")
    return cpe


def normalise_purl(value: str) -> str:
    purl = value.strip()
    if not _PURL.fullmatch(purl):
        raise ValueError(f"{value!r} is not a package URL (pkg:type/namespace/name@version)")
    return purl


def normalise_tag(value: str) -> str:
    tag = value.strip().lower()
    if not _TAG.fullmatch(tag):
        raise ValueError(f"{value!r} is not a tag (1-64 letters, digits, . _ : + / -)")
    return tag


def unique(values: Iterable[str]) -> list[str]:
    """Drop duplicates, keep the first occurrence's order (the first IP is the main one)."""
    return list(dict.fromkeys(values))
