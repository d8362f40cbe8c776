"""Observable types and their validation (pure): each value is checked and normalised so the
same indicator written two ways is one observable (lower-case domains, compressed IPv6, hashes
in lower-case hex of the right length).

Types map to STIX 2.1 cyber-observable objects (`STIX_TYPES`) so that matching against the
threat-intel indicators of issue 8 can use them as they are.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from civicshield.core.errors import FieldError, Invalid

__all__ = ["OBSERVABLE_TYPES", "STIX_TYPES", "normalise"]

# type -> STIX 2.1 object type (and property) it becomes when shared.
STIX_TYPES: dict[str, str] = {
    "ipv4": "ipv4-addr",
    "ipv6": "ipv6-addr",
    "cidr": "ipv4-addr",  # or ipv6-addr: STIX keeps networks in the same objects
    "domain": "domain-name",
    "hostname": "domain-name",
    "url": "url",
    "email": "email-addr",
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.SHA-1",
    "sha256": "file:hashes.SHA-256",
    "filename": "file:name",
    "user-agent": "network-traffic:extensions.http-request-ext.request_header.User-Agent",
    "asn": "autonomous-system",
    "user": "user-account",
    "other": "x-civicshield-other",
}
OBSERVABLE_TYPES: tuple[str, ...] = tuple(STIX_TYPES)
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+$")
_MAX = 2000


def _bad(field: str, message: str) -> Invalid:
    return Invalid(message, [FieldError(("body", field), message)])


def _domain(value: str, *, field: str = "value") -> str:
    name = value.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise _bad(field, f"{value!r} is not a valid domain name") from exc
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(x) for x in labels):
        raise _bad(field, f"{value!r} is not a valid domain name")
    return name


def _ip(value: str, version: int) -> str:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError as exc:
        raise _bad("value", f"{value!r} is not a valid IPv{version} address") from exc
    if address.version != version:
        raise _bad("value", f"{value!r} is not a valid IPv{version} address")
    return address.compressed


def _checked(kind: str, text: str) -> str:
    if kind == "ipv4":
        return _ip(text, 4)
    if kind == "ipv6":
        return _ip(text, 6)
    if kind == "cidr":
        try:
            return ipaddress.ip_network(text, strict=False).compressed
        except ValueError as exc:
            raise _bad("value", f"{text!r} is not a valid network (CIDR)") from exc
    if kind == "domain":
        return _domain(text)
    if kind == "hostname":
        return _domain(text) if "." in text else _domain(text).lower()
    if kind in _HASH_LENGTHS:
        digest = text.lower()
        if len(digest) != _HASH_LENGTHS[kind] or not re.fullmatch(r"[0-9a-f]+", digest):
            raise _bad("value", f"a {kind.upper()} is {_HASH_LENGTHS[kind]} hexadecimal characters")
        return digest
    if kind == "url":
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
            raise _bad("value", f"{text!r} is not a URL (http, https or ftp, with a host)")
        host = _domain(parts.hostname) if not _is_ip(parts.hostname) else parts.hostname
        netloc = host + (f":{parts.port}" if parts.port else "")
        rest = text.split(parts.netloc, 1)[1] if parts.netloc else ""
        return f"{parts.scheme.lower()}://{netloc}{rest}"
    if kind == "email":
        if not _EMAIL.match(text):
            raise _bad("value", f"{text!r} is not an e-mail address")
        local, _, domain = text.rpartition("@")
        return f"{local}@{_domain(domain)}"
    if kind == "asn":
        number = text.upper().removeprefix("AS")
        if not number.isdigit() or not 0 < int(number) < 2**32:
            raise _bad("value", f"{text!r} is not an autonomous system number (AS64500)")
        return f"AS{int(number)}"
    return text


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def normalise(kind: str, value: str) -> str:
    """The value in its one spelling, or `Invalid` naming the field (`type` or `value`)."""
    if kind not in STIX_TYPES:
        raise _bad("type", f"unknown observable type {kind!r}; use one of {', '.join(STIX_TYPES)}")
    text = value.strip()
    if not text:
        raise _bad("value", "the value is empty")
    if len(text) > _MAX:
        raise _bad("value", f"the value is too long ({_MAX} characters at most)")
    return _checked(kind, text)
