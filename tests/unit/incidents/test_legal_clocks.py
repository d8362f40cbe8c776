"""Legal clocks on a case (frozen clock): a Québec + GDPR case with start events entered in
America/Toronto across the autumn DST change, an assessment that makes the CAI notice "not
required", holds (allowed on qc-a21.persons, refused on qc-a21.cai), and "met" once sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from civicshield.core import Sector
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Invalid
from civicshield.incidents.cases import create_case, get_case
from civicshield.incidents.clocks import load_profiles
from civicshield.incidents.legal import (
    AssessmentCreate,
    ClockView,
    HoldCreate,
    LegalConfig,
    StartEventCreate,
    case_clocks,
    clocks_due,
    lift_hold,
    list_start_events,
    place_hold,
    record_assessment,
    record_start_event,
    start_clock,
    withdraw_clock,
)
from civicshield.incidents.models import CaseNotice
from civicshield.incidents.schemas import CaseCreate
from civicshield.runtime import Runtime

ANA = Actor(kind="user", name="ana")
CONFIG = LegalConfig(profiles=load_profiles(), zone="America/Toronto")
T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # after the change (01:59 EDT -> 01:00 EST)
OBLIGATIONS = ("qc-a21.cai", "qc-a21.persons", "qc-a21.register", "gdpr.art33")


def open_case(runtime: Runtime, clock: FrozenClock, *obligations: str) -> int:
    clock.set(T)
    with runtime.session() as s:
        case = create_case(
            s, CaseCreate(title="Ransomware on records server", sectors=[Sector.WATER]),
            actor=ANA, clock=clock,
        )  # fmt: skip
        for ob in obligations:
            start_clock(s, case.id, ob, config=CONFIG, actor=ANA, clock=clock)
        return case.id


def event(runtime: Runtime, clock: FrozenClock, case_id: int, **data: object) -> int:
    with runtime.session() as s:
        made = record_start_event(
            s, case_id, StartEventCreate.model_validate(data), config=CONFIG, actor=ANA,
            clock=clock,
        )  # fmt: skip
        return made.id


def views(runtime: Runtime, clock: FrozenClock, case_id: int) -> dict[str, ClockView]:
    with runtime.session() as s:
        found = case_clocks(s, case_id, now=clock.now(), settings_or_config=CONFIG)
    return {v.obligation_id: v for v in found}


def test_start_events_in_toronto_across_the_dst_change(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = open_case(runtime, clock, *OBLIGATIONS)
    waiting = views(runtime, clock, case_id)
    assert waiting["gdpr.art33"].status == "waiting"
    assert waiting["gdpr.art33"].waiting_for == "became_aware"
    # 20:00 EDT the evening before the change; 72 h later is 19:00 EST, not 20:00.
    wrong = event(runtime, clock, case_id, kind="cause_to_believe", at="2026-10-31 19:00",
                  zone="America/Toronto")  # fmt: skip
    event(runtime, clock, case_id, kind="cause_to_believe", at="2026-10-31 20:00",
          zone="America/Toronto", corrects=wrong, note="the log said 20:00")  # fmt: skip
    with pytest.raises(Invalid, match="happens twice in America/Toronto"):
        event(runtime, clock, case_id, kind="became_aware", at="2026-11-01 01:30",
              zone="America/Toronto")  # fmt: skip
    event(runtime, clock, case_id, kind="became_aware", at="2026-11-01 01:30-05:00",
          zone="America/Toronto")  # fmt: skip
    got = views(runtime, clock, case_id)
    cai, art33 = got["qc-a21.cai"], got["gdpr.art33"]
    assert cai.kind == "internal-target" and cai.target_hours == 72
    assert cai.wording and "promptly" in cai.wording
    assert cai.due_at == datetime(2026, 11, 4, 0, 0, tzinfo=UTC)
    assert cai.due_local == "2026-11-03 19:00 EST (UTC-05:00)"
    assert cai.start is not None and cai.start.corrects == wrong
    assert cai.precaution and cai.requirements[0].state == "not-assessed"
    assert art33.kind == "statutory" and art33.wording is None
    assert art33.due_at == datetime(2026, 11, 4, 6, 30, tzinfo=UTC)
    assert art33.status == "running" and [r.reason for r in art33.reminders][:1] == ["50%"]
    with runtime.session() as s:
        listed = list_start_events(s, case_id)
        history = get_case(s, case_id).history
    assert listed[0].corrected_by == listed[1].id and len(listed) == 3
    assert sum(1 for h in history if h.field == "start_event") == 3
    assert [h.new for h in history if h.field == "clock"] == list(OBLIGATIONS)


def test_assessment_not_met_makes_the_cai_notice_not_required_and_is_kept(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = open_case(runtime, clock, "qc-a21.cai", "qc-a21.register")
    event(runtime, clock, case_id, kind="cause_to_believe", at="2026-11-01T08:00Z")
    with runtime.session() as s:
        with pytest.raises(Invalid, match="reasoning"):
            record_assessment(
                s, case_id,
                AssessmentCreate(requirement="risk_of_serious_injury", met=False, reasoning=" "),
                actor=ANA, clock=clock,
            )  # fmt: skip
        record_assessment(
            s, case_id,
            AssessmentCreate(
                requirement="risk_of_serious_injury", met=False, consulted="privacy officer",
                factors={"sensitivity": "low", "consequences": "none foreseen",
                         "likelihood": "encrypted, key not taken"},
                reasoning="The stolen copy was encrypted and the key was not exposed.",
            ),
            actor=ANA, clock=clock,
        )  # fmt: skip
    got = views(runtime, clock, case_id)
    cai = got["qc-a21.cai"]
    assert cai.status == "not-required" and cai.not_required and cai.reminders == []
    record = cai.requirements[0].assessment
    assert record is not None and record.assessed_by == "ana"
    assert record.factors["likelihood"] == "encrypted, key not taken"
    assert got["qc-a21.register"].status == "running"  # every incident goes in the register


def test_holds_pause_persons_and_are_refused_on_the_cai(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = open_case(runtime, clock, "qc-a21.cai", "qc-a21.persons")
    event(runtime, clock, case_id, kind="cause_to_believe", at="2026-11-01T00:00Z")
    hold = {"reason": "police investigation", "authority": "SPVM", "review_on": date(2026, 11, 8)}
    with runtime.session() as s:
        with pytest.raises(Invalid, match=r"qc-a21.cai .*cannot be held.*qc-a21.persons"):
            place_hold(s, case_id, HoldCreate(obligation_id="qc-a21.cai", **hold),  # type: ignore[arg-type]
                       config=CONFIG, actor=ANA, clock=clock)  # fmt: skip
        made = place_hold(s, case_id, HoldCreate(obligation_id="qc-a21.persons", **hold),  # type: ignore[arg-type]
                          config=CONFIG, actor=ANA, clock=clock)  # fmt: skip
    held = views(runtime, clock, case_id)["qc-a21.persons"]
    assert held.status == "suspended" and held.due_at is None
    assert held.remaining_at_hold == timedelta(hours=60)
    assert views(runtime, clock, case_id)["qc-a21.cai"].status == "running"
    clock.advance(timedelta(hours=10))
    with runtime.session() as s:
        lift_hold(s, case_id, made.id, actor=ANA, clock=clock)
    resumed = views(runtime, clock, case_id)["qc-a21.persons"]
    assert resumed.due_at == datetime(2026, 11, 4, 10, 0, tzinfo=UTC)  # 10 h later
    assert [h.id for h in resumed.holds] == [made.id]


def test_status_met_once_a_notice_is_sent_and_withdrawal_needs_a_reason(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = open_case(runtime, clock, "gdpr.art33", "gdpr.art34")
    event(runtime, clock, case_id, kind="became_aware", at="2026-11-01T06:30Z")
    with runtime.session() as s:
        s.add(CaseNotice(case_id=case_id, obligation_id="gdpr.art33", status="sent",
                         created_at=T, created_by="ana", updated_at=T,
                         sent_at=T + timedelta(hours=20), sent_by="ana"))  # fmt: skip
        with pytest.raises(Invalid, match="reason"):
            withdraw_clock(s, case_id, "gdpr.art34", " ", actor=ANA, clock=clock)
        withdraw_clock(s, case_id, "gdpr.art34", "no high risk", actor=ANA, clock=clock)
    got = views(runtime, clock, case_id)
    assert got["gdpr.art33"].status == "met" and got["gdpr.art34"].status == "withdrawn"
    with runtime.session() as s:
        due = clocks_due(s, now=clock.now(), within=None, settings_or_config=CONFIG)
        assert due == []
        assert s.scalars(select(CaseNotice)).one().status == "sent"
