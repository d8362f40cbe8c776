"""Small STIX facts the TAXII server needs: timestamps, an object's version and spec version,
and the shape check an added object must pass (details are refused per object)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "STIX_MEDIA_TYPE",
    "format_timestamp",
    "media_type_for",
    "parse_timestamp",
    "shape_problem",
    "spec_version_of",
    "version_of",
    "version_time",
]

STIX_MEDIA_TYPE = "application/stix+json;version={}"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_ID = re.compile(r"^([a-z0-9][a-z0-9-]*[a-z0-9])--[0-9a-fA-F-]{36}$")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")


def parse_timestamp(text: str) -> datetime:
    """A STIX/TAXII timestamp (`YYYY-MM-DDTHH:MM:SS[.s+]Z`) as an aware datetime; more than six
    fractional digits are cut (Python keeps microseconds). ValueError when malformed."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        raise ValueError(f"{text!r} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)")
    # By position (the pattern fixed them): `strptime` cost ~30 µs a call, and a collection
    # read parses every version's timestamp.
    fraction = text[20:-1]
    micros = int((fraction + "000000")[:6]) if fraction else 0
    try:
        return datetime(
            int(text[0:4]), int(text[5:7]), int(text[8:10]),
            int(text[11:13]), int(text[14:16]), int(text[17:19]), micros, tzinfo=UTC,
        )  # fmt: skip
    except ValueError as exc:  # 2016-02-30 and the like
        raise ValueError(f"{text!r} is not a valid date and time: {exc}") from None


def format_timestamp(value: datetime, *, micro: bool = True) -> str:
    """TAXII's form: microseconds for date_added (the spec asks for them), milliseconds else."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text if micro else text[:-3]) + "Z"


def version_of(obj: dict[str, Any], date_added: datetime) -> str:
    """`modified`, else `created`, else the date added (SCOs carry neither)."""
    for key in ("modified", "created"):
        value = obj.get(key)
        if isinstance(value, str):
            return value
    return format_timestamp(date_added, micro=False)


def version_time(version: str, date_added: datetime) -> datetime:
    """`version` as a time (`TaxiiEntry.version_at`); the date added where it is not a STIX
    timestamp (the fixture loader takes what a data file holds)."""
    try:
        return parse_timestamp(version)
    except ValueError:
        return date_added


def spec_version_of(obj: dict[str, Any]) -> str:
    """STIX 2.1 objects say so; an SDO without `spec_version` is STIX 2.0 (which required none)."""
    value = obj.get("spec_version")
    if isinstance(value, str):
        return value
    return "2.0" if "created" in obj else "2.1"


def media_type_for(spec_version: str) -> str:
    return STIX_MEDIA_TYPE.format(spec_version)


def shape_problem(obj: Any) -> str | None:
    """Why `obj` cannot be stored as a STIX object, or None when its shape is acceptable."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    kind, ident = obj.get("type"), obj.get("id")
    if not isinstance(kind, str) or not kind:
        return "missing 'type'"
    if not isinstance(ident, str) or not ident:
        return "missing 'id'"
    if not _TYPE.match(kind):
        return f"'type' {kind!r} is not a STIX type name (lowercase letters, digits, hyphens)"
    match = _ID.match(ident)
    if match is None:
        return f"'id' {ident!r} is not of the form <type>--<UUID>"
    if match.group(1) != kind:
        return f"'id' {ident!r} does not start with its type {kind!r}"
    spec = obj.get("spec_version")
    if spec is not None and spec not in ("2.0", "2.1"):
        return f"'spec_version' {spec!r} is not 2.0 or 2.1"
    for key in ("created", "modified"):
        if key in obj:
            try:
                parse_timestamp(obj[key])
            except ValueError as exc:
                return f"'{key}': {exc}"
    created, modified = obj.get("created"), obj.get("modified")
    if created and modified and parse_timestamp(modified) < parse_timestamp(created):
        return "'modified' is earlier than 'created'"
    return None
