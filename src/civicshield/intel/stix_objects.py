"""Validating STIX 2.1 input (pure): a bundle's objects checked one by one with `stix2`
(`allow_custom=False`) and our own checks; each good object becomes a `StixRecord` holding the
JSON exactly as given plus the common properties parsed, each bad one a refusal with the reason
and its JSON path. One bad object never refuses the bundle."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.exceptions import STIXError

from civicshield.detect.indicators import PatternError, compile_pattern
from civicshield.intel.report import ImportReport

__all__ = ["StixRecord", "modified_key", "read_bundle", "read_object"]

_ID = re.compile(
    r"^([a-z0-9][a-z0-9-]*[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


@dataclass(frozen=True)
class StixRecord:
    """One valid STIX object: `body` is the JSON as imported; the rest is parsed from it."""

    body: dict[str, Any]
    stix_id: str
    type: str
    spec_version: str
    created: datetime | None
    modified: datetime | None
    revoked: bool
    valid_from: datetime | None
    valid_until: datetime | None
    confidence: int | None
    labels: list[str]
    created_by_ref: str | None
    object_marking_refs: list[str]


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):  # extension-defined objects come back from stix2 as dicts
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def modified_key(modified: datetime | None) -> str:
    """The version key: `modified` to the microsecond ('.000Z' and 'Z' are the same version)."""
    return modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if modified else ""


def _own_checks(obj: dict[str, Any]) -> str | None:
    kind, ident = obj.get("type"), obj.get("id")
    if not isinstance(kind, str) or not kind:
        return "'type' is missing"
    if kind == "bundle":
        return "a bundle inside a bundle is not allowed"
    if not isinstance(ident, str) or not (m := _ID.match(ident)):
        return f"'id' {ident!r} is not '<type>--<uuid>'"
    if m.group(1) != kind:
        return f"'id' {ident!r} does not start with its type {kind!r}"
    if obj.get("spec_version", "2.1") != "2.1":
        return f"spec_version {obj.get('spec_version')!r} is not 2.1"
    return None


def _without_grammar_check(obj: dict[str, Any]) -> dict[str, Any]:
    """What `stix2` validates: for an indicator whose pattern our compiler reads, a copy that
    spares `stix2` its ANTLR pattern validator (about 3 ms a pattern, most of an import). Our
    compiler accepts a strict subset of the STIX grammar (a test holds it to the reference
    validator: tests/unit/intel/test_interop_pattern_grammar.py); any other pattern gets the
    full check."""
    pattern = obj.get("pattern")
    if obj.get("type") != "indicator" or obj.get("pattern_type") != "stix":
        return obj
    if not isinstance(pattern, str):
        return obj
    try:
        compile_pattern(pattern)
    except PatternError:
        return obj
    return {**obj, "pattern_type": "x-civicshield-compiled"}


def read_object(obj: Any) -> StixRecord:
    """Validate one object; raise ValueError with the reason when it is not valid STIX 2.1."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    problem = _own_checks(obj)
    if problem:
        raise ValueError(problem)
    try:
        parsed = stix2.parse(_without_grammar_check(obj), allow_custom=False, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    get = parsed.get
    confidence = get("confidence")
    return StixRecord(
        body=obj,
        stix_id=obj["id"],
        type=obj["type"],
        spec_version=str(obj.get("spec_version", "2.1")),
        created=_utc(get("created")),
        modified=_utc(get("modified")),
        revoked=bool(get("revoked", False)),
        valid_from=_utc(get("valid_from")),
        valid_until=_utc(get("valid_until")),
        confidence=int(confidence) if confidence is not None else None,
        labels=[str(x) for x in get("labels", [])],
        created_by_ref=str(get("created_by_ref")) if get("created_by_ref") else None,
        object_marking_refs=[str(x) for x in get("object_marking_refs", [])],
    )


def read_bundle(data: Any, report: ImportReport) -> list[StixRecord]:
    """The valid objects of a bundle (a dict with `objects`); the others go to `report`."""
    if isinstance(data, list):
        objects: Any = data
        report.notes.append("$: a JSON array, read as the objects of a bundle")
    elif isinstance(data, dict) and "objects" in data:
        if data.get("type") != "bundle":
            # Lenient on the envelope, strict on objects: the upstream TLP 2.0 example has
            # no "type": "bundle" yet its objects are worth reading.
            report.notes.append(
                f"$.type: {data.get('type')!r} is not 'bundle' (the envelope is not a valid "
                "STIX bundle); its objects were checked one by one"
            )
        objects = data["objects"]
    elif isinstance(data, dict) and "type" in data:
        objects = [data]
    else:
        raise ValueError("not a STIX bundle: expected an object with 'objects'")
    if not isinstance(objects, list):
        raise ValueError("$.objects is not a list")
    records: list[StixRecord] = []
    for index, obj in enumerate(objects):
        report.read += 1
        try:
            records.append(read_object(obj))
        except ValueError as exc:
            ident = obj.get("id", "") if isinstance(obj, dict) else ""
            report.refuse(f"$.objects[{index}]", str(exc), str(ident))
    return records
