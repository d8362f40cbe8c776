"""Instants and calendar arithmetic for the legal clocks (conventions of clock-cases.md).

* Instants are kept in UTC; local input always comes with an IANA zone (convention 1).
* "N hours" is N x 3600 s on the UTC time line, never on the wall clock (convention 2).
* "N months" is the same day and time N months later on the UTC calendar, clamped to the end of
  the target month (convention 3).
* Local input that happens twice (DST overlap) or never (DST gap) is refused with a request for
  the offset, unless the caller accepts the earlier instant, which is then flagged (convention 5).
  `zoneinfo` alone would pick the earlier instant in an overlap but the later one in a gap.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from civicshield.core.errors import FieldError, Invalid

__all__ = [
    "Instant",
    "add_hours",
    "add_local_months",
    "add_months",
    "display",
    "parse_local",
    "zone",
]


@dataclass(frozen=True)
class Instant:
    """A recorded instant: UTC, the zone it was entered in and the offset that applied there."""

    utc: datetime
    zone: str
    offset: timedelta
    flagged: bool = False  # an ambiguous or non-existent local time was accepted (earlier one)
    note: str = ""


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or `Invalid` naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"unknown time zone {name!r}: use an IANA name such as America/Toronto",
            [FieldError(("zone",), f"unknown time zone {name!r}")],
        ) from exc


def _utc(value: datetime, what: str = "instant") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(
            f"{what} {value.isoformat()} has no offset: give UTC or a local time with its zone",
            [FieldError((what,), "naive datetime")],
        )
    return value.astimezone(UTC)


def _fmt_offset(offset: timedelta | None) -> str:
    total = int((offset or timedelta()).total_seconds())
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _parse_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise Invalid(
            f"{text!r} is not a date and time: write e.g. 2026-03-08 01:30 (local) "
            "or 2026-03-08 01:30-05:00",
            [FieldError(("at",), "not an ISO 8601 date and time")],
        ) from exc


def parse_local(value: str | datetime, zone_name: str, *, accept_earlier: bool = False) -> Instant:
    """Read a start event entered in `zone_name` (text or datetime, with or without offset).

    UTC input (`Z`, `+00:00`) is taken as is; any other offset must be the one the zone used at
    that moment (catches a typo such as EST given in July). Without one, a wall time that happens
    twice or never is refused with a message asking for the offset, unless `accept_earlier`,
    which keeps the earlier instant and flags the result.
    """
    tz = zone(zone_name)
    local = _parse_text(value) if isinstance(value, str) else value
    if local.tzinfo is not None and local.utcoffset() is not None:
        utc = local.astimezone(UTC)
        offset = utc.astimezone(tz).utcoffset()
        # UTC input is always fine (convention 1); another offset must be the zone's.
        if local.utcoffset() not in (offset, timedelta(0)):
            raise Invalid(
                f"{local.isoformat()} does not match {zone_name}, which was at "
                f"{_fmt_offset(offset)} then: check the offset or the zone",
                [FieldError(("at",), "offset does not match the zone")],
            )
        return Instant(utc, zone_name, offset or timedelta())
    early, late = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if early.utcoffset() == late.utcoffset():
        return Instant(early.astimezone(UTC), zone_name, early.utcoffset() or timedelta())
    candidates = sorted({early.astimezone(UTC), late.astimezone(UTC)})
    exists = candidates[0].astimezone(tz).replace(tzinfo=None) == local
    wall = local.strftime("%Y-%m-%d %H:%M")
    offsets = sorted({early.utcoffset() or timedelta(), late.utcoffset() or timedelta()})
    options = " or ".join(f"{wall}{_fmt_offset(o)[3:]}" for o in offsets)
    if exists:
        problem = f"{wall} happens twice in {zone_name} (the clocks go back)"
    else:
        problem = f"{wall} does not exist in {zone_name} (the clocks go forward)"
    if not accept_earlier:
        raise Invalid(
            f"{problem}: give the offset, {options}",
            [FieldError(("at",), problem)],
        )
    chosen = candidates[0]
    return Instant(
        chosen,
        zone_name,
        chosen.astimezone(tz).utcoffset() or timedelta(),
        flagged=True,
        note=f"{problem}; the earlier instant {chosen:%Y-%m-%d %H:%M}Z was used",
    )


def add_hours(start: datetime, hours: float) -> datetime:
    """`hours` elapsed hours after `start`, in UTC (convention 2)."""
    return _utc(start, "start") + timedelta(hours=hours)


def add_months(start: datetime, months: int) -> datetime:
    """Same UTC day and time `months` calendar months later, clamped to the month's end."""
    u = _utc(start, "start")
    k = u.month - 1 + months
    year, month = u.year + k // 12, k % 12 + 1
    return u.replace(year=year, month=month, day=min(u.day, calendar.monthrange(year, month)[1]))


def add_local_months(start: datetime, months: int, zone_name: str) -> datetime:
    """The other reading of convention 3: count months on the local calendar of `zone_name`.

    Shown beside the UTC answer when they differ (case 8), so a team can file by the earlier.
    A clamped local time that falls in a DST gap or overlap takes the earlier instant.
    """
    tz = zone(zone_name)
    loc = _utc(start, "start").astimezone(tz).replace(tzinfo=None)
    k = loc.month - 1 + months
    year, month = loc.year + k // 12, k % 12 + 1
    moved = loc.replace(
        year=year, month=month, day=min(loc.day, calendar.monthrange(year, month)[1])
    )
    return min(moved.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))


def display(at: datetime | Instant, zone_name: str, *, recipient_zone: str | None = None) -> str:
    """Local text with abbreviation and offset, e.g. `2026-03-10 21:00 EDT (UTC-04:00)`.

    With a recipient in another zone, their local time follows: `… / Europe/Paris: …`.
    """
    utc = at.utc if isinstance(at, Instant) else _utc(at)
    local = utc.astimezone(zone(zone_name))
    text = f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({_fmt_offset(local.utcoffset())})"
    if recipient_zone and recipient_zone != zone_name:
        text += f" / {recipient_zone}: {display(utc, recipient_zone)}"
    return text
