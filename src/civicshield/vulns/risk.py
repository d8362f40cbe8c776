"""Risk scores per sector, zone and city from open findings, with daily snapshots for trends.

The formula (docs/risk.md) follows NIST SP 800-30's risk = likelihood × impact: the SSVC
decision stands for likelihood (it already weighs exploitation and automatability), the asset's
criticality and internet exposure for impact (CSF 2.0 ID.RA-05). Every constant lives in
`RiskFormula`, so a city changes them in one place.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicshield.assets.enums import Lifecycle
from civicshield.assets.models import Asset
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector
from civicshield.core.errors import FieldError, Invalid
from civicshield.vulns._risk import (
    FORMULA,
    AcceptedRisk,
    Facts,
    FindingRow,
    RiskBand,
    RiskFormula,
    RiskSummary,
    RiskTrend,
    ScopeRisk,
    Tally,
    TrendPoint,
)
from civicshield.vulns.enums import CLOSED_STATUSES, FindingStatus
from civicshield.vulns.models import Cve, Finding, RiskSnapshot

__all__ = [
    "FORMULA",
    "AcceptedRisk",
    "FindingRow",
    "RiskBand",
    "RiskFormula",
    "RiskSummary",
    "RiskTrend",
    "ScopeRisk",
    "TrendPoint",
    "risk_trend",
    "sector_risk",
    "take_snapshot",
]

CITY = "city"


def _today(clock: Clock, tz: str) -> date:
    return clock.now().astimezone(ZoneInfo(tz)).date()


def _sector_values(scope: Collection[Sector] | None) -> list[str] | None:
    return None if scope is None else sorted(Sector(s).value for s in scope)


def sector_risk(
    session: Session,
    *,
    scope: Collection[Sector] | None,
    clock: Clock,
    tz: str = "UTC",
    formula: RiskFormula = FORMULA,
) -> RiskSummary:
    """Scores of the active assets in `scope` (None: every sector) on today's date in `tz`."""
    today = _today(clock, tz)
    sectors = _sector_values(scope)
    assets = select(
        Asset.id, Asset.name, Asset.sector, Asset.zone, Asset.criticality, Asset.internet_exposed
    ).where(Asset.lifecycle == Lifecycle.ACTIVE.value)
    if sectors is not None:
        assets = assets.where(Asset.sector.in_(sectors))
    city = Tally(CITY)
    by_sector: dict[str, Tally] = {s: Tally(s) for s in sectors or []}
    by_zone: dict[str, Tally] = {}
    info: dict[int, tuple[str, str, str, int, bool]] = {}
    for asset_id, name, sector, zone, criticality, exposed in session.execute(assets):
        info[asset_id] = (name, sector, zone, criticality, exposed)
        for tally in (city, by_sector.setdefault(sector, Tally(sector)), _zone(by_zone, zone)):
            tally.assets += 1
    rows = (
        select(
            Finding.id,
            Finding.asset_id,
            Finding.cve_id,
            Finding.status,
            Finding.decision,
            Finding.severity,
            Finding.cvss_score,
            Finding.due_date,
            Finding.accepted_until,
            Finding.approved_by,
            Cve.kev_date_added,
        )
        .join(Asset, Asset.id == Finding.asset_id)
        .outerjoin(Cve, Cve.cve_id == Finding.cve_id)
        .where(Finding.status.not_in([s.value for s in CLOSED_STATUSES]))
        .where(Asset.lifecycle == Lifecycle.ACTIVE.value)
    )
    if sectors is not None:
        rows = rows.where(Asset.sector.in_(sectors))
    facts: list[Facts] = []
    for row in session.execute(rows):
        sector, zone = info[row.asset_id][1:3]
        fact = Facts.build(row, info[row.asset_id], today, formula)
        facts.append(fact)
        for tally in (city, by_sector[sector], _zone(by_zone, zone)):
            tally.add(fact)
    return RiskSummary(
        day=today,
        generated_at=clock.now(),
        scope=None if sectors is None else [Sector(s) for s in sectors],
        city=city.freeze(formula),
        sectors=[by_sector[s.value].freeze(formula) for s in Sector if s.value in by_sector],
        zones=[by_zone[z].freeze(formula) for z in sorted(by_zone)],
        top_findings=[f.row() for f in sorted(_open(facts), key=_urgency)][: formula.top_findings],
        overdue=[f.row() for f in sorted(_overdue(facts), key=_by_due)][: formula.list_limit],
        overdue_total=sum(1 for f in facts if f.overdue),
        accepted=[f.accepted_risk() for f in sorted(_accepted(facts), key=_by_until)],
    )


def _zone(by_zone: dict[str, Tally], zone: str) -> Tally:
    return by_zone.setdefault(zone, Tally(zone))


def _open(facts: list[Facts]) -> list[Facts]:
    return [f for f in facts if not f.accepted]


def _overdue(facts: list[Facts]) -> list[Facts]:
    return [f for f in facts if f.overdue]


def _accepted(facts: list[Facts]) -> list[Facts]:
    return [f for f in facts if f.status is FindingStatus.ACCEPTED]


def _urgency(f: Facts) -> tuple[int, bool, date, float, int]:
    rank = f.decision.rank if f.decision else -1
    return (-rank, not f.kev, f.due_date or date.max, -f.points, f.finding_id)


def _by_due(f: Facts) -> tuple[date, int]:
    return (f.due_date or date.max, f.finding_id)


def _by_until(f: Facts) -> tuple[date, int]:
    return (f.accepted_until or date.max, f.finding_id)


def take_snapshot(
    session: Session, *, clock: Clock, tz: str = "UTC", formula: RiskFormula = FORMULA
) -> RiskSummary:
    """Store today's city, sector and zone scores; running again the same day replaces them."""
    summary = sector_risk(session, scope=None, clock=clock, tz=tz, formula=formula)
    session.execute(delete(RiskSnapshot).where(RiskSnapshot.day == summary.day))
    rows = [("city", summary.city)]
    rows += [("sector", s) for s in summary.sectors] + [("zone", z) for z in summary.zones]
    for kind, risk in rows:
        data = risk.model_dump(mode="json", exclude={"key", "score"})
        session.add(
            RiskSnapshot(day=summary.day, scope=kind, key=risk.key, score=risk.score, data=data)
        )
    session.flush()
    return summary


def risk_trend(
    session: Session,
    *,
    scope: Collection[Sector] | None,
    days: int = 90,
    clock: Clock,
    tz: str = "UTC",
    formula: RiskFormula = FORMULA,
) -> RiskTrend:
    """Daily scores over the last `days` days (city and sectors). A scoped reader's "city"
    series is recomputed from the points of their own sectors, so it reveals no other sector."""
    if not 1 <= days <= 3660:
        raise Invalid("days out of range", [FieldError(("days",), "must be from 1 to 3660")])
    end = _today(clock, tz)
    start = end - timedelta(days=days)
    sectors = _sector_values(scope)
    query = (
        select(RiskSnapshot)
        .where(RiskSnapshot.day >= start, RiskSnapshot.day <= end)
        .where(RiskSnapshot.scope.in_(["city", "sector"]))
        .order_by(RiskSnapshot.day, RiskSnapshot.scope, RiskSnapshot.key)
    )
    series: dict[str, list[TrendPoint]] = {}
    totals: dict[date, tuple[float, int]] = {}
    for snap in session.scalars(query):
        if snap.scope == "sector" and sectors is not None and snap.key not in sectors:
            continue
        if snap.scope == "city" and sectors is not None:
            continue
        point = TrendPoint(day=snap.day, score=snap.score, band=formula.band(snap.score))
        series.setdefault(snap.key, []).append(point)
        if snap.scope == "sector":
            points, assets = totals.get(snap.day, (0.0, 0))
            data = snap.data or {}
            totals[snap.day] = (
                points + float(data.get("points", 0)),
                assets + int(data.get("assets", 0)),
            )
    if sectors is not None:
        series[CITY] = [
            TrendPoint(day=d, score=(s := formula.score(p, n)), band=formula.band(s))
            for d, (p, n) in sorted(totals.items())
        ]
    return RiskTrend(start=start, end=end, series=series)
