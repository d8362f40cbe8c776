"""Pydantic shapes of findings, CVEs and the prioritisation policy for the API, web and CLI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civicshield.core.enums import Sector
from civicshield.vulns.enums import Decision, FindingStatus

__all__ = [
    "CveRead",
    "FindingChangeRead",
    "FindingDetail",
    "FindingFilter",
    "FindingPage",
    "FindingRead",
    "MatchSummary",
    "PolicyRead",
    "ScanImportSummary",
    "StatusChange",
]


class FindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    asset_id: int
    asset_name: str = ""
    sector: str = ""
    zone: str = ""
    cve_id: str = Field(description="CVE id, or the scanner's id when the result names no CVE.")
    component: str = Field(description="Software key on the asset, empty for the asset itself.")
    status: FindingStatus
    status_reason: str
    certainty: str = Field(description="`affected`, or `possible` when the version is unclear.")
    sources: list[str] = Field(description="Who reported it: `matcher`, `grype`, `vex`, …")
    decision: Decision | None
    priority: int = Field(description="Sort key: lower is sooner.")
    severity: str | None
    cvss_score: float | None
    cvss_vector: str
    due_date: date | None
    overdue: bool = False
    kev: bool = False
    epss: float | None = None
    first_seen: datetime
    last_seen: datetime
    fixed_at: datetime | None
    accepted_until: date | None
    approved_by: str
    reopened: int
    explanation: list[str]
    policy_version: int | None


class FindingChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    field: str
    old: Any
    new: Any
    reason: str


class CveRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cve_id: str
    state: str | None
    published: datetime | None
    modified: datetime | None
    description: str
    cvss: list[dict[str, Any]]
    cwes: list[str]
    ssvc: dict[str, Any] | None
    kev_date_added: date | None
    kev_due_date: date | None
    kev_required_action: str
    kev_ransomware: bool
    kev_removed: date | None = None
    epss: float | None
    epss_percentile: float | None
    epss_date: date | None
    sources: list[str]


class FindingDetail(FindingRead):
    evidence: dict[str, Any]
    history: list[FindingChangeRead]
    cve: CveRead | None


class FindingPage(BaseModel):
    items: list[FindingRead]
    total: int
    limit: int
    offset: int
    counts: dict[str, int] = Field(
        default_factory=dict, description="Open findings per decision over the whole filter."
    )


class FindingFilter(BaseModel):
    """Every field narrows the list; unset means any."""

    status: list[FindingStatus] = Field(default_factory=list)
    open_only: bool = Field(default=False, description="Only findings that still need work.")
    decision: list[Decision] = Field(default_factory=list)
    sector: list[Sector] = Field(default_factory=list)
    severity: list[str] = Field(default_factory=list)
    asset_id: int | None = None
    cve_id: str | None = None
    kev: bool | None = None
    overdue: bool | None = None
    q: str | None = Field(default=None, description="Text in the CVE id, asset name or component.")


class StatusChange(BaseModel):
    """A status change; `accepted` needs `accepted_until` (a future date), `false_positive` and
    `accepted` need a reason."""

    status: FindingStatus
    reason: str = ""
    accepted_until: date | None = None
    approver: str | None = Field(
        default=None, description="Who approved an accepted risk (default: whoever acts)."
    )


class MatchSummary(BaseModel):
    assets: int = 0
    cpes: int = 0
    cves: int = 0
    created: int = 0
    reopened: int = 0
    fixed: int = 0
    still_open: int = 0
    seconds: float = 0.0


class ScanImportSummary(BaseModel):
    source: str
    tool: str
    format: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    false_positive: int = 0
    problems: list[dict[str, str]] = Field(
        default_factory=list, description="Records not imported, each with location and reason."
    )


class PolicyRead(BaseModel):
    version: int
    data: dict[str, Any]
    note: str
    created_at: datetime | None
    created_by: str
