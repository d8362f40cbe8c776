"""CPE 2.2 URI -> CPE 2.3 formatted string, the one conversion the inventory needs.

`vulns.cpe` has the full CPE toolkit, but `vulns` sits above `assets` in the layers, so assets
cannot import it; this minimal converter follows the same rules (NIST IR 7695 §6.1.3 URI
decoding, §6.2 formatted-string binding) and produces the same canonical values: lower case,
every character other than a letter, digit, `_`, `.` or `-` quoted with `\\`.
"""

from __future__ import annotations

import re

__all__ = ["cpe22_to_23"]

_NAMES = ("part", "vendor", "product", "version", "update", "edition", "language")
_PACKED = ("edition", "sw_edition", "target_sw", "target_hw", "other")
_ORDER = (*_NAMES[:6], "language", *_PACKED[1:])
_PLAIN = re.compile(r"[a-z0-9_.\-]")
_PERCENT = re.compile(r"%([0-9a-fA-F]{2})")


def _decode(raw: str, text: str) -> str:
    """One URI component -> its canonical formatted-string value (`*` ANY, `-` NA)."""
    if raw == "":
        return "*"
    if raw == "-":
        return "-"
    out: list[str] = []
    i = 0
    value = raw.lower()
    while i < len(value):
        ch = value[i]
        if ch == "%":
            match = _PERCENT.match(value, i)
            if match is None:
                raise ValueError(f"{text!r}: bad percent-encoding at {value[i : i + 3]!r}")
            code = match.group(1)
            i += 3
            # %01 and %02 are the URI spellings of the ? and * wildcards (IR 7695 §6.1.3.3).
            if code == "01":
                out.append("?")
                continue
            if code == "02":
                out.append("*")
                continue
            ch = chr(int(code, 16))
        else:
            i += 1
        out.append(ch if _PLAIN.fullmatch(ch) else "\\" + ch)
    return "".join(out)


def cpe22_to_23(text: str) -> str:
    """`cpe:/a:openbsd:openssh:7.4` -> `cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*`.

    Missing trailing components are ANY; a packed edition (`~ed~sw_ed~target_sw~target_hw~other`)
    is unpacked. Raises ValueError naming the text when it is not a CPE 2.2 URI."""
    stripped = text.strip()
    if not stripped.lower().startswith("cpe:/"):
        raise ValueError(f"{text!r} is not a CPE 2.2 URI (cpe:/part:vendor:product:…)")
    comps = stripped[5:].split(":")
    if len(comps) > len(_NAMES):
        raise ValueError(f"{text!r} has {len(comps)} components; a CPE 2.2 URI has at most 7")
    values = dict.fromkeys(_ORDER, "*")
    for name, raw in zip(_NAMES, comps, strict=False):
        if name == "edition" and raw.startswith("~"):
            packed = raw[1:].split("~")
            if len(packed) != len(_PACKED):
                raise ValueError(f"{text!r}: a packed edition has 5 '~' fields")
            for sub, sub_raw in zip(_PACKED, packed, strict=True):
                values[sub] = _decode(sub_raw, text)
            continue
        values[name] = _decode(raw, text)
    if values["part"] not in ("a", "o", "h", "*"):
        raise ValueError(f"{text!r}: part must be a, o or h")
    return "cpe:2.3:" + ":".join(values[name] for name in _ORDER)
