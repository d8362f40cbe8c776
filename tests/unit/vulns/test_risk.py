"""The risk formula on constructed findings: scores, bands, accepted-risk expiry, scoping,
snapshot idempotence and the trend (SQLite through the project's `runtime` fixture)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from civicshield import assets
from civicshield.assets import AssetCreate
from civicshield.core import SYSTEM, FrozenClock, Sector
from civicshield.core.errors import Invalid
from civicshield.jobs import JobContext
from civicshield.runtime import Runtime
from civicshield.vulns.enums import Decision
from civicshield.vulns.jobs import JOBS, RISK_SNAPSHOT_JOB
from civicshield.vulns.models import Cve, Finding, RiskSnapshot
from civicshield.vulns.risk import (
    FORMULA,
    RiskBand,
    RiskFormula,
    risk_trend,
    sector_risk,
    take_snapshot,
)

TODAY = date(2026, 11, 22)  # the conftest clock's day (12:00 UTC)


def add_asset(rt: Runtime, name: str, sector: str, **kw: Any) -> int:
    values: dict[str, Any] = {"name": name, "sector": sector, "kind": "it", **kw}
    with rt.session() as session:
        return assets.create_asset(
            session, AssetCreate.model_validate(values), actor=SYSTEM, clock=rt.clock
        ).id


def add_finding(rt: Runtime, asset_id: int, cve: str, **kw: Any) -> int:
    now = rt.clock.now()
    values: dict[str, Any] = {"status": "open", "decision": None, "severity": None, **kw}
    with rt.session() as session:
        row = Finding(
            asset_id=asset_id,
            cve_id=cve,
            first_seen=now,
            last_seen=now,
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def city(runtime: Runtime) -> dict[str, int]:
    """Water: a vital PLC (20 + 4 accepted points). Transport: an exposed camera with a KEV
    finding past due (5 × 1.5 × 1.5) and a fixed one; a retired camera. Health: clean."""
    rt = runtime
    plc = add_asset(rt, "plc-pump-7", "water", kind="ot", criticality=5, zone="scada")
    cam = add_asset(rt, "cam-plaza", "transport", criticality=4, internet_exposed=True, zone="z1")
    old = add_asset(rt, "cam-old", "transport", criticality=5, zone="z1")
    add_asset(rt, "srv-clinic", "health", criticality=3, zone="clinic")
    with rt.session() as session:
        assets.retire_asset(session, old, actor=SYSTEM, clock=rt.clock)
        session.add(
            Cve(cve_id="CVE-2024-0002", kev_date_added=date(2024, 5, 1), updated_at=rt.clock.now())
        )
    ids = {
        "act": add_finding(
            rt,
            plc,
            "CVE-2024-0001",
            decision="act",
            severity="critical",
            due_date=TODAY + timedelta(days=3),
        ),
        "accepted": add_finding(
            rt,
            plc,
            "CVE-2024-0003",
            decision="track_star",
            severity="medium",
            status="accepted",
            accepted_until=TODAY + timedelta(days=10),
            approved_by="CISO",
            due_date=TODAY - timedelta(days=5),
        ),
        "kev": add_finding(
            rt,
            cam,
            "CVE-2024-0002",
            decision="attend",
            severity="high",
            due_date=TODAY - timedelta(days=1),
        ),
    }
    add_finding(rt, cam, "CVE-2024-0004", decision="act", status="fixed")
    add_finding(rt, old, "CVE-2024-0005", decision="act")
    return {**ids, "plc_asset": plc}


def test_formula_score_bands_and_weights() -> None:
    assert FORMULA.score(0, 10) == 0.0 and FORMULA.band(0.0) is RiskBand.LOW
    # The score is 50 exactly when the points equal the half point (20 + 2 per asset).
    assert FORMULA.score(40, 10) == 50.0 and FORMULA.band(50.0) is RiskBand.HIGH
    assert FORMULA.score(10, 10) < FORMULA.score(20, 10) < FORMULA.score(1000, 10) < 100
    assert FORMULA.score(40, 10) > FORMULA.score(40, 100)  # compared with its own size
    assert [FORMULA.band(v) for v in (24.9, 25.0, 74.9, 75.0)] == [
        RiskBand.LOW,
        RiskBand.MODERATE,
        RiskBand.HIGH,
        RiskBand.SEVERE,
    ]
    assert FORMULA.likelihood("act", "low") == 10 and FORMULA.likelihood(None, "critical") == 5
    assert FORMULA.likelihood("bogus", None) == FORMULA.unrated_weight
    assert FORMULA.impact(5, True) == 3.0 and FORMULA.impact(1, False) == 0.5


def test_sector_scores_heat_map_and_top_findings(runtime: Runtime, city: dict[str, int]) -> None:
    with runtime.session() as session:
        summary = sector_risk(session, scope=None, clock=runtime.clock)
    by_key = {s.key: s for s in summary.sectors}
    assert list(by_key) == ["transport", "water", "health"]  # Sector order
    water, transport, health = by_key["water"], by_key["transport"], by_key["health"]
    assert (water.points, water.score, water.band) == (24.0, 52.2, RiskBand.HIGH)
    assert (transport.points, transport.score, transport.band) == (11.25, 33.8, RiskBand.MODERATE)
    assert (health.points, health.score, health.band, health.assets) == (0.0, 0.0, RiskBand.LOW, 1)
    assert transport.assets == 1 and transport.open_findings == 1  # retired and fixed left out
    assert (transport.overdue, transport.kev, water.overdue, water.accepted) == (1, 1, 0, 1)
    assert water.by_decision == {"act": 1, "attend": 0, "track_star": 1, "track": 0, "undecided": 0}
    assert list(water.by_severity) == [
        "critical",
        "high",
        "medium",
        "low",
        "informational",
        "unrated",
    ]
    assert (water.by_severity["critical"], water.by_severity["medium"]) == (1, 1)
    assert (summary.city.points, summary.city.assets, summary.city.score) == (35.25, 3, 57.6)
    assert [z.key for z in summary.zones] == ["clinic", "scada", "z1"]
    top = summary.top_findings
    assert [f.finding_id for f in top] == [city["act"], city["kev"]]  # accepted is not "to do"
    assert top[0].decision is Decision.ACT and top[1].kev and top[1].overdue
    assert [f.finding_id for f in summary.overdue] == [city["kev"]] and summary.overdue_total == 1
    [accepted] = summary.accepted
    assert (accepted.approved_by, accepted.expired) == ("CISO", False)


def test_accepted_risk_counts_apart_until_it_expires(
    runtime: Runtime, city: dict[str, int]
) -> None:
    # With accepted risk left out of the score, expiry visibly brings it back.
    formula = RiskFormula(accepted_factor=0.0)
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    with runtime.session() as session:
        before = {
            s.key: s for s in sector_risk(session, scope=None, clock=clock, formula=formula).sectors
        }
        clock.advance(timedelta(days=11))
        after = sector_risk(session, scope=None, clock=clock, formula=formula)
    water = {s.key: s for s in after.sectors}["water"]
    assert (before["water"].points, before["water"].accepted) == (20.0, 1)
    assert (water.points, water.accepted, water.accepted_expired) == (24.0, 0, 1)
    assert city["accepted"] in [f.finding_id for f in after.top_findings]
    assert city["accepted"] in [f.finding_id for f in after.overdue]  # its due date had passed
    assert after.accepted[0].expired


def test_scope_hides_other_sectors(runtime: Runtime, city: dict[str, int]) -> None:
    with runtime.session() as session:
        summary = sector_risk(session, scope={Sector.WATER}, clock=runtime.clock)
        empty = sector_risk(session, scope={Sector.EDUCATION}, clock=runtime.clock)
    assert [s.key for s in summary.sectors] == ["water"] and summary.scope == [Sector.WATER]
    assert summary.city.assets == 1 and summary.city.points == 24.0
    assert [z.key for z in summary.zones] == ["scada"]
    assert {f.sector for f in summary.top_findings} == {Sector.WATER}
    assert summary.overdue == [] and summary.city.kev == 0
    assert [s.key for s in empty.sectors] == ["education"] and empty.city.score == 0.0


def count_snapshots(rt: Runtime, day: date) -> int:
    with rt.session() as session:
        query = select(func.count()).select_from(RiskSnapshot).where(RiskSnapshot.day == day)
        return int(session.scalar(query) or 0)


def test_snapshot_is_idempotent_per_day(runtime: Runtime, city: dict[str, int]) -> None:
    with runtime.session() as session:
        first = take_snapshot(session, clock=runtime.clock)
    rows = count_snapshots(runtime, TODAY)
    assert rows == 1 + 3 + 3  # city, three sectors, three zones
    with runtime.session() as session:
        finding = session.get(Finding, city["act"])
        assert finding is not None
        finding.status = "fixed"
    with runtime.session() as session:
        again = take_snapshot(session, clock=runtime.clock)
        stored = session.scalars(
            select(RiskSnapshot).where(RiskSnapshot.scope == "city", RiskSnapshot.day == TODAY)
        ).one()
    assert count_snapshots(runtime, TODAY) == rows
    assert again.city.score < first.city.score and stored.score == again.city.score
    assert stored.data["points"] == again.city.points and stored.data["assets"] == 3


def test_trend_series_and_scoped_total(runtime: Runtime, city: dict[str, int]) -> None:
    clock = runtime.clock
    assert isinstance(clock, FrozenClock)
    for day in range(3):
        if day == 2:
            add_finding(
                runtime, city["plc_asset"], "CVE-2024-0009", decision="act"
            )  # the PLC gets worse
        with runtime.session() as session:
            take_snapshot(session, clock=clock)
        clock.advance(timedelta(days=1))
    clock.advance(timedelta(days=-1))
    with runtime.session() as session:
        trend = risk_trend(session, scope=None, days=30, clock=clock)
        scoped = risk_trend(session, scope=[Sector.WATER], days=30, clock=clock)
        short = risk_trend(session, scope=None, days=1, clock=clock)
        with pytest.raises(Invalid) as bad:
            risk_trend(session, scope=None, days=0, clock=clock)
    assert bad.value.errors[0].loc == ("days",)
    assert (trend.start, trend.end) == (TODAY + timedelta(days=2 - 30), TODAY + timedelta(days=2))
    assert set(trend.series) == {"city", "transport", "water", "health"}
    city_scores = [p.score for p in trend.series["city"]]
    assert [p.day for p in trend.series["city"]] == [TODAY + timedelta(days=d) for d in range(3)]
    assert city_scores[0] == city_scores[1] < city_scores[2]
    assert set(scoped.series) == {"city", "water"}
    water = [p.score for p in scoped.series["water"]]
    assert [p.score for p in scoped.series["city"]] == water  # one sector: total is that sector
    assert len(short.series["city"]) == 2


class ListLog:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    warning = error = info


def test_snapshot_job_uses_the_city_day(runtime: Runtime, city: dict[str, int]) -> None:
    [job] = [j for j in JOBS if j.name == RISK_SNAPSHOT_JOB]
    assert job.every_seconds == 86400
    # 12:00 UTC on the 22nd is still the 22nd in Tijuana, but 01:00 on the 23rd in Auckland.
    with runtime.session() as session:
        ctx = JobContext(
            session=session,
            args={},
            log=ListLog(),
            clock=runtime.clock,
            services={"settings": runtime.settings},
        )
        result = job.run(ctx)
        assert result is not None and result["day"] == TODAY.isoformat()
        assert result["sectors"]["water"] == 52.2
    with runtime.session() as session:
        summary = take_snapshot(session, clock=runtime.clock, tz="Pacific/Auckland")
    assert summary.day == TODAY + timedelta(days=1)
