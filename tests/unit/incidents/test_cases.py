"""Cases by hand and from alerts: escalation, merge, what a case takes from its alerts, the
append-only history, closing with a resolution, and a sector operator's scope."""

from __future__ import annotations

import polars as pl
import pytest

from civicshield import alerts, assets
from civicshield.core import Sector, Severity
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.incidents.cases import (
    add_alerts,
    create_case,
    get_case,
    list_cases,
    open_from_alerts,
    update_case,
)
from civicshield.incidents.schemas import CaseCreate, CaseFromAlerts, CaseStatus, CaseUpdate
from civicshield.runtime import Runtime
from tests.unit.alerts.test_record import T0, matches

ANA = Actor(kind="user", name="ana")


def seed(runtime: Runtime, clock: FrozenClock) -> list[int]:
    with runtime.session() as s:
        assets.create_asset(
            s,
            assets.AssetCreate(name="PLC 19", sector="water", kind="ot", ips=["10.0.0.5"]),
            actor=ANA,
            clock=clock,
        )
        frame = pl.concat([matches(3), matches(2, src="10.0.0.9", rule="r-2")])
        return alerts.record_matches(s, frame, batch_id="b", clock=clock).created


def test_escalating_alerts_opens_a_case_that_takes_what_they_concern(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first, second = seed(runtime, clock)
    with runtime.session() as s:
        case = open_from_alerts(s, CaseFromAlerts(alert_ids=[first]), actor=ANA, clock=clock)
    with runtime.session() as s:
        detail = get_case(s, case.id)
        assert detail.alert_ids == [first] and detail.source == "alerts"
        assert detail.title.startswith("Telnet brute force") and detail.severity is Severity.HIGH
        assert detail.sectors == [Sector.WATER] and len(detail.asset_ids) == 1
        assert detail.techniques == ["T1110"] and detail.first_event_at == T0
        assert alerts.get_alert(s, first).status is alerts.AlertStatus.ESCALATED
        merged = add_alerts(
            s, case.id, [second, first], actor=ANA, clock=clock, reason="same actor"
        )
        assert merged.id == case.id
    with runtime.session() as s:
        detail = get_case(s, case.id)
        assert detail.alert_ids == [first, second]
        assert [h.field for h in detail.history][:2] == ["status", "sectors"]
        other = create_case(s, CaseCreate(title="Another"), actor=ANA, clock=clock)
        with pytest.raises(Conflict, match=f"alert {first} is in case {case.id}"):
            add_alerts(s, other.id, [first], actor=ANA, clock=clock)


def test_status_workflow_history_and_closing(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.session() as s:
        case = create_case(
            s, CaseCreate(title="Portal DDoS", sectors=[Sector.GOVERNANCE]), actor=ANA, clock=clock
        )
        update_case(
            s,
            case.id,
            CaseUpdate(status=CaseStatus.CONTAIN, owner="bob", reason="rate limit on"),
            actor=ANA,
            clock=clock,
        )
        with pytest.raises(Invalid) as caught:
            update_case(s, case.id, CaseUpdate(status=CaseStatus.CLOSED), actor=ANA, clock=clock)
        assert caught.value.errors[0].loc == ("body", "resolution")
        closed = update_case(
            s,
            case.id,
            CaseUpdate(status=CaseStatus.CLOSED, resolution="traffic scrubbed"),
            actor=ANA,
            clock=clock,
        )
        assert closed.closed_at == clock.now()
    with runtime.session() as s:
        history = get_case(s, case.id).history
        assert [(h.field, h.new) for h in history if h.field == "status"] == [
            ("status", "new"),
            ("status", "contain"),
            ("status", "closed"),
        ]
        assert any(h.reason == "rate limit on" for h in history)
        with pytest.raises(Conflict):
            add_alerts(s, case.id, [1], actor=ANA, clock=clock)
        assert list_cases(s, open_only=True).total == 0


def test_a_sector_operator_sees_only_cases_touching_their_sectors(
    runtime: Runtime, clock: FrozenClock
) -> None:
    with runtime.session() as s:
        water = create_case(
            s, CaseCreate(title="Water", sectors=[Sector.WATER]), actor=ANA, clock=clock
        )
        create_case(
            s, CaseCreate(title="Transit", sectors=[Sector.TRANSPORT]), actor=ANA, clock=clock
        )
        create_case(s, CaseCreate(title="Nowhere"), actor=ANA, clock=clock)
    scope = frozenset({Sector.WATER})
    with runtime.session() as s:
        assert [c.title for c in list_cases(s, scope=scope).items] == ["Water"]
        assert list_cases(s).total == 3
        assert get_case(s, water.id, scope=scope).title == "Water"
        with pytest.raises(NotFound):
            get_case(s, water.id + 1, scope=scope)
        with pytest.raises(NotFound):
            update_case(
                s, water.id + 1, CaseUpdate(title="mine now"), actor=ANA, clock=clock, scope=scope
            )
