"""Shared helpers: defensive JSON access, severity/CVSS choice, host normalisation, decoding."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from civicshield.vulns.scanners.model import SEVERITIES, HostRef, Problem, ScanError

CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)

# Tool words that are not one of our five levels. "unknown" means the tool has no rating: None,
# never a guess. Words that say "no risk rating / log only" become informational.
_SEVERITY_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "informational",
    "info": "informational",
    "informational": "informational",
    "none": "informational",
    "log": "informational",
    "debug": "informational",
}


class RecordError(Exception):
    """One record is unusable; the caller turns it into a `Problem` and carries on."""


def severity(word: object) -> str | None:
    if not isinstance(word, str):
        return None
    return _SEVERITY_WORDS.get(word.strip().lower())


def severity_from_score(score: float | None) -> str | None:
    """CVSS v3/v4 qualitative rating scale (FIRST CVSS v3.1 specification, section 5)."""
    if score is None:
        return None
    if score == 0:
        return "informational"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    return "high" if score < 9 else "critical"


_VERSION_RANK = {"4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1}


def cvss_version(vector: str | None, declared: str | None = None) -> str | None:
    if vector:
        match = re.match(r"CVSS:(\d\.\d)/", vector)
        if match:
            return match.group(1)
        if vector.startswith(("AV:", "(AV:")):
            return "2.0"
    if declared in ("2", "3", "4"):
        return {"2": "2.0", "3": "3.0", "4": "4.0"}[declared]
    return declared


def pick_cvss(
    candidates: Iterable[tuple[str | None, str | None, float | None]],
) -> tuple[str | None, float | None]:
    """(version, vector, score) candidates -> the newest version's (vector, score); ties: first."""
    best: tuple[int, str | None, float | None] | None = None
    for version, vector, score in candidates:
        if vector is None and score is None:
            continue
        rank = _VERSION_RANK.get(cvss_version(vector, version) or "", 0)
        if best is None or rank > best[0]:
            best = (rank, vector, score)
    return (best[1], best[2]) if best else (None, None)


def split_ids(ids: Iterable[str]) -> list[tuple[str, tuple[str, ...]]]:
    """One (vuln_id, aliases) per CVE named; with no CVE, the first id and the rest as aliases."""
    unique: list[str] = []
    for raw in ids:
        ident = raw.strip()
        if CVE_RE.fullmatch(ident):
            ident = ident.upper()
        if ident and ident not in unique:
            unique.append(ident)
    cves = [i for i in unique if CVE_RE.fullmatch(i)]
    heads = cves or unique[:1]
    return [(head, tuple(i for i in unique if i != head)) for head in heads]


def text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise RecordError(f"{key}: expected text, got {type(value).__name__}")
    return value.strip() or None


def number(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"{key}: expected a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{key}: expected a number, got {value!r}") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise RecordError(f"{key}: expected a finite number")
    return result


def mapping(value: object, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{what}: expected an object")
    return value


def items(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{what}: expected a list")
    return value


def strings(value: object, what: str) -> tuple[str, ...]:
    return tuple(
        str(v).strip()
        for v in items(value, what)
        if isinstance(v, str | int | float) and str(v).strip()
    )


def norm_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def norm_mac(value: str | None) -> str | None:
    if not value:
        return None
    digits = re.sub(r"[^0-9a-fA-F]", "", value)
    if len(digits) != 12 or not re.fullmatch(r"[0-9A-Fa-f:.\- ]+", value.strip()):
        return None
    digits = digits.lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def host_ref(
    problems: list[Problem],
    location: str,
    *,
    ips: Iterable[str | None] = (),
    hostnames: Iterable[str | None] = (),
    macs: Iterable[str | None] = (),
) -> HostRef | None:
    """Normalised HostRef; an unreadable address becomes a problem (the finding is kept)."""
    good_ips: list[str] = []
    for raw in ips:
        if raw and raw.strip():
            ip = norm_ip(raw)
            if ip is None:
                problems.append(Problem(location, f"not an IP address: {raw.strip()!r}"))
            elif ip not in good_ips:
                good_ips.append(ip)
    names = [h.strip().lower().rstrip(".") for h in hostnames if h and h.strip()]
    good_macs: list[str] = []
    for raw in macs:
        if raw and raw.strip():
            mac = norm_mac(raw)
            if mac is None:
                problems.append(Problem(location, f"not a MAC address: {raw.strip()!r}"))
            elif mac not in good_macs:
                good_macs.append(mac)
    if not (good_ips or names or good_macs):
        return None
    return HostRef(tuple(good_ips), tuple(dict.fromkeys(names)), tuple(good_macs))


def load_json(data: bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ScanError(
            source, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise ScanError(source, f"byte {exc.start}", "not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise ScanError(source, None, f"invalid JSON: {exc}") from None


def load_xml(data: bytes, source: str) -> Element:
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=False)
    except ParseError as exc:
        line, column = exc.position
        raise ScanError(source, f"line {line} column {column + 1}", f"invalid XML: {exc}") from None
    except DefusedXmlException as exc:
        raise ScanError(source, None, f"refused XML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise ScanError(source, None, f"invalid XML: {exc}") from None
    return root


def local(tag: object) -> str:
    """Element tag without its namespace ("{ns}bom" -> "bom")."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def severity_or_none(value: str | None) -> str | None:
    return value if value in SEVERITIES else None
