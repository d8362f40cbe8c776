"""CPE 2.3 names: parsing, binding, 2.2 URI conversion and name matching.

Specs: NIST IR 7695 (CPE 2.3 Naming: WFN, formatted-string and URI bindings) and NIST IR 7696
(CPE 2.3 Name Matching). See docs/vulns-matching.md for what we follow and where we deviate.

An attribute value is kept in *canonical formatted-string form*:

* ``*`` alone is the logical value ANY, ``-`` alone is NA (IR 7695 §5.3.1, §6.2.2.2);
* otherwise it is a lower-cased string in which every character that is not a letter, a digit,
  ``_``, ``.`` or ``-`` is quoted with ``\\``, except unquoted ``*`` / ``?``, which are the
  multi/single character wildcards of IR 7695 §5.3.2 (only meaningful in match criteria).

So ``cpe:2.3:o:hikvision:ds-2cd2143g2-i\\(s\\)_firmware:...`` keeps its escapes, and the same
name written with redundant escapes (``d\\-link``) gets the same canonical value (``d-link``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from civicshield.core.errors import Invalid

__all__ = [
    "ANY",
    "ATTRIBUTES",
    "NA",
    "PRODUCT_ALIASES",
    "VENDOR_ALIASES",
    "Cpe",
    "CpeError",
    "canonical_product",
    "canonical_vendor",
    "criterion_matches",
    "has_wildcard",
    "parse_cpe",
    "parse_cpe22_uri",
    "parse_cpe23",
    "unquote",
    "value_matches",
]

ANY = "*"
NA = "-"

ATTRIBUTES = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)

_PARTS = frozenset({"a", "o", "h", ANY})
_PLAIN = re.compile(r"[a-z0-9_.\-]")

# Vendor spellings seen for one vendor in NVD / CISA ADP data (research note vuln-risk.md §3.6).
# Keys and values are canonical CPE values; the value is the spelling NVD uses most.
VENDOR_ALIASES: dict[str, str] = {
    "d-link": "dlink",
    "d_link": "dlink",
    "tp_link": "tp-link",
    "tplink": "tp-link",
    "schneider_electric": "schneider-electric",
    "schneiderelectric": "schneider-electric",
    "juniper_networks": "juniper",
    "hitachi_energy": "hitachienergy",
    "tendacn": "tenda",
    "delta_electronics": "deltaww",
    "mitsubishi_electric": "mitsubishielectric",
    "phoenix_contact": "phoenixcontact",
    "ubiquiti": "ui",
    "ubiquiti_networks": "ui",
    "ubnt": "ui",
}

# (canonical vendor, product) -> canonical product. Deliberately tiny: product renames are rare
# and a wrong alias creates false positives.
PRODUCT_ALIASES: dict[tuple[str, str], str] = {}


class CpeError(Invalid):
    """A CPE name is malformed; the message names the attribute and the input."""

    title = "Invalid CPE name"
    slug = "invalid-cpe"


def canonical_vendor(vendor: str) -> str:
    return VENDOR_ALIASES.get(vendor, vendor)


def canonical_product(vendor: str, product: str) -> str:
    return PRODUCT_ALIASES.get((canonical_vendor(vendor), product), product)


@dataclass(frozen=True, slots=True)
class Cpe:
    """A CPE 2.3 name; every attribute is in canonical formatted-string form (see module doc)."""

    part: str = ANY
    vendor: str = ANY
    product: str = ANY
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, str) or not value:
                raise CpeError(f"CPE attribute {f.name!r} must be a non-empty string: {value!r}")
        if self.part not in _PARTS:
            raise CpeError(f"CPE attribute 'part' must be a, o, h or *: {self.part!r}")

    @classmethod
    def parse(cls, text: str) -> Cpe:
        return parse_cpe(text)

    def to_fs(self) -> str:
        """The CPE 2.3 formatted string (IR 7695 §6.2)."""
        return "cpe:2.3:" + ":".join(getattr(self, a) for a in ATTRIBUTES)

    def __str__(self) -> str:
        return self.to_fs()

    @property
    def key(self) -> tuple[str, str, str]:
        """(part, canonical vendor, canonical product): the matcher's index key."""
        return (
            self.part,
            canonical_vendor(self.vendor),
            canonical_product(self.vendor, self.product),
        )

    def normalised(self) -> Cpe:
        """The same name with vendor/product aliases replaced by their canonical spelling."""
        _, vendor, product = self.key
        if vendor == self.vendor and product == self.product:
            return self
        return replace(self, vendor=vendor, product=product)

    @property
    def version_text(self) -> str:
        """The version with quoting removed (``15.1\\(1\\)xb`` -> ``15.1(1)xb``), for comparison."""
        return unquote(self.version)


def unquote(value: str) -> str:
    """Remove IR 7695 quoting from a canonical value (wildcards are left as they are)."""
    return re.sub(r"\\(.)", r"\1", value)


def _canonical_value(raw: str, attribute: str, *, source: str) -> str:
    """Canonicalise one formatted-string value: lower-case, minimal quoting, check escapes."""
    if raw == "":
        raise CpeError(f"empty {attribute!r} attribute in CPE {source!r}")
    if raw in (ANY, NA):
        return raw
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\":
            if i + 1 >= n:
                raise CpeError(
                    f"dangling '\\' at the end of the {attribute!r} attribute in {source!r}"
                )
            out.append(_quote_char(raw[i + 1].lower()))
            i += 2
            continue
        if ch in "*?":
            out.append(ch)  # unquoted: a wildcard (IR 7695 §5.3.2)
        elif ch.isspace():
            raise CpeError(f"whitespace in the {attribute!r} attribute of CPE {source!r}")
        else:
            out.append(_quote_char(ch.lower()))
        i += 1
    return "".join(out)


def _quote_char(ch: str) -> str:
    return ch if _PLAIN.fullmatch(ch) else "\\" + ch


def _split_fs(text: str) -> list[str]:
    """Split a formatted string on unquoted ``:`` only (``\\:`` stays inside a value)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


@lru_cache(maxsize=65536)
def parse_cpe23(text: str) -> Cpe:
    """Parse a CPE 2.3 formatted string (``cpe:2.3:part:vendor:...``)."""
    if not isinstance(text, str):
        raise CpeError(f"a CPE name must be a string, got {type(text).__name__}")
    pieces = _split_fs(text.strip())
    if len(pieces) < 2 or pieces[0].lower() != "cpe" or pieces[1] != "2.3":
        raise CpeError(f"not a CPE 2.3 formatted string (must start with 'cpe:2.3:'): {text!r}")
    values = pieces[2:]
    if len(values) != len(ATTRIBUTES):
        raise CpeError(
            f"CPE 2.3 name must have {len(ATTRIBUTES)} attributes after 'cpe:2.3:', "
            f"got {len(values)}: {text!r}"
        )
    canon = {
        attr: _canonical_value(raw, attr, source=text)
        for attr, raw in zip(ATTRIBUTES, values, strict=True)
    }
    if canon["part"] not in _PARTS:
        raise CpeError(f"CPE attribute 'part' must be a, o, h or *, got {values[0]!r} in {text!r}")
    return Cpe(**canon)


def _decode_uri_value(raw: str, attribute: str, *, source: str) -> str:
    """One CPE 2.2 URI component -> canonical 2.3 value (IR 7695 §6.1.3.2, decode)."""
    if raw == "":
        return ANY
    if raw == NA:
        return NA
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "%":
            code = raw[i + 1 : i + 3]
            if len(code) != 2 or not all(c in "0123456789abcdefABCDEF" for c in code):
                raise CpeError(f"bad percent-encoding in the {attribute!r} attribute of {source!r}")
            value = int(code, 16)
            if value == 1:
                out.append("?")  # %01: single-character wildcard
            elif value == 2:
                out.append("*")  # %02: multi-character wildcard
            elif 0x21 <= value <= 0x7E:
                out.append(_quote_char(chr(value).lower()))
            else:
                raise CpeError(f"percent-code %{code} not allowed in {attribute!r} of {source!r}")
            i += 3
            continue
        if ch.isspace() or ch in "\\*?":
            raise CpeError(f"character {ch!r} not allowed in {attribute!r} of CPE URI {source!r}")
        out.append(_quote_char(ch.lower()))
        i += 1
    return "".join(out)


@lru_cache(maxsize=65536)
def parse_cpe22_uri(text: str) -> Cpe:
    """Convert a CPE 2.2 URI (``cpe:/a:openbsd:openssh:7.4``, as Nmap writes) to a 2.3 name.

    Missing trailing components are ANY, an empty component is ANY, ``-`` is NA; a packed
    edition ``~edition~sw_edition~target_sw~target_hw~other`` is unpacked (IR 7695 §6.1.3).
    """
    stripped = text.strip()
    if not stripped.lower().startswith("cpe:/"):
        raise CpeError(f"not a CPE 2.2 URI (must start with 'cpe:/'): {text!r}")
    comps = stripped[5:].split(":")
    names = ("part", "vendor", "product", "version", "update", "edition", "language")
    if len(comps) > len(names):
        raise CpeError(f"CPE 2.2 URI has {len(comps)} components, at most 7 allowed: {text!r}")
    values: dict[str, str] = {}
    for name, raw in zip(names, comps, strict=False):
        if name == "edition" and raw.startswith("~"):
            packed = raw[1:].split("~")
            if len(packed) != 5:
                raise CpeError(f"packed edition must have 5 '~' fields: {raw!r} in {text!r}")
            for sub, sub_raw in zip(
                ("edition", "sw_edition", "target_sw", "target_hw", "other"), packed, strict=True
            ):
                values[sub] = _decode_uri_value(sub_raw, sub, source=text)
            continue
        values[name] = _decode_uri_value(raw, name, source=text)
    part = values.get("part", ANY)
    if part not in _PARTS:
        raise CpeError(f"CPE attribute 'part' must be a, o or h, got {part!r} in {text!r}")
    return Cpe(**values)


def parse_cpe(text: str) -> Cpe:
    """Parse either binding: 2.3 formatted string or 2.2 URI."""
    if isinstance(text, str) and text.strip().lower().startswith("cpe:/"):
        return parse_cpe22_uri(text)
    return parse_cpe23(text)


@lru_cache(maxsize=8192)
def _wildcard_regex(value: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            out.append(re.escape(value[i : i + 2]))
            i += 2
            continue
        if ch == "*":
            out.append(r"(?:\\.|[^\\])*")
        elif ch == "?":
            out.append(r"(?:\\.|[^\\])")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def has_wildcard(value: str) -> bool:
    """True when a (non-logical) value contains an unquoted ``*`` or ``?``."""
    if value in (ANY, NA):
        return False
    return bool(re.search(r"(?<!\\)(?:\\\\)*[*?]", value))


def value_matches(source: str, target: str) -> bool:
    """IR 7696 §6.1.2 attribute comparison: True for SUPERSET or EQUAL, False otherwise."""
    if source == ANY:
        return True
    if source == NA:
        return target == NA
    if target in (ANY, NA):
        return False  # SUBSET (target ANY) or DISJOINT (target NA)
    if has_wildcard(source):
        return _wildcard_regex(source).fullmatch(target) is not None
    return source == target


def criterion_matches(criterion: Cpe, target: Cpe) -> bool:
    """IR 7696 CPE_Name_Match: every attribute of `criterion` is a superset of or equal to `target`.

    Vendor and product are compared after alias normalisation (see VENDOR_ALIASES).
    """
    ckey = criterion.key
    tkey = target.key
    for src, tgt in zip(ckey, tkey, strict=True):
        if not value_matches(src, tgt):
            return False
    return all(value_matches(getattr(criterion, a), getattr(target, a)) for a in ATTRIBUTES[3:])
