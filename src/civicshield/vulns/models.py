"""Vulnerability tables: CVE records as synced, findings per asset × CVE (with history), the
versioned prioritisation policy, and daily risk snapshots for trends."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = ["Cve", "Finding", "FindingChange", "PriorityPolicy", "RiskSnapshot"]


class Cve(Base):
    """One CVE, merged from every source that spoke of it (CVE JSON 5, NVD, KEV, EPSS). Per-source
    values are kept (`cvss` lists each metric with its source); `applicability` is the serialised
    configuration tree matching uses (see `vulns.applicability.to_json`)."""

    __tablename__ = "vuln_cve"

    cve_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(32))
    published: Mapped[datetime | None] = mapped_column(UTCDateTime())
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    cvss: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    cwes: Mapped[list[str]] = mapped_column(JSON, default=list)
    ssvc: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kev_date_added: Mapped[date | None] = mapped_column(Date, index=True)
    kev_due_date: Mapped[date | None] = mapped_column(Date)
    kev_required_action: Mapped[str] = mapped_column(Text, default="")
    kev_ransomware: Mapped[bool] = mapped_column(Boolean, default=False)
    # The day a complete KEV catalogue first lacked this CVE (CISA removes entries now and
    # then); while set, NVD's and CISA ADP's copies of the KEV facts do not bring it back.
    kev_removed: Mapped[date | None] = mapped_column(Date)
    epss: Mapped[float | None] = mapped_column(Float)
    epss_percentile: Mapped[float | None] = mapped_column(Float)
    epss_date: Mapped[date | None] = mapped_column(Date)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    applicability: Mapped[list[Any]] = mapped_column(JSON, default=list)
    applicability_source: Mapped[str] = mapped_column(String(8), default="")
    packages: Mapped[list[Any]] = mapped_column(JSON, default=list)  # `PackageSpec.to_json`s
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Finding(Base):
    """One CVE on one asset (or on one software component of it: `component` is the software
    key, "" for the asset itself). Sources (our matcher, scanners) merge into one row."""

    __tablename__ = "vuln_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    cve_id: Mapped[str] = mapped_column(String(32), index=True)
    component: Mapped[str] = mapped_column(String(600), default="")
    software_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset_software.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    certainty: Mapped[str] = mapped_column(String(16), default="affected")
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_until: Mapped[date | None] = mapped_column(Date)
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    decision: Mapped[str | None] = mapped_column(String(16), index=True)
    priority: Mapped[int] = mapped_column(Integer, index=True, default=0)
    explanation: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    severity: Mapped[str | None] = mapped_column(String(16), index=True)
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("asset_id", "cve_id", "component", name="uq_vuln_finding_key"),
    )


class FindingChange(Base):
    """One changed field of one finding: who, when, old and new value."""

    __tablename__ = "vuln_finding_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("vuln_finding.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class PriorityPolicy(Base):
    """One version of the prioritisation policy (data, see `vulns.priority`); the highest
    version is in force. Versions are never edited, only added."""

    __tablename__ = "vuln_priority_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))


class RiskSnapshot(Base):
    """The risk score of the city, a sector or a zone on one day (kept for the trend chart)."""

    __tablename__ = "vuln_risk_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    scope: Mapped[str] = mapped_column(String(16))  # city / sector / zone
    key: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("day", "scope", "key", name="uq_vuln_risk_snapshot"),)
