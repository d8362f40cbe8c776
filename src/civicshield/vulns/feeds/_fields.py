"""Typed getters for feed records that say where a bad value is (raise `RecordError`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from civicshield.vulns.feeds._http import RecordError

__all__ = [
    "CVE_ID",
    "as_dict",
    "opt_date",
    "opt_datetime",
    "opt_float",
    "opt_list",
    "opt_str",
    "req_cve_id",
    "req_str",
]

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")


def opt_str(obj: Mapping[str, Any], key: str, path: str = "$") -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{path}.{key}", f"expected a string, got {type(value).__name__}")
    return value


def req_str(obj: Mapping[str, Any], key: str, path: str = "$") -> str:
    value = opt_str(obj, key, path)
    if value is None:
        raise RecordError(f"{path}.{key}", "missing")
    return value


def req_cve_id(obj: Mapping[str, Any], key: str, path: str = "$") -> str:
    value = req_str(obj, key, path).strip()
    if not CVE_ID.match(value):
        raise RecordError(f"{path}.{key}", f"not a CVE id: {value!r}")
    return value


def opt_float(obj: Mapping[str, Any], key: str, path: str = "$") -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{path}.{key}", f"expected a number, got {type(value).__name__}")
    return float(value)


def opt_date(obj: Mapping[str, Any], key: str, path: str = "$") -> date | None:
    value = opt_str(obj, key, path)
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise RecordError(f"{path}.{key}", f"not a date: {value!r}") from None


def opt_datetime(obj: Mapping[str, Any], key: str, path: str = "$") -> datetime | None:
    """ISO 8601 date-time; a value without offset is UTC (as NVD and CVE5 write them)."""
    value = opt_str(obj, key, path)
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(f"{path}.{key}", f"not a date-time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def opt_list(obj: Mapping[str, Any], key: str, path: str = "$") -> list[Any]:
    """`obj[key]` as a list (empty when absent)."""
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise RecordError(f"{path}.{key}", "expected a list")
    return value


def as_dict(value: Any, path: str) -> Mapping[str, Any]:
    """`value` when it is a JSON object."""
    if not isinstance(value, dict):
        raise RecordError(path, "expected an object")
    return value
