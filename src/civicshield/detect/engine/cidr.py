"""`|cidr` as one anchored regular expression over the address text (no parsing column).

A value matches when it is an IP address inside one of the networks; text that is not an
address never matches (Sigma modifiers appendix). "Address" is what Python's `ipaddress.
ip_address` accepts, which the test oracle uses:

* IPv4: four dot-separated decimal octets 0-255 without leading zeros (`10.0.0.1`; not
  `010.0.0.1`, `10.0.0.1:443`, `10.x`, surrounding spaces).
* IPv6 (RFC 4291 §2.2 text forms): eight groups of 1-4 hex digits in any case (leading zeros
  optional), at most one `::` standing for one or more zero groups, the last two groups
  optionally written as a dotted IPv4 address (`::ffff:10.1.2.3`), optionally followed by a
  zone index `%name` (RFC 4007), which membership ignores. IPv4 networks never match IPv6 text
  (`::ffff:10.0.0.1` is not in `10.0.0.0/8`) and vice versa.

Instead of normalising every row (a chain of string operations per value, each a pass over the
column) the network is turned into a pattern of its address texts: per group a digit-class
pattern of the values its prefix allows, and one branch per position and length of the `::` run
(only where the run's groups may be zero). All networks of one field give one regular
expression, one pass over the column (Rust's regex engine keeps it linear).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network

__all__ = ["ipv6_atoms", "network_pattern"]

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_HEXTET = r"[0-9A-Fa-f]{1,4}"
_ZONE = r"(?:%[^%]+)?"
_HEX = "0123456789abcdef"


def network_pattern(networks: Sequence[IPv4Network | IPv6Network]) -> str:
    """A regular expression matching exactly the address texts inside one of `networks`."""
    branches = [_ipv4(n) if isinstance(n, IPv4Network) else _ipv6(n) for n in networks]
    return "^(?:" + "|".join(branches) + ")$"


def _alt(options: Sequence[str]) -> str:
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


def _fixed_bits(prefix: int, start: int, width: int) -> int:
    """How many of the `width` bits starting at bit `start` the prefix fixes."""
    return min(max(prefix - start, 0), width)


def _ipv4(network: IPv4Network) -> str:
    value = int(network.network_address)
    octets = []
    for k in range(4):
        fixed = _fixed_bits(network.prefixlen, 8 * k, 8)
        if fixed == 0:
            octets.append(_OCTET)
            continue
        low = (value >> (24 - 8 * k)) & 0xFF
        high = low | ((1 << (8 - fixed)) - 1)
        octets.append(_alt([str(v) for v in range(low, high + 1)]))
    return r"\.".join(octets)


def _digit_class(chars: set[str]) -> str:
    if len(chars) == 16:
        return "[0-9A-Fa-f]"
    both = sorted(chars | {c.upper() for c in chars})
    return both[0] if len(both) == 1 else "[" + "".join(both) + "]"


def _hextet(low: int, fixed: int) -> str:
    """Texts (1-4 hex digits) of the 16-bit groups whose first `fixed` bits are those of `low`."""
    if fixed == 0:
        return _HEXTET
    digits: list[set[str]] = []  # allowed characters of each digit of the zero-padded group
    for d in range(4):
        bits = _fixed_bits(fixed, 4 * d, 4)
        nibble = (low >> (12 - 4 * d)) & 0xF
        digits.append({_HEX[n] for n in range(nibble, (nibble | ((1 << (4 - bits)) - 1)) + 1)})
    options = []
    for strip in range(4):  # leading digits may be left out where they may be zero
        options.append("".join(_digit_class(c) for c in digits[strip:]))
        if "0" not in digits[strip]:
            break
    return _alt(options)


def _ipv6(network: IPv6Network) -> str:
    value = int(network.network_address)
    prefix = network.prefixlen
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    pats = [_hextet(groups[i], _fixed_bits(prefix, 16 * i, 16)) for i in range(8)]
    # the last 32 bits written as a dotted quad: an IPv4 network on those bits
    dotted = _ipv4(IPv4Network((value & 0xFFFFFFFF, max(prefix - 96, 0))))
    branches = [":".join(pats), ":".join([*pats[:6], dotted])]
    for left in range(8):  # groups before `::`
        tails: list[str] = []
        empty_tail = False
        for right in range(8 - left):  # groups after `::` (the run has at least one)
            if any(groups[i] for i in range(left, 8 - right)):
                continue  # the `::` run would hide a group the network needs non-zero
            if right == 0:
                empty_tail = True
                continue
            tails.append(":".join(pats[8 - right :]))
            if right >= 2:
                tails.append(":".join([*pats[8 - right : 6], dotted]))
        if not tails and not empty_tail:
            continue
        tail = ("(?:" + "|".join(tails) + ")" + ("?" if empty_tail else "")) if tails else ""
        branches.append(":".join(pats[:left]) + "::" + tail)
    return "(?:" + "|".join(branches) + ")" + _ZONE


def ipv6_atoms(network: IPv6Network) -> list[str] | None:
    """Lower-cased texts one of which every address text in `network` contains, or None.

    A group whose first hex digit the prefix fixes to non-zero is always written with exactly
    four digits and cannot be inside `::`, so the leading such groups are a literal prefix of
    the text (`fe80::/10` → `fe8`, `fe9`, `fea`, `feb`; `2001:db8::/32` → `2001:`). Networks
    starting with a zero digit (`::1/128`, `0:0:1::/48`) have no such literal: None."""
    value = int(network.network_address)
    prefix = network.prefixlen
    texts = [""]
    for i in range(8):
        fixed = _fixed_bits(prefix, 16 * i, 16)
        group = (value >> (112 - 16 * i)) & 0xFFFF
        if fixed < 4 or group >> 12 == 0:
            break
        digits = f"{group:04x}"
        if fixed == 16:
            end = ":" if i < 7 else ""
            texts = [t + digits + end for t in texts]
            continue
        whole, rest = divmod(fixed, 4)
        options = [digits[:whole]]
        if rest:
            nibble = int(digits[whole], 16)
            span = range(nibble, (nibble | ((1 << (4 - rest)) - 1)) + 1)
            options = [digits[:whole] + _HEX[n] for n in span]
        texts = [t + o for t in texts for o in options]
        break
    return None if texts == [""] else texts
