"""MTTD and MTTR on constructed cases with a frozen clock: exact medians and means by sector
and type, times from the append-only history, the period, and a sector operator's scope."""

from __future__ import annotations

from datetime import timedelta

from civicshield.core import Sector
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.incidents.cases import create_case, update_case
from civicshield.incidents.models import Case
from civicshield.incidents.reporting import MetricRow, compute_metrics
from civicshield.incidents.schemas import CaseCreate, CaseStatus, CaseUpdate
from civicshield.runtime import Runtime

ANA = Actor(kind="user", name="ana")
H = 3600.0


def build(runtime: Runtime, clock: FrozenClock) -> list[int]:
    """Four cases opened now: (sectors, playbook, hours to detect, hours to close or None)."""
    plan = [
        ([Sector.WATER], "ransomware", 2, 10),
        ([Sector.WATER], "", 4, 20),
        ([Sector.TRANSPORT], "", 1, None),
        ([Sector.WATER, Sector.TRANSPORT], "", 6, 30),
    ]
    start = clock.now()
    ids = []
    with runtime.session() as s:
        for n, (sectors, playbook, ttd, _) in enumerate(plan):
            made = create_case(
                s, CaseCreate(title=f"Case {n}", sectors=sectors), actor=ANA, clock=clock
            )
            case = s.get(Case, made.id)
            assert case is not None
            case.first_event_at = start - timedelta(hours=ttd)
            case.playbook_id = playbook
            ids.append(made.id)
    for hours in (10, 20, 30):
        clock.set(start + timedelta(hours=hours))
        case_id = ids[[p[3] for p in plan].index(hours)]
        with runtime.session() as s:
            update_case(
                s, case_id, CaseUpdate(status=CaseStatus.CLOSED, resolution="done"),
                actor=ANA, clock=clock,
            )  # fmt: skip
    with runtime.session() as s:
        # A later edit of the column does not rewrite what the history says.
        case = s.get(Case, ids[0])
        assert case is not None
        case.closed_at = start + timedelta(days=99)
    return ids


def row(rows: list[MetricRow], group: str) -> MetricRow:
    return next(r for r in rows if r.group == group)


def test_medians_and_means_by_sector_and_type(runtime: Runtime, clock: FrozenClock) -> None:
    build(runtime, clock)
    with runtime.session() as s:
        m = compute_metrics(s)
    assert (m.total.detected, m.total.mttd_median_s, m.total.mttd_mean_s) == (4, 3 * H, 3.25 * H)
    assert (m.total.resolved, m.total.mttr_median_s, m.total.mttr_mean_s) == (3, 20 * H, 20 * H)
    water = row(m.by_sector, "water")
    assert (water.mttd_median_s, water.mttr_median_s, water.resolved) == (4 * H, 20 * H, 3)
    transport = row(m.by_sector, "transport")
    assert (transport.mttd_median_s, transport.mttr_mean_s) == (3.5 * H, 30 * H)
    other = row(m.by_type, "unclassified")
    assert (other.mttd_median_s, other.mttd_mean_s) == (4 * H, 11 / 3 * H)
    assert other.mttr_median_s == 25 * H
    assert row(m.by_type, "ransomware").mttr_median_s == 10 * H
    assert m.open_by_status == {"new": 1} and m.open_by_severity == {"medium": 1}


def test_period_and_scope(runtime: Runtime, clock: FrozenClock) -> None:
    start = clock.now()
    build(runtime, clock)
    with runtime.session() as s:
        early = compute_metrics(s, until=start + timedelta(hours=15))
        late = compute_metrics(s, since=start + timedelta(hours=1))
        water = compute_metrics(s, scope=frozenset({Sector.WATER}))
    assert (early.total.detected, early.total.resolved) == (4, 1)
    assert early.total.mttr_median_s == 10 * H
    assert (late.total.detected, late.total.resolved) == (0, 3)
    assert [r.group for r in water.by_sector] == ["water"]
    assert water.total.detected == 3 and water.open_by_status == {}
