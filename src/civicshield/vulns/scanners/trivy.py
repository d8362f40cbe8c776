"""Aqua Trivy JSON (`trivy ... --format json`, SchemaVersion 2): Results[].Vulnerabilities[].

Trivy scans images/filesystems/repositories, not hosts: `host` is None, the artifact is the
`subject`. Severity UNKNOWN -> None. CVSS comes as a map per source: nvd first, then the
SeveritySource vendor, then the other sources alphabetically; within the chosen source the
newest CVSS version wins (V40 > V3 > V2).
"""

from __future__ import annotations

from typing import Any

from civicshield.vulns.scanners._common import (
    RecordError,
    mapping,
    number,
    pick_cvss,
    severity,
    split_ids,
    strings,
    text,
)
from civicshield.vulns.scanners.model import ComponentRef, Problem, ScanFinding, ScanReport

__all__ = ["parse_trivy"]


def parse_trivy(doc: dict[str, Any], *, source: str) -> ScanReport:
    findings: list[ScanFinding] = []
    problems: list[Problem] = []
    results = doc.get("Results")
    if results is not None and not isinstance(results, list):
        problems.append(Problem(f"{source}: $.Results", "expected a list"))
        results = []
    for r_index, result in enumerate(results or []):
        r_where = f"{source}: $.Results[{r_index}]"
        if not isinstance(result, dict):
            problems.append(Problem(r_where, "expected an object"))
            continue
        vulns = result.get("Vulnerabilities")
        if vulns is not None and not isinstance(vulns, list):
            problems.append(Problem(f"{r_where}.Vulnerabilities", "expected a list"))
            continue
        for v_index, vuln in enumerate(vulns or []):
            where = f"{r_where}.Vulnerabilities[{v_index}]"
            try:
                findings.extend(_vulnerability(mapping(vuln, "vulnerability"), result, where))
            except RecordError as exc:
                problems.append(Problem(where, str(exc)))
    return ScanReport(
        tool="trivy",
        format="trivy-json",
        source=source,
        findings=findings,
        problems=problems,
        subject=_subject(doc),
    )


def _subject(doc: dict[str, Any]) -> ComponentRef | None:
    name = doc.get("ArtifactName")
    kind = doc.get("ArtifactType")
    meta = doc.get("Metadata")
    image = meta.get("ImageID") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        if not isinstance(image, str):
            return None
        name = image
    return ComponentRef(
        name=name,
        version=image if isinstance(image, str) and image != name else None,
        kind=kind if isinstance(kind, str) else None,
    )


def _vulnerability(vuln: dict[str, Any], result: dict[str, Any], where: str) -> list[ScanFinding]:
    vid = text(vuln, "VulnerabilityID")
    if vid is None:
        raise RecordError("vulnerability without VulnerabilityID")
    pkg = text(vuln, "PkgName")
    if pkg is None:
        raise RecordError("vulnerability without PkgName")
    ident = mapping(vuln.get("PkgIdentifier"), "PkgIdentifier")
    target = result.get("Target") if isinstance(result.get("Target"), str) else None
    component = ComponentRef(
        name=pkg,
        version=text(vuln, "InstalledVersion"),
        purl=text(ident, "PURL"),
        kind=result.get("Type") if isinstance(result.get("Type"), str) else None,
        path=text(vuln, "PkgPath") or target,
    )
    sev_source = text(vuln, "SeveritySource")
    cvss_source, vector, score = _cvss(mapping(vuln.get("CVSS"), "CVSS"), sev_source)
    fixed = text(vuln, "FixedVersion")
    layer = mapping(vuln.get("Layer"), "Layer")
    data_source = mapping(vuln.get("DataSource"), "DataSource")
    detail: dict[str, Any] = {
        "status": text(vuln, "Status"),
        "severity_source": sev_source,
        "severity_raw": text(vuln, "Severity"),
        "vendor_severity": mapping(vuln.get("VendorSeverity"), "VendorSeverity") or None,
        "cvss_source": cvss_source,
        "data_source": text(data_source, "ID"),
        "target": target,
        "class": result.get("Class") if isinstance(result.get("Class"), str) else None,
        "layer": text(layer, "DiffID"),
        "cwe_ids": list(strings(vuln.get("CweIDs"), "CweIDs")) or None,
        "primary_url": text(vuln, "PrimaryURL"),
        "description": text(vuln, "Description"),
    }
    detail = {k: v for k, v in detail.items() if v is not None}
    out = []
    for head, aliases in split_ids([vid, *strings(vuln.get("VendorIDs"), "VendorIDs")]):
        out.append(
            ScanFinding(
                tool="trivy",
                vuln_id=head,
                aliases=aliases,
                host=None,
                component=component,
                severity=severity(vuln.get("Severity")),
                cvss_vector=vector,
                cvss_score=score,
                epss=None,
                epss_percentile=None,
                fix_versions=tuple(v.strip() for v in (fixed or "").split(",") if v.strip()),
                tool_ref=text(vuln, "Fingerprint"),
                title=text(vuln, "Title") or f"{head} in {pkg}",
                detail=detail,
                location=where,
            )
        )
    return out


def _cvss(
    by_source: dict[str, Any], severity_source: str | None
) -> tuple[str | None, str | None, float | None]:
    order = ["nvd"]
    if severity_source and severity_source != "nvd":
        order.append(severity_source)
    order += sorted(k for k in by_source if k not in order)
    for name in order:
        entry = by_source.get(name)
        if not isinstance(entry, dict):
            continue
        vector, score = pick_cvss(
            (version, text(entry, f"V{key}Vector"), number(entry, f"V{key}Score"))
            for key, version in (("40", "4.0"), ("3", "3.0"), ("2", "2.0"))
        )
        if vector is not None or score is not None:
            return name, vector, score
    return None, None, None
