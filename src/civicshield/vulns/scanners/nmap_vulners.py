"""Nmap XML with the `vulners` NSE script (`nmap -sV --script vulners`).

The script lists, per service CPE, vulners.com entries (id, cvss, is_exploit, type). Entries of
type `cve` become findings; exploit entries (metasploit, packetstorm, ...) that name a CVE are
folded into that CVE's finding (aliases, `detail.exploits`), others become findings under their
vulners id. The score has no CVSS version or vector; severity comes from the CVSS qualitative
scale. Other Nmap XML parses too (hosts are counted, no findings).
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from civicshield.vulns.scanners._common import (
    CVE_RE,
    RecordError,
    host_ref,
    number,
    severity_from_score,
)
from civicshield.vulns.scanners.model import ComponentRef, Problem, ScanFinding, ScanReport

__all__ = ["parse_nmap"]

_LINE_RE = re.compile(r"^\s*(\S+)\t([\d.]+)\t(\S+)(\t\*EXPLOIT\*)?\s*$")


def parse_nmap(root: Element, *, source: str) -> ScanReport:
    findings: list[ScanFinding] = []
    problems: list[Problem] = []
    up = 0
    for h_index, host in enumerate(root.findall("host"), start=1):
        h_where = f"{source}: /nmaprun/host[{h_index}]"
        status = host.find("status")
        if status is None or status.get("state") == "up":
            up += 1
        addresses = host.findall("address")
        ref = host_ref(
            problems,
            h_where,
            ips=[a.get("addr") for a in addresses if a.get("addrtype") in ("ipv4", "ipv6")],
            hostnames=[n.get("name") for n in host.findall("hostnames/hostname")],
            macs=[a.get("addr") for a in addresses if a.get("addrtype") == "mac"],
        )
        for p_index, port in enumerate(host.findall("ports/port"), start=1):
            for script in port.findall("script"):
                if script.get("id") != "vulners":
                    continue
                where = f"{h_where}/ports/port[{p_index}]/script[@id='vulners']"
                try:
                    findings.extend(_script(script, port, ref, where))
                except RecordError as exc:
                    problems.append(Problem(where, str(exc)))
    return ScanReport(
        tool="nmap",
        format="nmap-xml",
        source=source,
        findings=findings,
        problems=problems,
        hosts_seen=up,
    )


def _entries(script: Element) -> list[tuple[str, dict[str, str]]]:
    """(cpe, entry) pairs from the script's tables, or from its text output (old versions)."""
    out: list[tuple[str, dict[str, str]]] = []
    for table in script.findall("table"):
        cpe = table.get("key") or ""
        for row in table.findall("table"):
            out.append(
                (cpe, {e.get("key") or "": (e.text or "").strip() for e in row.findall("elem")})
            )
    if script.findall("table"):
        return out
    cpe = ""
    for line in (script.get("output") or "").splitlines():
        match = _LINE_RE.match(line)
        if match:
            out.append(
                (
                    cpe,
                    {
                        "id": match[1],
                        "cvss": match[2],
                        "is_exploit": "true" if match[4] else "false",
                    },
                )
            )
        elif line.strip().endswith(":"):
            cpe = line.strip().rstrip(":").strip()
    return out


def _script(script: Element, port: Element, host: Any, where: str) -> list[ScanFinding]:
    service = port.find("service")
    svc: dict[str, str] = dict(service.attrib) if service is not None else {}
    port_text = f"{port.get('portid')}/{port.get('protocol')}"
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for index, (cpe, entry) in enumerate(_entries(script), start=1):
        ident = entry.get("id", "")
        if not ident:
            raise RecordError(f"vulners entry {index} for {cpe or 'unknown CPE'} has no id")
        cve = CVE_RE.search(ident)
        head = cve.group(0).upper() if cve else ident
        slot = merged.setdefault(
            (cpe, head), {"aliases": [], "exploits": [], "score": None, "index": index}
        )
        exploit = entry.get("is_exploit") == "true"
        if ident.upper() != head:
            slot["aliases"].append(ident)
        if exploit:
            slot["exploits"].append(ident)
        score = number(entry, "cvss")
        if entry.get("type") == "cve" or slot["score"] is None:
            slot["score"] = score if score is not None else slot["score"]
        slot.setdefault("type", entry.get("type"))
    out = []
    for (cpe, head), slot in merged.items():
        parts = cpe.split(":")
        component = ComponentRef(
            name=svc.get("product") or (parts[3] if len(parts) > 3 else svc.get("name", cpe)),
            version=svc.get("version") or (parts[4] if len(parts) > 4 else None),
            cpe=cpe or None,
            kind="service",
        )
        detail = {
            "port": port_text,
            "service": svc.get("name"),
            "vulners_type": slot.get("type"),
            "exploits": slot["exploits"],
            "is_exploit": bool(slot["exploits"]),
        }
        out.append(
            ScanFinding(
                tool="nmap",
                vuln_id=head,
                aliases=tuple(dict.fromkeys(slot["aliases"])),
                host=host,
                component=component,
                severity=severity_from_score(slot["score"]),
                cvss_vector=None,
                cvss_score=slot["score"],
                epss=None,
                epss_percentile=None,
                fix_versions=(),
                tool_ref=None,
                title=" ".join(
                    p for p in (head, "in", component.name, component.version, "on", port_text) if p
                ),
                detail={k: v for k, v in detail.items() if v not in (None, [])},
                location=f"{where}/table[@key='{cpe}']/table[{slot['index']}]",
            )
        )
    return out
