"""STIX 2.1 patterns compiled once, at import, into typed lookup values.

The subset cities meet, and the fast path: observation expressions of comparison expressions
joined by OR, each an equality (or `ISSUBSET` for networks) on one of the observable types
below; `[a] OR [b]` is the same as `[a OR b]`. One AND is understood: an address and a port of
the same side of a flow (`[network-traffic:dst_ref.value = 'ip' AND network-traffic:dst_port =
p]`, `src_…` alike, as MISP's `ip-dst|port` becomes), optionally with the redundant
`…_ref.type = 'ipv4-addr'`; it compiles to one `dst_ip_port` / `src_ip_port` lookup whose value
is `network|port`, matched when one event carries both. Anything else — other ANDs,
FOLLOWEDBY, qualifiers (WITHIN, REPEATS, START/STOP), other operators, other objects — is
refused with the reason, so the caller can report it, never silently dropped.

`network-traffic:dst_ref.value` alone is matched on either side of a flow (a deliberate
widening: any flow touching the address), unlike a pattern matcher over STIX observations.

Grammar facts: STIX 2.1 Part 5 (Patterning), §9 (grammar) and §6 (operators).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = ["KINDS", "Lookup", "PatternError", "compile_pattern"]

# kind -> what it is matched against (see index.py)
KINDS = (
    "ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "email", "port",
    "dst_ip_port", "src_ip_port",
)  # fmt: skip


class PatternError(ValueError):
    """A pattern we cannot compile; the message says why (and where)."""


@dataclass(frozen=True)
class Lookup:
    """One value to look up: `ipv4`/`ipv6` values are networks (a host is a /32 or /128)."""

    kind: str
    value: str | int


# The grammar's whitespace (Part 5, §9, WS): narrower than Python's \s (no \x1c-\x1f).
_WS = "[ \t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_WS_CHARS = " \t\r\n\x0b\x0c\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_TOKEN = re.compile(
    _WS
    + r"""*(?:
        (?P<lbr>\[) | (?P<rbr>\]) | (?P<lpar>\() | (?P<rpar>\)) |
        (?P<str>'(?:[^'\\]|\\['\\])*') |  # only \' and \\ are escapes (Part 5, §9)
        (?P<num>-?\d+(?:\.\d+)?) |
        (?P<op>!=|<=|>=|=|<|>) |
        (?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::[A-Za-z0-9_\-\.\[\]\*']+)?)
    )""",
    re.VERBOSE,
)
_PATHS = {
    ("ipv4-addr", "value"): "ipv4",
    ("ipv6-addr", "value"): "ipv6",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("email-addr", "value"): "email",
    ("file", "hashes.'md5'"): "md5",
    ("file", "hashes.md5"): "md5",
    ("file", "hashes.'sha-1'"): "sha1",
    ("file", "hashes.'sha1'"): "sha1",
    ("file", "hashes.'sha-256'"): "sha256",
    ("file", "hashes.'sha256'"): "sha256",
    ("network-traffic", "dst_port"): "port",
    ("network-traffic", "dst_ref.value"): "ip",
    ("network-traffic", "src_ref.value"): "ip",
    ("network-traffic", "src_port"): "port",
    ("network-traffic", "dst_ref.type"): "reftype",
    ("network-traffic", "src_ref.type"): "reftype",
}
_HEX = {"md5": 32, "sha1": 40, "sha256": 64}


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip(_WS_CHARS)
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise PatternError(
                f"cannot read the pattern at character {pos + 1}: {text[pos : pos + 20]!r}"
            )
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _value(kind: str, raw: str, op: str) -> Lookup:
    if kind == "reftype":
        text = raw[1:-1] if raw.startswith("'") else raw
        if text not in ("ipv4-addr", "ipv6-addr"):
            raise PatternError(f"_ref.type {text!r} is not ipv4-addr or ipv6-addr")
        return Lookup(kind, text)
    if kind == "port":
        if not raw.lstrip("-").isdigit() or not 0 <= int(raw) <= 65535:
            raise PatternError(f"dst_port {raw} is not a port number")
        return Lookup("port", int(raw))
    text = raw[1:-1].replace("\\'", "'").replace("\\\\", "\\") if raw.startswith("'") else raw
    if kind in ("ipv4", "ipv6", "ip"):
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise PatternError(f"{text!r} is not an IP address or network") from None
        if op == "ISSUBSET" or net.num_addresses == 1 or "/" in text:
            return Lookup(f"ipv{net.version}", str(net))
        raise PatternError(f"operator {op} on an address")
    if kind in _HEX:
        if len(text) != _HEX[kind] or not re.fullmatch(r"[0-9A-Fa-f]+", text):
            raise PatternError(f"{text!r} is not a {kind.upper()} hash")
        return Lookup(kind, text.lower())
    if kind == "domain":
        return Lookup(kind, text.lower().rstrip("."))
    if kind == "email":
        return Lookup(kind, text.lower())
    return Lookup(kind, text)


def _comparison(tokens: list[tuple[str, str]], i: int) -> tuple[str, Lookup, int]:
    if i + 2 >= len(tokens) or tokens[i][0] != "word" or ":" not in tokens[i][1]:
        raise PatternError("expected a comparison like [ipv4-addr:value = '198.51.100.7']")
    obj, _, path = tokens[i][1].partition(":")
    key = (obj.lower(), path.lower())
    kind = _PATHS.get(key)
    if kind is None:
        raise PatternError(f"{obj}:{path} is not an observable we match yet")
    op_kind, op = tokens[i + 1]
    if op_kind == "word" and op.upper() == "ISSUBSET" and kind in ("ipv4", "ipv6", "ip"):
        op = "ISSUBSET"
    elif op != "=":
        raise PatternError(f"operator {op} is not supported (only = and ISSUBSET)")
    value_kind, raw = tokens[i + 2]
    if value_kind not in ("str", "num"):
        raise PatternError(f"expected a value after {op}")
    return f"{obj.lower()}:{path.lower()}", _value(kind, raw, op), i + 3


def _conjunction(terms: list[tuple[str, Lookup]]) -> Lookup:
    """Comparisons joined by AND: alone, itself; an address and a port of one flow side, one
    `*_ip_port` lookup; anything else is refused."""
    if len(terms) == 1:
        path, lookup = terms[0]
        if lookup.kind == "reftype":
            raise PatternError(f"{path} alone says nothing to match")
        if path == "network-traffic:src_port":
            raise PatternError("network-traffic:src_port alone is not matched (only dst_port)")
        return lookup
    sides = {path.partition(":")[2][:3] for path, _ in terms}
    ips = [lk for path, lk in terms if path.endswith("_ref.value")]
    ports = [lk for path, lk in terms if path.endswith("_port")]
    types = [lk for _, lk in terms if lk.kind == "reftype"]
    if (
        any(not path.startswith("network-traffic:") for path, _ in terms)
        or len(sides) != 1
        or len(ips) != 1
        or len(ports) != 1
        or len(types) != len(terms) - 2
    ):
        raise PatternError(
            "AND inside an observation is matched only for an address and a port of the same "
            "side of a flow ([network-traffic:dst_ref.value = 'ip' AND "
            "network-traffic:dst_port = p])"
        )
    net = ipaddress.ip_network(str(ips[0].value))
    if any(str(t.value) != f"ipv{net.version}-addr" for t in types):
        raise PatternError(f"_ref.type does not agree with the address {net}")
    return Lookup(f"{sides.pop()}_ip_port", f"{net}|{ports[0].value}")


def compile_pattern(pattern: str) -> tuple[Lookup, ...]:
    """The lookups a pattern stands for (any one matching is a match)."""
    tokens = _tokens(pattern)
    found: list[Lookup] = []
    i = 0
    while i < len(tokens):
        if tokens[i][0] != "lbr":
            raise PatternError("an observation expression starts with [")
        i += 1
        terms: list[tuple[str, Lookup]] = []
        while True:  # AND binds tighter than OR (STIX 2.1 Part 5, §6)
            path, lookup, i = _comparison(tokens, i)
            terms.append((path, lookup))
            word = tokens[i][1].upper() if i < len(tokens) and tokens[i][0] == "word" else ""
            if word == "AND":
                i += 1
                continue
            found.append(_conjunction(terms))
            terms = []
            if word == "OR":
                i += 1
                continue
            break
        if i >= len(tokens) or tokens[i][0] != "rbr":
            raise PatternError("an observation expression ends with ]")
        i += 1
        if i == len(tokens):
            break
        word = tokens[i][1].upper() if tokens[i][0] == "word" else tokens[i][1]
        if word != "OR":
            raise PatternError(f"{word} between observations is not supported (only OR)")
        i += 1
        if i == len(tokens):
            raise PatternError("OR at the end of the pattern: an observation must follow")
    if not found:
        raise PatternError("empty pattern")
    return tuple(found)
