"""Neutral records produced by the scanner parsers (no database, no HTTP).

The owner merges `ScanFinding`s into findings per (asset, CVE); `HostRef` says how to find the
asset, `ComponentRef` what software on it. `detail` holds JSON-safe extras an analyst wants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from civicshield.core.errors import Invalid

__all__ = [
    "SEVERITIES",
    "VEX_STATES",
    "ComponentRef",
    "HostRef",
    "Problem",
    "ScanError",
    "ScanFinding",
    "ScanReport",
    "VexStatement",
]

SEVERITIES = ("critical", "high", "medium", "low", "informational")
VEX_STATES = (
    "exploitable",
    "false_positive",
    "in_triage",
    "not_affected",
    "resolved",
    "resolved_with_pedigree",
)


class ScanError(Invalid):
    """The whole input cannot be read (unknown format, corrupt JSON/XML/CSV); names the place."""

    title = "Invalid scanner output"
    slug = "invalid-scan"

    def __init__(self, source: str, position: str | None, problem: str) -> None:
        where = f"{source}: {position}" if position else source
        super().__init__(f"{where}: {problem}")
        self.source, self.position, self.problem = source, position, problem


@dataclass(frozen=True, slots=True)
class HostRef:
    ips: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComponentRef:
    name: str
    version: str | None = None
    purl: str | None = None
    cpe: str | None = None
    kind: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ScanFinding:
    tool: str
    vuln_id: str
    aliases: tuple[str, ...]
    host: HostRef | None
    component: ComponentRef | None
    severity: str | None
    cvss_vector: str | None
    cvss_score: float | None
    epss: float | None
    epss_percentile: float | None
    fix_versions: tuple[str, ...]
    tool_ref: str | None
    title: str
    detail: dict[str, Any]
    location: str


@dataclass(frozen=True, slots=True)
class VexStatement:
    vuln_id: str
    component: ComponentRef | None
    bom_ref: str | None
    state: str
    justification: str | None
    detail: str | None
    response: tuple[str, ...]
    location: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One record that could not be read; the rest of the file still parsed."""

    location: str
    message: str


@dataclass(frozen=True, slots=True)
class ScanReport:
    tool: str
    format: str
    source: str
    findings: list[ScanFinding] = field(default_factory=list)
    vex: list[VexStatement] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    subject: ComponentRef | None = None
    hosts_seen: int = 0
