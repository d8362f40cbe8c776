"""The parsed CVE record both CVE JSON 5 and NVD API 2.0 give: one shape, per-source values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from civicshield.vulns.applicability import CveApplicability
from civicshield.vulns.packages import PackageSpec

__all__ = ["CveRecord", "CvssScore", "Description", "KevMark", "Ssvc"]


@dataclass(frozen=True, slots=True)
class Description:
    lang: str
    value: str


@dataclass(frozen=True, slots=True)
class CvssScore:
    """One CVSS metric as published: `version` "2.0", "3.0", "3.1" or "4.0"; `source` who wrote
    it (`cna:<shortName>`, `adp:<shortName>`, or NVD's source e-mail); `kind` NVD's
    Primary/Secondary, or "cna"/"adp" for CVE5."""

    version: str
    vector: str
    base_score: float | None
    base_severity: str | None
    source: str
    kind: str


@dataclass(frozen=True, slots=True)
class Ssvc:
    """CISA's SSVC decision points (values lower-cased: the data has "none" and "None")."""

    exploitation: str | None  # none / poc / active
    automatable: str | None  # yes / no
    technical_impact: str | None  # partial / total
    version: str | None = None
    role: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class KevMark:
    """The record says the CVE is in CISA KEV (CISA ADP `kev` metric, or NVD `cisaExploitAdd`)."""

    date_added: date | None
    reference: str | None = None
    due_date: date | None = None
    required_action: str | None = None


@dataclass(frozen=True, slots=True)
class CveRecord:
    cve_id: str
    source: str  # "cve5" or "nvd"
    state: str | None  # CVE5 cveMetadata.state (PUBLISHED/REJECTED) or NVD vulnStatus
    published: datetime | None
    modified: datetime | None
    descriptions: tuple[Description, ...]
    cvss: tuple[CvssScore, ...]
    cwes: tuple[str, ...]
    ssvc: Ssvc | None
    kev: KevMark | None
    applicability: CveApplicability
    packages: tuple[PackageSpec, ...] = field(default=())  # CVE5 packages by purl

    def description(self, lang: str = "en") -> str | None:
        for d in self.descriptions:
            if d.lang.lower().split("-")[0] == lang:
                return d.value
        return self.descriptions[0].value if self.descriptions else None

    def cvss_by_version(self) -> dict[str, list[CvssScore]]:
        out: dict[str, list[CvssScore]] = {}
        for score in self.cvss:
            out.setdefault(score.version, []).append(score)
        return out
