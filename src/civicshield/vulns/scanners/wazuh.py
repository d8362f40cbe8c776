"""Wazuh vulnerability detection: the 4.7 API shape (`data.affected_items[]`, one agent name/IP
per item) and the 4.8+ indexer shape (`hits.hits[]._source` from `wazuh-states-vulnerabilities-*`).

Severity words as given (Critical/High/Medium/Low; "-" or "Untriaged" -> None). Wazuh gives
scores without vectors: 4.7 `cvss3_score` is preferred over `cvss2_score` (0 means absent);
4.8 `vulnerability.score.base`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civicshield.vulns.scanners._common import (
    RecordError,
    host_ref,
    mapping,
    number,
    severity,
    split_ids,
    strings,
    text,
)
from civicshield.vulns.scanners.model import ComponentRef, Problem, ScanFinding, ScanReport

__all__ = ["parse_wazuh"]


def parse_wazuh(doc: dict[str, Any], *, source: str) -> ScanReport:
    findings: list[ScanFinding] = []
    problems: list[Problem] = []
    agents: set[tuple[str | None, str | None]] = set()
    parse: Callable[[dict[str, Any], str, list[Problem]], list[ScanFinding]]
    if isinstance(doc.get("hits"), dict):
        rows = doc["hits"].get("hits")
        path, parse = "$.hits.hits", _v48
    else:
        rows = (
            mapping(doc.get("data"), "data").get("affected_items")
            if isinstance(doc.get("data"), dict)
            else None
        )
        path, parse = "$.data.affected_items", _v47
    if not isinstance(rows, list):
        problems.append(Problem(f"{source}: {path}", "expected a list"))
        rows = []
    for index, row in enumerate(rows):
        where = f"{source}: {path}[{index}]"
        try:
            found = parse(mapping(row, "item"), where, problems)
        except RecordError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        findings.extend(found)
        agents.update((f.detail.get("agent_id"), f.detail.get("agent_name")) for f in found)
    return ScanReport(
        tool="wazuh",
        format="wazuh-json",
        source=source,
        findings=findings,
        problems=problems,
        hosts_seen=len(agents),
    )


def _make(base: dict[str, Any], vid: str | None, where: str) -> list[ScanFinding]:
    if vid is None:
        raise RecordError("item without a vulnerability id")
    return [
        ScanFinding(vuln_id=head, aliases=aliases, location=where, **base)
        for head, aliases in split_ids([vid])
    ]


def _v47(item: dict[str, Any], where: str, problems: list[Problem]) -> list[ScanFinding]:
    name = text(item, "name")
    if name is None:
        raise RecordError("item without package name")
    cvss3 = number(item, "cvss3_score")
    cvss2 = number(item, "cvss2_score")
    detail = {
        "agent_name": text(item, "agent_name"),
        "agent_ip": text(item, "agent_ip"),
        "status": text(item, "status"),
        "condition": text(item, "condition"),
        "type": text(item, "type"),
        "architecture": text(item, "architecture"),
        "detection_time": text(item, "detection_time"),
        "references": list(strings(item.get("external_references"), "external_references")),
        "cvss_version": "3" if cvss3 else ("2" if cvss2 else None),
    }
    base: dict[str, Any] = {
        "tool": "wazuh",
        "host": host_ref(
            problems, where, ips=[text(item, "agent_ip")], hostnames=[text(item, "agent_name")]
        ),
        "component": ComponentRef(
            name=name, version=text(item, "version"), kind=text(item, "type")
        ),
        "severity": severity(item.get("severity")),
        "cvss_vector": None,
        "cvss_score": cvss3 or cvss2 or None,
        "epss": None,
        "epss_percentile": None,
        "fix_versions": (),
        "tool_ref": None,
        "title": text(item, "title") or f"{text(item, 'cve')} in {name}",
        "detail": {k: v for k, v in detail.items() if v not in (None, [])},
    }
    return _make(base, text(item, "cve"), where)


def _v48(hit: dict[str, Any], where: str, problems: list[Problem]) -> list[ScanFinding]:
    src = mapping(hit.get("_source"), "_source")
    agent = mapping(src.get("agent"), "agent")
    pkg = mapping(src.get("package"), "package")
    vuln = mapping(src.get("vulnerability"), "vulnerability")
    host = mapping(src.get("host"), "host")
    os_info = mapping(host.get("os"), "host.os")
    scanner = mapping(vuln.get("scanner"), "vulnerability.scanner")
    score = mapping(vuln.get("score"), "vulnerability.score")
    name = text(pkg, "name")
    if name is None:
        raise RecordError("hit without package.name")
    vid = text(vuln, "id")
    ips = [
        text(agent, "ip"),
        *(
            strings(host.get("ip"), "host.ip")
            if isinstance(host.get("ip"), list)
            else [text(host, "ip")]
        ),
    ]
    detail = {
        "agent_id": text(agent, "id"),
        "agent_name": text(agent, "name"),
        "agent_version": text(agent, "version"),
        "os": text(os_info, "full"),
        "category": text(vuln, "category"),
        "condition": text(scanner, "condition"),
        "scanner_source": text(scanner, "source"),
        "reference": text(vuln, "reference"),
        "detected_at": text(vuln, "detected_at"),
        "under_evaluation": vuln.get("under_evaluation")
        if isinstance(vuln.get("under_evaluation"), bool)
        else None,
        "cvss_version": text(score, "version"),
        "architecture": text(pkg, "architecture"),
    }
    base: dict[str, Any] = {
        "tool": "wazuh",
        "host": host_ref(problems, where, ips=ips, hostnames=[text(agent, "name")]),
        "component": ComponentRef(
            name=name, version=text(pkg, "version"), kind=text(pkg, "type"), path=text(pkg, "path")
        ),
        "severity": severity(vuln.get("severity")),
        "cvss_vector": None,
        "cvss_score": number(score, "base"),
        "epss": None,
        "epss_percentile": None,
        "fix_versions": (),
        "tool_ref": text(hit, "_id"),
        "title": f"{vid} in {name}",
        "detail": {k: v for k, v in detail.items() if v is not None},
    }
    return _make(base, vid, where)
