"""Greenbone/OpenVAS results: the GMP XML report (`<report>`) and the CSV export.

Severity is the tool's threat label: High/Medium/Low as given, Log/Debug -> informational,
"False Positive" -> None (kept in detail). An empty label is derived from the numeric severity
with the CVSS qualitative scale. `cvss_score` is the result's severity number as given.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from xml.etree.ElementTree import Element

from civicshield.vulns.scanners._common import (
    CVE_RE,
    RecordError,
    host_ref,
    number,
    severity,
    severity_from_score,
    split_ids,
)
from civicshield.vulns.scanners.model import (
    ComponentRef,
    Problem,
    ScanError,
    ScanFinding,
    ScanReport,
)

__all__ = ["CSV_REQUIRED", "parse_openvas_csv", "parse_openvas_xml"]

CSV_REQUIRED = ("IP", "CVSS", "Severity", "NVT Name", "NVT OID", "CVEs")
_CPE_RE = re.compile(r"cpe:/[aho]:[^\s,;]+")


def _label(threat: str | None, score: float | None) -> str | None:
    if threat and threat.strip():
        return severity(threat)
    return severity_from_score(score)


def _component(*texts: str | None) -> ComponentRef | None:
    """OpenVAS names the detected product as a CPE 2.2 URI in free text; take the first."""
    for value in texts:
        match = _CPE_RE.search(value or "")
        if match:
            parts = match.group(0).split(":")
            product = parts[3] if len(parts) > 3 else match.group(0)
            return ComponentRef(
                name=product, version=parts[4] if len(parts) > 4 else None, cpe=match.group(0)
            )
    return None


def _findings(
    cves: list[str], oid: str | None, base: dict[str, Any], where: str
) -> list[ScanFinding]:
    ids = cves or ([oid] if oid else [])
    if not ids:
        raise RecordError("result without NVT OID or CVE")
    return [
        ScanFinding(vuln_id=head, aliases=aliases, location=where, **base)
        for head, aliases in split_ids(ids)
    ]


def parse_openvas_xml(root: Element, *, source: str) -> ScanReport:
    inner = root.find("report")
    report = inner if inner is not None else root
    findings: list[ScanFinding] = []
    problems: list[Problem] = []
    hosts = {(h.findtext("ip") or "").strip() for h in report.findall("host")} - {""}
    for index, result in enumerate(report.findall("results/result"), start=1):
        where = f"{source}: /report/results/result[{index}] id={result.get('id')}"
        try:
            findings.extend(_xml_result(result, where, problems))
        except RecordError as exc:
            problems.append(Problem(where, str(exc)))
        hosts.add((result.findtext("host") or "").strip())
    hosts.discard("")
    return ScanReport(
        tool="openvas",
        format="openvas-xml",
        source=source,
        findings=findings,
        problems=problems,
        hosts_seen=len(hosts),
    )


def _xml_result(result: Element, where: str, problems: list[Problem]) -> list[ScanFinding]:
    host_el = result.find("host")
    ip = (host_el.text or "").strip() if host_el is not None else ""
    hostname = host_el.findtext("hostname") if host_el is not None else None
    nvt = result.find("nvt")
    oid = nvt.get("oid") if nvt is not None else None
    cves = (
        [r.get("id") or "" for r in nvt.findall("refs/ref") if r.get("type") == "cve"]
        if nvt is not None
        else []
    )
    cves += [c.strip() for c in (nvt.findtext("cve") or "").split(",")] if nvt is not None else []
    cves = [c for c in cves if CVE_RE.fullmatch(c.strip())]
    tags = dict(
        part.split("=", 1)
        for part in ((nvt.findtext("tags") if nvt is not None else "") or "").split("|")
        if "=" in part
    )
    score = number({"s": result.findtext("severity")}, "s")
    threat = result.findtext("threat")
    # GMP 21.04+ carries the vector in nvt/severities; older feeds in the cvss_base_vector tag.
    vector = (nvt.findtext("severities/severity/value") if nvt is not None else None) or tags.get(
        "cvss_base_vector"
    )
    name = (
        result.findtext("name")
        or (nvt.findtext("name") if nvt is not None else None)
        or oid
        or "OpenVAS result"
    )
    description = (result.findtext("description") or "").strip()
    detail = {
        "port": result.findtext("port"),
        "nvt_oid": oid,
        "nvt_name": nvt.findtext("name") if nvt is not None else None,
        "nvt_family": nvt.findtext("family") if nvt is not None else None,
        "qod": number({"q": result.findtext("qod/value")}, "q"),
        "qod_type": result.findtext("qod/type"),
        "threat": threat,
        "original_threat": result.findtext("original_threat"),
        "solution_type": tags.get("solution_type"),
        "solution": tags.get("solution"),
        "description": description,
    }
    base: dict[str, Any] = {
        "tool": "openvas",
        "host": host_ref(problems, where, ips=[ip], hostnames=[hostname]),
        "component": _component(description, tags.get("affected")),
        "severity": _label(threat, score),
        "cvss_vector": vector.strip() if vector else None,
        "cvss_score": score,
        "epss": None,
        "epss_percentile": None,
        "fix_versions": (),
        "tool_ref": result.get("id"),
        "title": name.strip(),
        "detail": {k: v for k, v in detail.items() if v not in (None, "")},
    }
    if ip and base["host"] is not None and not base["host"].ips:
        base["detail"]["host_text"] = ip
    return _findings(cves, oid, base, where)


def parse_openvas_csv(text: str, *, source: str) -> ScanReport:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ScanError(source, "line 1", f"invalid CSV: {exc}") from None
    if not header:
        raise ScanError(source, "line 1", "empty CSV: no header row")
    header = [h.strip() for h in header]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise ScanError(source, "line 1", f"CSV header lacks column(s): {', '.join(missing)}")
    findings: list[ScanFinding] = []
    problems: list[Problem] = []
    hosts: set[str] = set()
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise ScanError(source, f"line {reader.line_num}", f"invalid CSV: {exc}") from None
        if row is None:
            break
        where = f"{source}: line {start}"
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(where, f"row has {len(row)} fields, header has {len(header)}"))
            continue
        record = dict(zip(header, row, strict=True))
        try:
            findings.extend(_csv_row(record, where, problems))
        except RecordError as exc:
            problems.append(Problem(where, str(exc)))
        hosts.add(record["IP"].strip())
    hosts.discard("")
    return ScanReport(
        tool="openvas",
        format="openvas-csv",
        source=source,
        findings=findings,
        problems=problems,
        hosts_seen=len(hosts),
    )


def _csv_row(row: dict[str, str], where: str, problems: list[Problem]) -> list[ScanFinding]:
    score = number(row, "CVSS")
    port = row.get("Port", "").strip()
    proto = row.get("Port Protocol", "").strip()
    oid = row["NVT OID"].strip() or None
    cves = [c.strip() for c in row["CVEs"].split(",") if CVE_RE.fullmatch(c.strip())]
    detail = {
        "port": f"{port}/{proto}" if port and proto else port or None,
        "nvt_oid": oid,
        "nvt_name": row["NVT Name"].strip() or None,
        "qod": number(row, "QoD"),
        "threat": row["Severity"].strip() or None,
        "solution_type": row.get("Solution Type", "").strip() or None,
        "solution": row.get("Solution", "").strip() or None,
        "task": row.get("Task Name", "").strip() or None,
        "timestamp": row.get("Timestamp", "").strip() or None,
        "specific_result": row.get("Specific Result", "").strip() or None,
    }
    ip = row["IP"].strip()
    base: dict[str, Any] = {
        "tool": "openvas",
        "host": host_ref(problems, where, ips=[ip], hostnames=[row.get("Hostname")]),
        "component": _component(row.get("Product Detection Result"), row.get("Specific Result")),
        "severity": _label(row["Severity"], score),
        "cvss_vector": None,
        "cvss_score": score,
        "epss": None,
        "epss_percentile": None,
        "fix_versions": (),
        "tool_ref": row.get("Result ID", "").strip() or None,
        "title": row["NVT Name"].strip() or oid or "OpenVAS result",
        "detail": {k: v for k, v in detail.items() if v is not None},
    }
    return _findings(cves, oid, base, where)
