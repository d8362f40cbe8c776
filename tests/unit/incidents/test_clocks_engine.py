"""Clock arithmetic beyond the worked cases: DST in five zones, month clamping, local input,
holds, status, reminders and display. Expected instants are written out by hand (offsets from
the IANA rules), never produced by the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.core.errors import Invalid
from civicshield.incidents.clocks import (
    Suspension,
    add_hours,
    add_months,
    compute,
    display,
    load_profiles,
    obligation,
    parse_local,
    reminders,
    status,
)

PROFILES = load_profiles()
ZONES = [
    "America/Toronto",
    "America/Tijuana",
    "America/Mexico_City",
    "Europe/Paris",
    "America/New_York",
]


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hold(start: str, end: str | None) -> Suspension:
    return Suspension(
        start=z(start),
        end=z(end) if end else None,
        reason="criminal investigation",
        authority="Sûreté du Québec",
        review_on=date(2026, 1, 1),
    )


@pytest.mark.parametrize(
    ("zone", "local", "utc", "ob_id", "due", "shown"),
    [
        # Toronto fall-back (2026-11-01 02:00 EDT -> 01:00 EST), Québec internal target 72 h.
        ("America/Toronto", "2026-10-31 12:00", "2026-10-31 16:00", "qc-a21.cai",
         "2026-11-03 16:00", "2026-11-03 11:00 EST (UTC-05:00)"),
        # Tijuana spring-forward (2026-03-08 02:00 PST -> 03:00 PDT), Mexican target 48 h.
        ("America/Tijuana", "2026-03-07 12:00", "2026-03-07 20:00", "mx-lgpdppso.titular",
         "2026-03-09 20:00", "2026-03-09 13:00 PDT (UTC-07:00)"),
        # Mexico City has no DST since 2022: UTC-6 in July as in January.
        ("America/Mexico_City", "2026-07-01 12:00", "2026-07-01 18:00", "mx-lgpdppso.authority",
         "2026-07-03 18:00", "2026-07-03 12:00 CST (UTC-06:00)"),
        ("America/Mexico_City", "2026-01-15 12:00", "2026-01-15 18:00", "mx-lgpdppso.log",
         "2026-01-18 18:00", "2026-01-18 12:00 CST (UTC-06:00)"),
        # Paris fall-back, NIS2 early warning 24 h from 2026-10-24 03:30 CEST.
        ("Europe/Paris", "2026-10-24 03:30", "2026-10-24 01:30", "nis2.early-warning",
         "2026-10-25 01:30", "2026-10-25 02:30 CET (UTC+01:00)"),
        # New York spring-forward, PIPEDA comparison target 72 h.
        ("America/New_York", "2026-03-06 18:00", "2026-03-06 23:00", "pipeda.individuals",
         "2026-03-09 23:00", "2026-03-09 19:00 EDT (UTC-04:00)"),
        # GDPR art. 34 internal target, Paris spring-forward.
        ("Europe/Paris", "2026-03-28 12:00", "2026-03-28 11:00", "gdpr.art34",
         "2026-03-31 11:00", "2026-03-31 13:00 CEST (UTC+02:00)"),
        ("America/Toronto", "2026-06-01 09:00", "2026-06-01 13:00", "qc-a21.register",
         "2026-06-04 13:00", "2026-06-04 09:00 EDT (UTC-04:00)"),
        ("America/New_York", "2026-12-01 09:00", "2026-12-01 14:00", "gdpr.art33-5",
         "2026-12-04 14:00", "2026-12-04 09:00 EST (UTC-05:00)"),
        ("Europe/Paris", "2026-06-01 09:00", "2026-06-01 07:00", "pipeda.opc",
         "2026-06-04 07:00", "2026-06-04 09:00 CEST (UTC+02:00)"),
    ],
)  # fmt: skip
def test_every_profile_across_zones(
    zone: str, local: str, utc: str, ob_id: str, due: str, shown: str
) -> None:
    start = parse_local(local, zone)
    assert start.utc == z(utc)
    result = compute(obligation(PROFILES, ob_id), start.utc)
    assert result.due_at == z(due)
    assert display(z(due), zone) == shown


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31 10:00", 1, "2026-02-28 10:00"),
        ("2028-01-31 10:00", 1, "2028-02-29 10:00"),
        ("2026-03-31 10:00", 1, "2026-04-30 10:00"),
        ("2026-01-30 10:00", 1, "2026-02-28 10:00"),
        ("2026-08-31 23:59", 6, "2027-02-28 23:59"),
        ("2026-11-15 00:00", 3, "2027-02-15 00:00"),
        ("2028-02-29 12:00", 12, "2029-02-28 12:00"),
        ("2026-06-12 20:00", 24, "2028-06-12 20:00"),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start: str, months: int, expected: str) -> None:
    assert add_months(z(start), months) == z(expected)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(Invalid, match="no offset"):
        add_hours(datetime(2026, 1, 1, 12, 0), 3)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Invalid, match="no offset"):
        compute(obligation(PROFILES, "gdpr.art33"), datetime(2026, 1, 1))  # noqa: DTZ001


def test_local_input_forms() -> None:
    assert parse_local("2026-07-01T10:00:00Z", "Europe/Paris").utc == z("2026-07-01 10:00")
    assert parse_local(datetime(2026, 7, 1, 10, 0), "Europe/Paris").utc == z("2026-07-01 08:00")  # noqa: DTZ001
    assert parse_local("2026-07-01 10:00+02:00", "Europe/Paris").offset == timedelta(hours=2)
    with pytest.raises(Invalid, match=r"does not match Europe/Paris.*UTC\+02:00"):
        parse_local("2026-07-01 10:00+01:00", "Europe/Paris")
    with pytest.raises(Invalid, match="unknown time zone 'Mars/Olympus'"):
        parse_local("2026-07-01 10:00", "Mars/Olympus")
    with pytest.raises(Invalid, match="'yesterday' is not a date and time"):
        parse_local("yesterday", "Europe/Paris")


@pytest.mark.parametrize(
    ("zone", "local", "earlier"),
    [
        ("America/Toronto", "2026-11-01 01:15", "2026-11-01 05:15"),  # overlap, EDT reading
        ("America/Toronto", "2026-03-08 02:15", "2026-03-08 06:15"),  # gap, EDT reading
        ("Europe/Paris", "2026-10-25 02:30", "2026-10-25 00:30"),  # overlap, CEST reading
        ("Europe/Paris", "2026-03-29 02:30", "2026-03-29 00:30"),  # gap, CEST reading
        ("America/Tijuana", "2026-11-01 01:30", "2026-11-01 08:30"),  # overlap, PDT reading
    ],
)
def test_dst_gaps_and_overlaps_need_the_offset(zone: str, local: str, earlier: str) -> None:
    with pytest.raises(Invalid, match="give the offset"):
        parse_local(local, zone)
    accepted = parse_local(local, zone, accept_earlier=True)
    assert accepted.utc == z(earlier) and accepted.flagged


def test_mexico_city_has_no_dst_gap_any_more() -> None:
    # Before 2022 Mexico City sprang forward on the first Sunday of April (2026-04-05).
    start = parse_local("2026-04-05 02:30", "America/Mexico_City")
    assert start.utc == z("2026-04-05 08:30") and not start.flagged


def test_display_with_the_recipients_zone() -> None:
    text = display(z("2026-04-01 00:30"), "America/Toronto", recipient_zone="Europe/Paris")
    assert text == (
        "2026-03-31 20:30 EDT (UTC-04:00) / Europe/Paris: 2026-04-01 02:30 CEST (UTC+02:00)"
    )
    assert display(z("2026-04-01 00:30"), "Europe/Paris", recipient_zone="Europe/Paris") == (
        "2026-04-01 02:30 CEST (UTC+02:00)"
    )


def test_status_at_each_stage() -> None:
    due = compute(obligation(PROFILES, "gdpr.art33"), z("2026-07-01 00:00"))  # due 07-04 00:00
    assert status(due, z("2026-07-02 00:00")) == "running"
    assert status(due, z("2026-07-03 07:00")) == "due-soon"  # last 18 h of 72
    assert status(due, z("2026-07-02 00:00"), soon=timedelta(hours=48)) == "due-soon"
    assert status(due, z("2026-07-04 00:01")) == "overdue"
    assert status(due, z("2026-07-05 00:00"), sent_at=z("2026-07-03 00:00")) == "met"
    assert status(due, z("2026-07-05 00:00"), sent_at=z("2026-07-04 00:00")) == "met"
    assert status(due, z("2026-07-05 00:00"), sent_at=z("2026-07-04 01:00")) == "met-late"


def test_an_open_hold_stops_the_clock_and_a_closed_one_shows_while_it_lasts() -> None:
    persons = obligation(PROFILES, "qc-a21.persons")
    start = z("2026-03-08 01:00")
    open_due = compute(persons, start, suspensions=[hold("2026-03-09 13:00", None)])
    assert open_due.due_at is None
    assert open_due.remaining_at_hold == timedelta(hours=36)
    assert status(open_due, z("2026-04-01 00:00")) == "suspended"
    assert reminders(open_due) == []
    closed = compute(persons, start, suspensions=[hold("2026-03-09 13:00", "2026-03-20 13:00")])
    assert status(closed, z("2026-03-15 00:00")) == "suspended"
    assert status(closed, z("2026-03-21 00:00")) == "running"


def test_holds_outside_the_running_clock_move_nothing() -> None:
    persons = obligation(PROFILES, "qc-a21.persons")
    start = z("2026-03-08 01:00")
    after = compute(persons, start, suspensions=[hold("2026-03-12 00:00", "2026-03-20 00:00")])
    before = compute(persons, start, suspensions=[hold("2026-03-01 00:00", "2026-03-05 00:00")])
    assert after.due_at == before.due_at == z("2026-03-11 01:00")
    # A hold that began before the start only counts from the start.
    overlap = compute(persons, start, suspensions=[hold("2026-03-07 00:00", "2026-03-08 07:00")])
    assert overlap.due_at == z("2026-03-11 07:00")
    # Two holds add up under the pause policy.
    two = compute(
        persons,
        start,
        suspensions=[hold("2026-03-09 01:00", "2026-03-09 11:00"), hold("2026-03-08 01:00", None)],
    )
    assert two.due_at is None  # the open one started first and stops the clock
    two_closed = compute(
        persons,
        start,
        suspensions=[
            hold("2026-03-10 01:00", "2026-03-10 03:00"),
            hold("2026-03-09 01:00", "2026-03-09 11:00"),
        ],
    )
    assert two_closed.due_at == z("2026-03-11 13:00")
    assert two_closed.suspended_for == timedelta(hours=12)


def test_suspension_records_are_complete() -> None:
    with pytest.raises(Invalid, match="needs its authority"):
        Suspension(z("2026-01-01 00:00"), None, "investigation", " ", date(2026, 1, 8))
    with pytest.raises(Invalid, match="cannot end before it starts"):
        Suspension(z("2026-01-02 00:00"), z("2026-01-01 00:00"), "x", "police", date(2026, 1, 8))


def test_escalating_reminders() -> None:
    due = compute(obligation(PROFILES, "gdpr.art33"), z("2026-07-01 00:00"))
    got = [(r.at, r.level, r.reason, r.channels) for r in reminders(due)]
    assert got == [
        (z("2026-07-02 12:00"), 1, "50%", ("in-app",)),
        (z("2026-07-03 06:00"), 2, "75%", ("in-app", "email")),
        (z("2026-07-03 16:48"), 3, "90%", ("in-app", "email")),
        (z("2026-07-03 23:00"), 4, "1h before", ("in-app", "email")),
    ]
    custom = reminders(
        due,
        fractions=[0.25],
        before=[timedelta(hours=6), timedelta(minutes=30)],
        email_from_level=1,
    )
    assert [(r.at, r.reason) for r in custom] == [
        (z("2026-07-01 18:00"), "25%"),
        (z("2026-07-03 18:00"), "6h before"),
        (z("2026-07-03 23:30"), "30min before"),
    ]
    # Reminders already past when the clock is entered late are dropped.
    late = reminders(due, start=z("2026-07-03 00:00"))
    assert [r.reason for r in late] == ["75%", "90%", "1h before"]
    with pytest.raises(Invalid, match="between 0 and 1"):
        reminders(due, fractions=[1.5])


def test_reminders_move_with_a_pause_hold() -> None:
    persons = obligation(PROFILES, "qc-a21.persons")
    due = compute(
        persons, z("2026-03-08 01:00"), suspensions=[hold("2026-03-09 13:00", "2026-03-20 13:00")]
    )
    at = {r.reason: r.at for r in reminders(due)}
    # 50% of 72 h = 36 h of running time: exactly when the hold began, then 75% = 54 h =
    # 18 h after the hold ended.
    assert at["50%"] == z("2026-03-09 13:00")
    assert at["75%"] == z("2026-03-21 07:00")
    assert at["1h before"] == z("2026-03-22 00:00")
    restart = compute(
        persons,
        z("2026-03-08 01:00"),
        suspensions=[hold("2026-03-09 13:00", "2026-03-20 13:00")],
        policy="restart",
    )
    assert {r.reason: r.at for r in reminders(restart)}["50%"] == z("2026-03-22 01:00")


instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2090, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, *(ZoneInfo(name) for name in ZONES)]),
)


@given(start=instants, hours=st.integers(min_value=0, max_value=24 * 400))
def test_add_hours_is_exact_elapsed_time(start: datetime, hours: int) -> None:
    end = add_hours(start, hours)
    assert end.utcoffset() == timedelta(0)
    # Exact elapsed time on the UTC line (integer microseconds, no float rounding) ...
    assert end - start.astimezone(UTC) == timedelta(hours=hours)
    # ... whatever zone either end is seen in (aware subtraction across zones uses the offsets).
    for name in ZONES:
        local_end = end.astimezone(ZoneInfo(name))
        assert local_end.astimezone(UTC) == end
        if local_end.tzinfo is not start.tzinfo:
            assert local_end - start == timedelta(hours=hours)


@given(
    local=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),  # noqa: DTZ001
    zone=st.sampled_from(ZONES),
)
def test_parse_local_never_picks_the_later_instant(local: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    candidates = {local.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)}
    got = parse_local(local, zone, accept_earlier=True)
    assert got.utc == min(candidates)
    assert got.flagged == (len(candidates) > 1)
