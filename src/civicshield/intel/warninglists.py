"""MISP warninglists (the `list.json` format of MISP/misp-warninglists): known benign values
(private networks, public resolvers, URL shorteners, empty-file hashes…). Pure: reading a list
and deciding whether an indicator value is on it.

Semantics follow MISP's own matcher (pymispwarninglists): `cidr` — the value's address or
network lies inside an entry; `string` — equal; `hostname` — equal, or a subdomain of an entry
(a URL's host counts); `substring` — an entry occurs in the value; `regex` — the entry matches
somewhere in the value (PHP `/…/flags` delimiters read as MISP does). As in MISP, a list only
applies to the attribute types named in its `matching_attributes` (every type when it names
none). Case-insensitive except regex.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["KIND_ATTRIBUTES", "LIST_TYPES", "Warninglist", "WarninglistMatcher", "read_list"]

LIST_TYPES = ("cidr", "string", "hostname", "substring", "regex")
# Our lookup kinds -> the MISP attribute types that carry such a value.
KIND_ATTRIBUTES: dict[str, frozenset[str]] = {
    "ipv4": frozenset({"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}),
    "ipv6": frozenset({"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}),
    "domain": frozenset({"domain", "hostname", "domain|ip", "hostname|port"}),
    "url": frozenset({"url", "uri", "link"}),
    "md5": frozenset({"md5", "filename|md5"}),
    "sha1": frozenset({"sha1", "filename|sha1"}),
    "sha256": frozenset({"sha256", "filename|sha256"}),
    "email": frozenset(
        {"email", "email-src", "email-dst", "target-email", "whois-registrant-email"}
    ),
    "port": frozenset({"port"}),
    # address+port pairs (MISP ip-dst|port / ip-src|port): the address part is checked
    "dst_ip_port": frozenset({"ip-dst|port", "ip-dst"}),
    "src_ip_port": frozenset({"ip-src|port", "ip-src"}),
}


@dataclass(frozen=True)
class Warninglist:
    name: str
    version: int
    type: str
    description: str
    matching_attributes: tuple[str, ...]
    entries: tuple[str, ...]


def read_list(path: Path) -> Warninglist:
    """Read one `list.json`; ValueError naming the file and the problem when it is not one."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the warninglist: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a warninglist is a JSON object")
    for key in ("name", "list", "type"):
        if key not in data:
            raise ValueError(f"{path}: '{key}' is missing")
    kind = data["type"]
    if kind not in LIST_TYPES:
        raise ValueError(f"{path}: type {kind!r} is not one of {', '.join(LIST_TYPES)}")
    entries = data["list"]
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ValueError(f"{path}: 'list' must be a list of strings")
    if kind == "regex":
        for entry in entries:
            try:
                compile_regex(entry)
            except re.error as exc:
                raise ValueError(f"{path}: regex {entry!r} does not compile: {exc}") from None
    # MISP names a list by its directory (`lists/rfc1918/list.json`); `name` is a title.
    short = path.parent.name if path.name == "list.json" and path.parent.name else ""
    description = str(data.get("description", "")) or str(data["name"])
    return Warninglist(
        name=short or str(data["name"]),
        version=int(data.get("version", 0)),
        type=kind,
        description=description,
        matching_attributes=tuple(str(a) for a in data.get("matching_attributes", [])),
        entries=tuple(entries),
    )


_DELIMITED = re.compile(r"^/(?P<body>.*)/(?P<flags>[imsx]*)$", re.DOTALL)


def compile_regex(entry: str) -> re.Pattern[str]:
    """MISP writes regex entries for PHP's preg_match (`/^(abuse|noc)\\@/i`); read the
    delimiters and flags the same way, and a bare pattern as it is."""
    m = _DELIMITED.match(entry)
    if not m:
        return re.compile(entry)
    flags = 0
    for letter in m.group("flags"):
        flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}[letter]
    return re.compile(m.group("body"), flags)


def _host(value: str) -> str:
    if "://" in value:
        return (urlsplit(value).hostname or "").lower()
    return value.lower().rstrip(".")


class WarninglistMatcher:
    """Every loaded list, prepared once; `find(kind, value)` gives the first (list, entry) hit."""

    def __init__(self, lists: list[Warninglist]) -> None:
        self._lists = sorted(lists, key=lambda wl: wl.name)
        self._nets: dict[str, list[tuple[Any, str]]] = {}
        self._sets: dict[str, dict[str, str]] = {}
        self._regex: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for wl in self._lists:
            if wl.type == "cidr":
                nets = []
                for entry in wl.entries:
                    try:
                        nets.append((ipaddress.ip_network(entry.strip(), strict=False), entry))
                    except ValueError:
                        continue  # MISP skips entries that are not networks as well
                self._nets[wl.name] = nets
            elif wl.type == "regex":
                self._regex[wl.name] = [(compile_regex(e), e) for e in wl.entries]
            else:
                self._sets[wl.name] = {
                    e.lower().rstrip(".") if wl.type == "hostname" else e.lower(): e
                    for e in wl.entries
                }

    def __len__(self) -> int:
        return len(self._lists)

    def find(self, kind: str, value: str) -> tuple[str, str] | None:
        return next(iter(self.find_all(kind, value)), None)

    def find_all(self, kind: str, value: str) -> list[tuple[str, str]]:
        """Every (list, entry) that `value` of lookup kind `kind` is on, by list name."""
        attrs = KIND_ATTRIBUTES.get(kind, frozenset())
        if kind in ("dst_ip_port", "src_ip_port"):  # "network|port": the address decides
            value = value.rpartition("|")[0]
            kind = "ipv6" if ":" in value else "ipv4"
            if "/" in value:
                net = ipaddress.ip_network(value, strict=False)
                value = str(net.network_address) if net.num_addresses == 1 else value
        hits = []
        for wl in self._lists:
            if wl.matching_attributes and not attrs & set(wl.matching_attributes):
                continue
            entry = self._check(wl, kind, value)
            if entry is not None:
                hits.append((wl.name, entry))
        return hits

    def _check(self, wl: Warninglist, kind: str, value: str) -> str | None:
        if wl.type == "cidr":
            return self._cidr(wl.name, value) if kind in ("ipv4", "ipv6") else None
        if wl.type == "regex":
            return next((e for rx, e in self._regex[wl.name] if rx.search(value)), None)
        entries = self._sets[wl.name]
        low = value.lower()
        if wl.type == "string":
            return entries.get(low)
        if wl.type == "substring":
            return next((orig for e, orig in entries.items() if e and e in low), None)
        host = _host(value)
        labels = host.split(".")
        for i in range(len(labels)):
            hit = entries.get(".".join(labels[i:]))
            if hit is not None:
                return hit
        return None

    def _cidr(self, name: str, value: str) -> str | None:
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
        for entry, text in self._nets[name]:
            if entry.version == net.version and net.subnet_of(entry):
                return text
        return None
