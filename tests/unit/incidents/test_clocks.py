"""The 13 worked cases of ../shared/research/clock-cases.md.

Every expected value below is copied from that document (worked by hand there and checked with
Python's zoneinfo, independently of this code); none is computed with the engine under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from civicshield.core.errors import Invalid
from civicshield.incidents.clocks import (
    Obligation,
    StartEvent,
    Suspension,
    add_months,
    compute,
    display,
    load_profiles,
    obligation,
    parse_local,
    pick_start,
    retain_until,
)

NY, PARIS, TORONTO = "America/New_York", "Europe/Paris", "America/Toronto"
PROFILES = load_profiles()


def z(text: str) -> datetime:
    """A UTC instant written as in the document, e.g. `2026-03-08 18:30`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ob(obligation_id: str) -> Obligation:
    return obligation(PROFILES, obligation_id)


def due_of(obligation_id: str, local: str, zone: str) -> datetime:
    due = compute(ob(obligation_id), parse_local(local, zone).utc).due_at
    assert due is not None
    return due


def test_case_1_florida_ransomware_across_spring_forward() -> None:
    start = parse_local("2026-03-08 01:30", NY)
    assert start.utc == z("2026-03-08 06:30")
    due = compute(ob("fl-282.ransomware"), start.utc)
    assert due.due_at == z("2026-03-08 18:30")
    assert due.kind == "statutory"
    assert display(z("2026-03-08 18:30"), NY) == "2026-03-08 14:30 EDT (UTC-04:00)"


def test_case_2_florida_severity_3_across_fall_back_is_not_an_hour_late() -> None:
    assert parse_local("2026-10-31 22:00", NY).utc == z("2026-11-01 02:00")
    assert due_of("fl-282.incident", "2026-10-31 22:00", NY) == z("2026-11-03 02:00")
    assert display(z("2026-11-03 02:00"), NY) == "2026-11-02 21:00 EST (UTC-05:00)"


def test_case_3a_ambiguous_local_time_is_refused_or_the_earlier_flagged() -> None:
    with pytest.raises(Invalid, match=r"happens twice.*2026-11-01 01:30-05:00 or .*01:30-04:00"):
        parse_local("2026-11-01 01:30", NY)
    start = parse_local("2026-11-01 01:30", NY, accept_earlier=True)
    assert start.utc == z("2026-11-01 05:30")
    assert start.flagged and "earlier" in start.note
    due = compute(ob("fl-282.ransomware"), start.utc).due_at
    assert due == z("2026-11-01 17:30")
    assert display(z("2026-11-01 17:30"), NY) == "2026-11-01 12:30 EST (UTC-05:00)"
    # Giving the offset resolves it without a flag.
    later = parse_local("2026-11-01 01:30-05:00", NY)
    assert later.utc == z("2026-11-01 06:30") and not later.flagged


def test_case_3b_non_existent_local_time_takes_the_earlier_instant() -> None:
    with pytest.raises(Invalid, match=r"does not exist in America/New_York.*give the offset"):
        parse_local("2026-03-08 02:30", NY)
    start = parse_local("2026-03-08 02:30", NY, accept_earlier=True)
    assert start.utc == z("2026-03-08 06:30")  # zoneinfo's fold=0 alone would say 07:30Z
    assert start.flagged
    assert compute(ob("fl-282.incident"), start.utc).due_at == z("2026-03-10 06:30")
    assert display(z("2026-03-10 06:30"), NY) == "2026-03-10 02:30 EDT (UTC-04:00)"


def test_case_4_gdpr_72h_across_eu_spring_forward() -> None:
    assert parse_local("2026-03-29 01:30", PARIS).utc == z("2026-03-29 00:30")
    assert due_of("gdpr.art33", "2026-03-29 01:30", PARIS) == z("2026-04-01 00:30")
    assert display(z("2026-04-01 00:30"), PARIS) == "2026-04-01 02:30 CEST (UTC+02:00)"


def test_case_5_nis2_chain_and_final_report_from_the_notification_sent() -> None:
    aware = parse_local("2026-03-29 01:30", PARIS).utc
    events = [StartEvent("became_aware", aware)]
    final = ob("nis2.final-report")
    assert pick_start(final, events) is None  # no deadline until the notification is sent
    assert compute(ob("nis2.early-warning"), aware).due_at == z("2026-03-30 00:30")
    assert compute(ob("nis2.notification"), aware).due_at == z("2026-04-01 00:30")
    assert display(z("2026-03-30 00:30"), PARIS) == "2026-03-30 02:30 CEST (UTC+02:00)"
    sent = parse_local("2026-03-31 18:00", PARIS).utc
    assert sent == z("2026-03-31 16:00")
    events.append(StartEvent("notification_sent", sent, obligation="nis2.notification"))
    start = pick_start(final, events)
    assert start is not None and start.at == z("2026-03-31 16:00")
    assert compute(final, start.at).due_at == z("2026-04-30 16:00")  # 31 April clamps to 30
    assert display(z("2026-04-30 16:00"), PARIS) == "2026-04-30 18:00 CEST (UTC+02:00)"


def test_case_6_gdpr_72h_across_eu_fall_back() -> None:
    assert parse_local("2026-10-24 09:00", PARIS).utc == z("2026-10-24 07:00")
    assert due_of("gdpr.art33", "2026-10-24 09:00", PARIS) == z("2026-10-27 07:00")
    assert display(z("2026-10-27 07:00"), PARIS) == "2026-10-27 08:00 CET (UTC+01:00)"


def test_case_7_controller_awareness_starts_the_citys_clock() -> None:
    processor = parse_local("2026-07-01 10:00", PARIS).utc
    controller = parse_local("2026-07-02 15:00", PARIS).utc
    assert (processor, controller) == (z("2026-07-01 08:00"), z("2026-07-02 13:00"))
    events = [
        StartEvent("became_aware", processor, obligation="processor.art33-2"),
        StartEvent("became_aware", controller),
    ]
    art33 = ob("gdpr.art33")
    start = pick_start(art33, events)
    assert start is not None and start.at == z("2026-07-02 13:00")
    assert compute(art33, start.at).due_at == z("2026-07-05 13:00")
    assert display(z("2026-07-05 13:00"), PARIS) == "2026-07-05 15:00 CEST (UTC+02:00)"


def test_case_8_one_month_on_the_utc_calendar_with_the_local_reading_shown() -> None:
    sent = parse_local("2026-05-31 01:30", PARIS).utc
    assert sent == z("2026-05-30 23:30")
    due = compute(ob("nis2.final-report"), sent, zone=PARIS)
    assert due.due_at == z("2026-06-30 23:30")
    assert display(z("2026-06-30 23:30"), PARIS) == "2026-07-01 01:30 CEST (UTC+02:00)"
    assert due.local_calendar_due == z("2026-06-29 23:30")  # 24 h earlier, shown beside it


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-01-31 09:00", "2026-02-28 09:00"),
        ("2027-01-31 09:00", "2027-02-28 09:00"),
        ("2028-01-31 09:00", "2028-02-29 09:00"),
        ("2026-12-31 09:00", "2027-01-31 09:00"),
    ],
)
def test_case_8_clamping_checks(start: str, expected: str) -> None:
    assert parse_local(start.replace("09:00", "10:00"), PARIS).utc == z(start)
    assert add_months(z(start), 1) == z(expected)
    assert compute(ob("nis2.final-report"), z(start)).due_at == z(expected)


def test_case_9_quebec_promptly_is_an_internal_target() -> None:
    start = parse_local("2026-03-07 20:00", TORONTO)
    assert start.utc == z("2026-03-08 01:00")
    for ob_id in ("qc-a21.cai", "qc-a21.persons"):
        due = compute(ob(ob_id), start.utc)
        assert due.due_at == z("2026-03-11 01:00")
        assert due.kind == "internal-target"
        assert due.wording is not None and "promptly" in due.wording
    assert display(z("2026-03-11 01:00"), TORONTO) == "2026-03-10 21:00 EDT (UTC-04:00)"


HOLD = Suspension(
    start=z("2026-03-09 13:00"),
    end=z("2026-03-20 13:00"),
    reason="Police ask to hold individual notices during the investigation",
    authority="Service de police de la Ville",
    review_on=date(2026, 3, 16),
)


def test_case_10_hold_suspends_the_persons_notice_only() -> None:
    assert parse_local("2026-03-09 09:00", TORONTO).utc == HOLD.start
    assert parse_local("2026-03-20 09:00", TORONTO).utc == HOLD.end
    start = z("2026-03-08 01:00")
    cai = compute(ob("qc-a21.cai"), start, suspensions=[HOLD])
    assert cai.due_at == z("2026-03-11 01:00") and cai.suspensions == ()
    assert cai.notes  # says the hold was ignored
    persons = compute(ob("qc-a21.persons"), start, suspensions=[HOLD])
    assert persons.due_at == z("2026-03-22 01:00")
    assert display(z("2026-03-22 01:00"), TORONTO) == "2026-03-21 21:00 EDT (UTC-04:00)"
    assert persons.suspensions == (HOLD,)
    kept = persons.suspensions[0]
    assert (kept.reason, kept.authority, kept.review_on) == (
        HOLD.reason,
        HOLD.authority,
        date(2026, 3, 16),
    )
    restart = compute(ob("qc-a21.persons"), start, suspensions=[HOLD], policy="restart")
    assert restart.due_at == z("2026-03-23 13:00")
    assert display(z("2026-03-23 13:00"), TORONTO) == "2026-03-23 09:00 EDT (UTC-04:00)"


def test_case_11_mexico_city_and_tijuana_differ() -> None:
    mx = parse_local("2026-10-31 23:00", "America/Mexico_City")
    tj = parse_local("2026-10-31 23:00", "America/Tijuana")
    assert (mx.utc, tj.utc) == (z("2026-11-01 05:00"), z("2026-11-01 06:00"))
    titular = ob("mx-lgpdppso.titular")
    assert compute(titular, mx.utc).due_at == z("2026-11-03 05:00")
    assert compute(titular, tj.utc).due_at == z("2026-11-03 06:00")
    assert compute(titular, mx.utc).kind == "internal-target"
    assert display(z("2026-11-03 05:00"), "America/Mexico_City") == (
        "2026-11-02 23:00 CST (UTC-06:00)"
    )
    assert display(z("2026-11-03 06:00"), "America/Tijuana") == "2026-11-02 22:00 PST (UTC-08:00)"


def test_case_11_spring_check() -> None:
    mx = parse_local("2026-03-07 23:00", "America/Mexico_City").utc
    tj = parse_local("2026-03-07 23:00", "America/Tijuana").utc
    assert (mx, tj) == (z("2026-03-08 05:00"), z("2026-03-08 07:00"))
    authority = ob("mx-lgpdppso.authority")
    assert compute(authority, mx).due_at == z("2026-03-10 05:00")
    assert compute(authority, tj).due_at == z("2026-03-10 07:00")
    assert display(z("2026-03-10 05:00"), "America/Mexico_City") == (
        "2026-03-09 23:00 CST (UTC-06:00)"
    )
    assert display(z("2026-03-10 07:00"), "America/Tijuana") == "2026-03-10 00:00 PDT (UTC-07:00)"


def test_case_12_pipeda_starts_at_determination_and_keeps_the_record_24_months() -> None:
    determined = parse_local("2026-06-12 16:00", TORONTO).utc
    assert determined == z("2026-06-12 20:00")
    events = [
        StartEvent("became_aware", parse_local("2026-06-10 09:00", TORONTO).utc),  # suspicion
        StartEvent("determined", determined),
    ]
    opc = ob("pipeda.opc")
    start = pick_start(opc, events)
    assert start is not None and start.at == z("2026-06-12 20:00")
    assert compute(opc, start.at).due_at == z("2026-06-15 20:00")
    assert retain_until(ob("pipeda.record"), determined) == z("2028-06-12 20:00")
    assert display(z("2028-06-12 20:00"), TORONTO) == "2028-06-12 16:00 EDT (UTC-04:00)"


def test_case_13_florida_later_event_earlier_deadline() -> None:
    events = [
        StartEvent("discovered", parse_local("2026-06-01 08:00", NY).utc),
        StartEvent(
            "discovered", parse_local("2026-06-02 09:00", NY).utc, obligation="fl-282.ransomware"
        ),
    ]
    dues = {}
    for ob_id in ("fl-282.incident", "fl-282.ransomware"):
        start = pick_start(ob(ob_id), events)
        assert start is not None
        dues[ob_id] = compute(ob(ob_id), start.at).due_at
    assert dues == {
        "fl-282.incident": z("2026-06-03 12:00"),
        "fl-282.ransomware": z("2026-06-03 01:00"),
    }
    assert min(d for d in dues.values() if d) == z("2026-06-03 01:00")  # next deadline
    assert display(z("2026-06-03 01:00"), NY) == "2026-06-02 21:00 EDT (UTC-04:00)"
    assert display(z("2026-06-03 12:00"), NY) == "2026-06-03 08:00 EDT (UTC-04:00)"
