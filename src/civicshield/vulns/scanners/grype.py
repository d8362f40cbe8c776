"""Anchore Grype JSON (`grype -o json`): one record per match (per CVE named).

Grype scans an image, directory or SBOM, not a host: `host` is None and the scanned target is
the report's `subject`. Severity: Negligible -> informational, Unknown -> None.
"""

from __future__ import annotations

from typing import Any

from civicshield.vulns.scanners._common import (
    RecordError,
    items,
    mapping,
    number,
    pick_cvss,
    severity,
    split_ids,
    strings,
    text,
)
from civicshield.vulns.scanners.model import ComponentRef, Problem, ScanFinding, ScanReport

__all__ = ["parse_grype"]


def parse_grype(doc: dict[str, Any], *, source: str) -> ScanReport:
    findings: list[ScanFinding] = []
    problems: list[Problem] = []
    matches = doc.get("matches")
    if not isinstance(matches, list):
        problems.append(Problem(f"{source}: $.matches", "expected a list of matches"))
        matches = []
    for index, match in enumerate(matches):
        where = f"{source}: $.matches[{index}]"
        try:
            findings.extend(_match(mapping(match, "match"), where))
        except RecordError as exc:
            problems.append(Problem(where, str(exc)))
    return ScanReport(
        tool="grype",
        format="grype-json",
        source=source,
        findings=findings,
        problems=problems,
        subject=_subject(doc.get("source")),
    )


def _subject(value: object) -> ComponentRef | None:
    if not isinstance(value, dict):
        return None
    target = value.get("target")
    kind = value.get("type") if isinstance(value.get("type"), str) else None
    if isinstance(target, str) and target:
        return ComponentRef(name=target, kind=kind)
    if isinstance(target, dict) and isinstance(target.get("userInput"), str):
        image = target.get("imageID")
        return ComponentRef(
            name=target["userInput"], version=image if isinstance(image, str) else None, kind=kind
        )
    return None


def _match(match: dict[str, Any], where: str) -> list[ScanFinding]:
    vuln = mapping(match.get("vulnerability"), "vulnerability")
    vid = text(vuln, "id")
    if vid is None:
        raise RecordError("match without vulnerability.id")
    related = [
        mapping(r, "relatedVulnerabilities[]")
        for r in items(match.get("relatedVulnerabilities"), "relatedVulnerabilities")
    ]
    artifact = mapping(match.get("artifact"), "artifact")
    name = text(artifact, "name")
    if name is None:
        raise RecordError("match without artifact.name")
    version = text(artifact, "version")
    locations = [
        text(mapping(loc, "location"), "path")
        for loc in items(artifact.get("locations"), "artifact.locations")
    ]
    paths = [p for p in locations if p]
    cpes = strings(artifact.get("cpes"), "artifact.cpes")
    component = ComponentRef(
        name=name,
        version=version,
        purl=text(artifact, "purl"),
        cpe=cpes[0] if cpes else None,
        kind=text(artifact, "type"),
        path=paths[0] if paths else None,
    )
    # The matched record's CVSS first; for distro matches Grype puts NVD's in related entries.
    vector, score = pick_cvss(_cvss(vuln))
    if vector is None and score is None:
        for rel in related:
            vector, score = pick_cvss(_cvss(rel))
            if vector is not None or score is not None:
                break
    fix = mapping(vuln.get("fix"), "vulnerability.fix")
    epss = {
        (text(e, "cve") or "").upper(): e
        for e in (mapping(x, "epss[]") for x in items(vuln.get("epss"), "vulnerability.epss"))
    }
    description = text(vuln, "description") or next(
        (text(r, "description") for r in related if text(r, "description")), None
    )
    detail: dict[str, Any] = {
        "namespace": text(vuln, "namespace"),
        "data_source": text(vuln, "dataSource"),
        "match_details": items(match.get("matchDetails"), "matchDetails"),
        "fix_state": text(fix, "state"),
        "risk": number(vuln, "risk"),
        "locations": paths,
        "description": description,
        "severity_raw": text(vuln, "severity"),
    }
    ids = [vid, *(i for r in related if (i := text(r, "id")))]
    out = []
    for head, aliases in split_ids(ids):
        score_row = epss.get(head.upper()) or (
            next(iter(epss.values())) if len(epss) == 1 else None
        )
        out.append(
            ScanFinding(
                tool="grype",
                vuln_id=head,
                aliases=aliases,
                host=None,
                component=component,
                severity=severity(vuln.get("severity")),
                cvss_vector=vector,
                cvss_score=score,
                epss=number(score_row, "epss") if score_row else None,
                epss_percentile=number(score_row, "percentile") if score_row else None,
                fix_versions=strings(fix.get("versions"), "fix.versions"),
                tool_ref=None,
                title=f"{head} in {name} {version or ''}".strip(),
                detail={k: v for k, v in detail.items() if v not in (None, [], "")},
                location=where,
            )
        )
    return out


def _cvss(vuln: dict[str, Any]) -> list[tuple[str | None, str | None, float | None]]:
    out = []
    for raw in items(vuln.get("cvss"), "cvss"):
        entry = mapping(raw, "cvss[]")
        metrics = mapping(entry.get("metrics"), "cvss[].metrics")
        out.append((text(entry, "version"), text(entry, "vector"), number(metrics, "baseScore")))
    return out
