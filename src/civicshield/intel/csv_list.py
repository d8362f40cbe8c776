"""CSV files and plain lists of indicators (pure): a mapping says which column holds which type
of value (`ip=ip-dst,hash=sha256`; types are MISP attribute types, plus `ip`, `ipv4`, `ipv6`,
`hash` guessed by length), and optionally `valid_until`, `confidence`, `labels` (';'-separated)
`description` and `tlp` (clear, green, amber, amber+strict, red) columns. A plain list (one
value a line, `#` comments) takes one type for every line. Each value becomes a STIX indicator
whose id is derived from type and value, so the same list imported again holds the same
indicators; each carries a TLP 2.0 marking (its `tlp` column, else the importer's default), as
every object CivicShield creates does."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

from civicshield.core.enums import Tlp
from civicshield.intel.misp import MISP_TYPES, pattern_for
from civicshield.intel.tlp import marking_id

__all__ = ["META_COLUMNS", "VALUE_TYPES", "parse_mapping", "rows_to_stix", "stable_id"]

_NS = uuid.UUID("0c8f5d0e-8f7e-4b8e-9a51-9d3e8e0f4a21")
_ALIASES = {"ip": "ip-dst", "ipv4": "ip-dst", "ipv6": "ip-dst", "email-addr": "email"}
_HASH_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}
VALUE_TYPES = tuple(sorted({*MISP_TYPES, *_ALIASES, "hash"}))
META_COLUMNS = ("confidence", "description", "labels", "tlp", "valid_until")


def parse_mapping(text: str) -> dict[str, str]:
    """`column=type,…` -> {column: type}; a lone type (`domain`) maps every line of a list."""
    text = text.strip()
    if not text:
        raise ValueError("the mapping is empty")
    if "=" not in text:
        return {"": _check_type(text)}
    mapping: dict[str, str] = {}
    for part in text.split(","):
        column, sep, kind = part.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"mapping entry {part!r} is not 'column=type'")
        kind = kind.strip().lower()
        mapping[column.strip()] = kind if kind in META_COLUMNS else _check_type(kind)
    if all(kind in META_COLUMNS for kind in mapping.values()):
        raise ValueError("the mapping names no value column")
    return mapping


def _check_type(kind: str) -> str:
    kind = kind.strip().lower()
    if kind not in VALUE_TYPES:
        raise ValueError(f"type {kind!r} is not one of {', '.join(VALUE_TYPES)}")
    return kind


def stable_id(kind: str, value: str) -> str:
    return f"indicator--{uuid.uuid5(_NS, f'{kind}:{value}')}"


def _marking(meta: dict[str, str], default: Tlp | None) -> list[str]:
    level = default
    if meta.get("tlp"):
        text = meta["tlp"].strip().lower().removeprefix("tlp:")
        try:
            level = Tlp(text)
        except ValueError:
            raise ValueError(
                f"tlp {meta['tlp']!r} is not clear, green, amber, amber+strict or red"
            ) from None
    return [marking_id(level)] if level else []


def _indicator(
    kind: str, value: str, now: datetime, meta: dict[str, str], tlp: Tlp | None = None
) -> dict[str, Any]:
    if kind == "hash":
        kind = _HASH_BY_LENGTH.get(len(value), "")
        if not kind:
            raise ValueError(f"{value!r} is not an MD5, SHA-1 or SHA-256 hash")
    misp_kind = _ALIASES.get(kind, kind)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1", "id": stable_id(misp_kind, value),
        "created": stamp, "modified": stamp, "valid_from": stamp, "name": f"{misp_kind}: {value}",
        "pattern": pattern_for(misp_kind, value), "pattern_type": "stix",
    }  # fmt: skip
    if meta.get("valid_until"):
        obj["valid_until"] = meta["valid_until"]
    if meta.get("confidence"):
        try:
            obj["confidence"] = int(meta["confidence"])
        except ValueError:
            raise ValueError(f"confidence {meta['confidence']!r} is not a number") from None
    if meta.get("labels"):
        obj["labels"] = [x.strip() for x in meta["labels"].split(";") if x.strip()]
    if meta.get("description"):
        obj["description"] = meta["description"]
    if markings := _marking(meta, tlp):
        obj["object_marking_refs"] = markings
    return obj


def rows_to_stix(
    text: str,
    mapping: dict[str, str],
    now: datetime,
    *,
    name: str = "<input>",
    tlp: Tlp | None = None,
) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, str]]]:
    """(place, indicator) for each value, and (place, reason) for each refused line; `tlp` is
    the marking of values whose row names none."""
    found: list[tuple[str, dict[str, Any]]] = []
    refused: list[tuple[str, str]] = []
    if "" in mapping:
        for number, line in enumerate(text.splitlines(), start=1):
            value = line.split("#", 1)[0].strip()
            if value:
                try:
                    found.append((f"{name}:{number}", _indicator(mapping[""], value, now, {}, tlp)))
                except ValueError as exc:
                    refused.append((f"{name}:{number}", str(exc)))
        return found, refused
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in mapping if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{name}: column(s) {', '.join(missing)} not in the header")
    meta_cols = {kind: col for col, kind in mapping.items() if kind in META_COLUMNS}
    for number, row in enumerate(reader, start=2):
        meta = {kind: (row.get(col) or "").strip() for kind, col in meta_cols.items()}
        for column, kind in mapping.items():
            value = (row.get(column) or "").strip()
            if kind in META_COLUMNS or not value:
                continue
            place = f"{name}:{number}:{column}"
            try:
                found.append((place, _indicator(kind, value, now, meta, tlp)))
            except ValueError as exc:
                refused.append((place, str(exc)))
    return found, refused
