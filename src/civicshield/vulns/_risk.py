"""The risk formula's constants and the shapes of its results (pure: no database).

Public through `civicshield.vulns.risk`; docs/risk.md explains the choices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel

from civicshield.core.enums import LabelledEnum, Sector, Severity
from civicshield.core.i18n import N_
from civicshield.vulns.enums import Decision, FindingStatus

__all__ = [
    "FORMULA",
    "AcceptedRisk",
    "Facts",
    "FindingRow",
    "RiskBand",
    "RiskFormula",
    "RiskSummary",
    "RiskTrend",
    "ScopeRisk",
    "Tally",
    "TrendPoint",
]

UNDECIDED = "undecided"
UNRATED = "unrated"


class RiskBand(LabelledEnum):
    LOW = ("low", N_("Low"), "risk-low")
    MODERATE = ("moderate", N_("Moderate"), "risk-moderate")
    HIGH = ("high", N_("High"), "risk-high")
    SEVERE = ("severe", N_("Severe"), "risk-severe")


def _frozen(values: Mapping[object, float]) -> Mapping[object, float]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class RiskFormula:
    """Every constant of the score. Points of one finding =
    likelihood weight × criticality factor × exposure factor × status factor."""

    # Likelihood: SSVC decision (Act 10, Attend 5, Track* 2, Track 1).
    decision_weights: Mapping[object, float] = field(
        default_factory=lambda: _frozen({"act": 10, "attend": 5, "track_star": 2, "track": 1})
    )
    # Findings not yet prioritised fall back on their severity (CVSS band).
    severity_weights: Mapping[object, float] = field(
        default_factory=lambda: _frozen(
            {"critical": 5, "high": 2, "medium": 1, "low": 0.5, "informational": 0.25}
        )
    )
    unrated_weight: float = 1.0
    # Impact: criticality 1-5 (ID.AM-05) and exposure to the internet.
    criticality_factors: Mapping[object, float] = field(
        default_factory=lambda: _frozen({1: 0.5, 2: 0.75, 3: 1.0, 4: 1.5, 5: 2.0})
    )
    exposed_factor: float = 1.5
    # Accepted risk is still carried by the city (it counts); a compensating control halves it.
    accepted_factor: float = 1.0
    mitigated_factor: float = 0.5
    # Normalisation: score = 100 × P / (P + H), H = base + per_asset × assets, so a scope scores
    # 50 when it carries H points, and a big sector is compared with its own size.
    half_points_base: float = 20.0
    half_points_per_asset: float = 2.0
    # Band floors, highest first.
    bands: tuple[tuple[float, RiskBand], ...] = (
        (75.0, RiskBand.SEVERE),
        (50.0, RiskBand.HIGH),
        (25.0, RiskBand.MODERATE),
        (0.0, RiskBand.LOW),
    )
    top_findings: int = 10
    list_limit: int = 50

    def likelihood(self, decision: str | None, severity: str | None) -> float:
        if decision in self.decision_weights:
            return self.decision_weights[decision]
        return self.severity_weights.get(severity, self.unrated_weight)

    def impact(self, criticality: int, exposed: bool) -> float:
        factor = self.criticality_factors.get(criticality, 1.0)
        return factor * (self.exposed_factor if exposed else 1.0)

    def score(self, points: float, assets: int) -> float:
        if points <= 0:
            return 0.0
        half = self.half_points_base + self.half_points_per_asset * max(assets, 0)
        return round(100.0 * points / (points + half), 1)

    def band(self, score: float) -> RiskBand:
        for floor, band in self.bands:
            if score >= floor:
                return band
        return self.bands[-1][1]


FORMULA = RiskFormula()


class ScopeRisk(BaseModel):
    """The risk of the city, one sector or one zone (`key`: "city", a sector value, a zone)."""

    key: str
    score: float
    band: RiskBand
    points: float
    assets: int
    assets_with_findings: int
    open_findings: int
    by_decision: dict[str, int]  # Decision values (act first), then "undecided"
    by_severity: dict[str, int]  # Severity values (critical first), then "unrated"
    overdue: int
    kev: int
    accepted: int  # accepted and not expired (counted in the score, shown apart)
    accepted_expired: int  # acceptance lapsed: counted as open again


class FindingRow(BaseModel):
    finding_id: int
    asset_id: int
    asset_name: str
    sector: Sector
    zone: str
    cve_id: str
    status: FindingStatus
    decision: Decision | None
    severity: Severity | None
    cvss_score: float | None
    due_date: date | None
    overdue: bool
    kev: bool
    points: float


class AcceptedRisk(BaseModel):
    finding_id: int
    asset_name: str
    sector: Sector
    cve_id: str
    decision: Decision | None
    accepted_until: date | None  # None: accepted without an end date
    approved_by: str
    expired: bool


class RiskSummary(BaseModel):
    day: date
    generated_at: datetime
    scope: list[Sector] | None  # None: the whole city
    city: ScopeRisk  # the city, or the sectors in scope
    sectors: list[ScopeRisk]
    zones: list[ScopeRisk]
    top_findings: list[FindingRow]
    overdue: list[FindingRow]
    overdue_total: int
    accepted: list[AcceptedRisk]


class TrendPoint(BaseModel):
    day: date
    score: float
    band: RiskBand


class RiskTrend(BaseModel):
    start: date
    end: date
    series: dict[str, list[TrendPoint]]  # "city" and sector values, oldest first


_E = TypeVar("_E", bound=LabelledEnum)


def _enum(kind: type[_E], value: str | None) -> _E | None:
    try:
        return None if value is None else kind(value)
    except ValueError:  # an unknown stored value counts as "not set" rather than break a report
        return None


@dataclass
class Facts:
    """One counted finding with everything the summary needs, worked out once."""

    finding_id: int
    asset_id: int
    asset_name: str
    sector: str
    zone: str
    cve_id: str
    status: FindingStatus
    decision: Decision | None
    severity: Severity | None
    cvss_score: float | None
    due_date: date | None
    accepted_until: date | None
    approved_by: str
    kev: bool
    points: float
    accepted: bool  # accepted and not expired
    expired: bool  # was accepted, but the acceptance has lapsed: open again
    overdue: bool

    @classmethod
    def build(
        cls, row: Any, asset: tuple[str, str, str, int, bool], today: date, formula: RiskFormula
    ) -> Facts:
        """`row`: a finding row joined with its CVE's KEV date; `asset`: name, sector, zone,
        criticality, exposure."""
        name, sector, zone, criticality, exposed = asset
        status = _enum(FindingStatus, row.status) or FindingStatus.OPEN
        until = row.accepted_until
        was_accepted = status is FindingStatus.ACCEPTED
        accepted = was_accepted and (until is None or until >= today)
        points = formula.likelihood(row.decision, row.severity)
        points *= formula.impact(criticality, exposed)
        if accepted:
            points *= formula.accepted_factor
        elif status is FindingStatus.MITIGATED:
            points *= formula.mitigated_factor
        overdue = (
            not accepted
            and status is not FindingStatus.MITIGATED
            and row.due_date is not None
            and row.due_date < today
        )
        return cls(
            finding_id=row.id, asset_id=row.asset_id, asset_name=name, sector=sector,
            zone=zone, cve_id=row.cve_id, status=status,
            decision=_enum(Decision, row.decision), severity=_enum(Severity, row.severity),
            cvss_score=row.cvss_score, due_date=row.due_date, accepted_until=until,
            approved_by=row.approved_by or "", kev=row.kev_date_added is not None,
            points=round(points, 2), accepted=accepted, expired=was_accepted and not accepted,
            overdue=overdue,
        )  # fmt: skip

    def row(self) -> FindingRow:
        return FindingRow(
            finding_id=self.finding_id, asset_id=self.asset_id, asset_name=self.asset_name,
            sector=Sector(self.sector), zone=self.zone, cve_id=self.cve_id, status=self.status,
            decision=self.decision, severity=self.severity, cvss_score=self.cvss_score,
            due_date=self.due_date, overdue=self.overdue, kev=self.kev, points=self.points,
        )  # fmt: skip

    def accepted_risk(self) -> AcceptedRisk:
        return AcceptedRisk(
            finding_id=self.finding_id, asset_name=self.asset_name, sector=Sector(self.sector),
            cve_id=self.cve_id, decision=self.decision, accepted_until=self.accepted_until,
            approved_by=self.approved_by, expired=self.expired,
        )  # fmt: skip


@dataclass
class Tally:
    """Running totals of one scope (the city, a sector or a zone)."""

    key: str
    assets: int = 0
    points: float = 0.0
    findings: int = 0
    overdue: int = 0
    kev: int = 0
    accepted: int = 0
    expired: int = 0
    with_findings: set[int] = field(default_factory=set)
    by_decision: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)

    def add(self, fact: Facts) -> None:
        self.points += fact.points
        self.findings += 1
        self.with_findings.add(fact.asset_id)
        self.by_decision[fact.decision.value if fact.decision else UNDECIDED] += 1
        self.by_severity[fact.severity.value if fact.severity else UNRATED] += 1
        self.overdue += fact.overdue
        self.kev += fact.kev
        self.accepted += fact.accepted
        self.expired += fact.expired

    def freeze(self, formula: RiskFormula) -> ScopeRisk:
        score = formula.score(self.points, self.assets)
        decisions = [d.value for d in reversed(Decision)] + [UNDECIDED]
        severities = [s.value for s in reversed(Severity)] + [UNRATED]
        return ScopeRisk(
            key=self.key, score=score, band=formula.band(score), points=round(self.points, 2),
            assets=self.assets, assets_with_findings=len(self.with_findings),
            open_findings=self.findings,
            by_decision={d: self.by_decision[d] for d in decisions},
            by_severity={s: self.by_severity[s] for s in severities},
            overdue=self.overdue, kev=self.kev, accepted=self.accepted,
            accepted_expired=self.expired,
        )  # fmt: skip
