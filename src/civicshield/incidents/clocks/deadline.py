"""Deadlines of obligations: due time, holds, status and escalating reminders (pure).

`compute` turns an obligation and its start instant into a `Due`. An investigation hold
(`Suspension`) only moves the deadline of an obligation marked `suspendable` (Québec A-2.1
s. 63.8: persons may be notified later "so long as" notice could hamper an investigation; the
notice to the CAI is never held). Two policies: "pause" (default: the clock stops during the
hold and resumes with the time that was left) and "restart" (the full interval again from the
end of the hold); the city picks one and the case stores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from civicshield.core.errors import FieldError, Invalid
from civicshield.incidents.clocks.instants import add_hours, add_local_months, add_months
from civicshield.incidents.clocks.model import DeadlineKind, Obligation

__all__ = [
    "Due",
    "HoldPolicy",
    "Reminder",
    "StartEvent",
    "Status",
    "Suspension",
    "compute",
    "pick_start",
    "reminders",
    "retain_until",
    "status",
]

HoldPolicy = Literal["pause", "restart"]
Status = Literal["running", "due-soon", "overdue", "met", "met-late", "suspended"]


@dataclass(frozen=True)
class StartEvent:
    """A recorded start event; `obligation` scopes it (a notice sent, a ransomware discovery)."""

    kind: str
    at: datetime
    obligation: str | None = None


@dataclass(frozen=True)
class Suspension:
    """An investigation hold, recorded with who asked, why and when it is to be reviewed."""

    start: datetime
    end: datetime | None
    reason: str
    authority: str
    review_on: date

    def __post_init__(self) -> None:
        for name, value in (("reason", self.reason), ("authority", self.authority)):
            if not value.strip():
                raise Invalid(
                    f"an investigation hold needs its {name}", [FieldError((name,), "required")]
                )
        if self.end is not None and _utc(self.end) < _utc(self.start):
            raise Invalid(
                "a hold cannot end before it starts", [FieldError(("end",), "before start")]
            )


@dataclass(frozen=True)
class Due:
    obligation_id: str
    kind: DeadlineKind
    start_at: datetime
    due_at: datetime | None  # None while an open hold stops the clock
    interval: timedelta  # the unsuspended interval from start to the deadline
    policy: HoldPolicy = "pause"
    run_from: datetime | None = None  # restart policy: the end of the hold the clock restarted at
    wording: str | None = None  # the law's words when `kind` is "internal-target"
    suspensions: tuple[Suspension, ...] = ()  # holds that moved this deadline
    suspended_for: timedelta = timedelta()
    remaining_at_hold: timedelta | None = None  # set while an open hold stops the clock
    local_calendar_due: datetime | None = None  # case 8: month counted on the local calendar
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Reminder:
    at: datetime
    level: int  # 1 = first, rising as the deadline nears
    reason: str  # "50%", "1h before", …
    channels: tuple[str, ...]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(
            f"{value.isoformat()} has no offset: clocks take UTC or zone-aware instants",
            [FieldError(("at",), "naive datetime")],
        )
    return value.astimezone(UTC)


def _base_due(obligation: Obligation, start: datetime) -> datetime:
    d = obligation.deadline
    if d.months is not None:
        return add_months(start, d.months)
    hours = d.hours if d.hours is not None else d.target_hours
    assert hours is not None  # the model guarantees one form
    return add_hours(start, hours)


def pick_start(obligation: Obligation, events: Iterable[StartEvent]) -> StartEvent | None:
    """The event that starts `obligation`, or None when it has not happened yet.

    An event scoped to the obligation wins over an unscoped one of the same kind; a
    `notification_sent` only counts for the obligation it records (the followed one). Each
    start event is its own record: none is derived from another (convention 6).
    """
    wanted = obligation.follows if obligation.follows else obligation.id
    scoped: list[StartEvent] = []
    unscoped: list[StartEvent] = []
    for ev in events:
        if ev.kind != obligation.start_event:
            continue
        if ev.obligation == wanted:
            scoped.append(ev)
        elif ev.obligation is None and obligation.start_event != "notification_sent":
            unscoped.append(ev)
    found = scoped or unscoped
    return min(found, key=lambda e: _utc(e.at)) if found else None


def compute(
    obligation: Obligation,
    start: datetime,
    *,
    suspensions: Sequence[Suspension] = (),
    policy: HoldPolicy = "pause",
    zone: str | None = None,
) -> Due:
    """The deadline of `obligation` started at `start` (aware), after any holds."""
    start_utc = _utc(start)
    base = _base_due(obligation, start_utc)
    interval = base - start_utc
    due: datetime | None = base
    notes: list[str] = []
    applied: list[Suspension] = []
    suspended_for = timedelta()
    remaining: timedelta | None = None
    if suspensions and not obligation.suspendable:
        notes.append(f"{obligation.id} cannot be suspended: holds ignored")
    holds = sorted(suspensions, key=lambda s: _utc(s.start)) if obligation.suspendable else []
    clock_from = start_utc  # where the clock last (re)started running
    run_from = start_utc  # where the current run's interval is counted from (restart policy)
    for hold in holds:
        if due is None:
            break
        h_start = max(_utc(hold.start), clock_from)
        h_end = None if hold.end is None else _utc(hold.end)
        if h_start >= due or (h_end is not None and h_end <= clock_from):
            continue  # a hold after the deadline, or over before the clock ran, moves nothing
        applied.append(hold)
        if h_end is None:
            remaining = due - h_start if policy == "pause" else interval
            due = None
            break
        if policy == "pause":
            due = due + (h_end - h_start)
        else:
            due, run_from = _base_due(obligation, h_end), h_end
        suspended_for += h_end - h_start
        clock_from = h_end
    local_due = None
    if zone is not None and obligation.deadline.months is not None and due is not None:
        alt = add_local_months(run_from, obligation.deadline.months, zone)
        if policy == "pause":
            alt += suspended_for
        local_due = alt if alt != due else None
    return Due(
        obligation_id=obligation.id,
        kind=obligation.kind,
        start_at=start_utc,
        due_at=due,
        policy=policy,
        run_from=run_from,
        interval=interval,
        wording=obligation.deadline.wording,
        suspensions=tuple(applied),
        suspended_for=suspended_for,
        remaining_at_hold=remaining,
        local_calendar_due=local_due,
        notes=tuple(notes),
    )


def status(
    due: Due,
    now: datetime,
    sent_at: datetime | None = None,
    *,
    soon: timedelta | None = None,
) -> Status:
    """Where the obligation stands at `now`; `soon` defaults to the last quarter of the interval."""
    now_utc = _utc(now)
    if sent_at is not None:
        sent = _utc(sent_at)
        return "met" if due.due_at is None or sent <= due.due_at else "met-late"
    if due.due_at is None:
        return "suspended"
    for hold in due.suspensions:
        if _utc(hold.start) <= now_utc and hold.end is not None and now_utc < _utc(hold.end):
            return "suspended"
    if now_utc > due.due_at:
        return "overdue"
    window = soon if soon is not None else due.interval / 4
    return "due-soon" if due.due_at - now_utc <= window else "running"


def reminders(
    due: Due,
    start: datetime | None = None,
    *,
    fractions: Sequence[float] = (0.5, 0.75, 0.9),
    before: Sequence[timedelta] = (timedelta(hours=1),),
    email_from_level: int = 2,
) -> list[Reminder]:
    """Escalating reminder instants between the start and the deadline (in-app, then e-mail).

    Fractions are of the running time: with a hold under the pause policy, the reminders move
    with the clock. Instants before `start` (or before the clock started) are dropped.
    """
    if due.due_at is None:
        return []
    begin = _utc(start) if start is not None else due.start_at
    restarted = due.policy == "restart" and due.run_from is not None
    run_start = due.run_from if restarted and due.run_from is not None else due.start_at
    running = due.due_at - due.start_at - due.suspended_for
    if restarted:
        running = due.due_at - run_start
    points: dict[datetime, str] = {}
    for frac in sorted(fractions):
        if not 0 < frac < 1:
            raise Invalid(f"reminder fraction {frac} is not between 0 and 1", [])
        at = run_start + running * frac if restarted else _advance(due, running * frac)
        points.setdefault(at, f"{round(frac * 100)}%")
    for gap in sorted(before, reverse=True):
        points.setdefault(due.due_at - gap, f"{_fmt_gap(gap)} before")
    out: list[Reminder] = []
    for at in sorted(p for p in points if begin <= p < due.due_at):
        level = len(out) + 1
        channels = ("in-app", "email") if level >= email_from_level else ("in-app",)
        out.append(Reminder(at, level, points[at], channels))
    return out


def _advance(due: Due, running: timedelta) -> datetime:
    """The instant when `running` clock time has elapsed since the start, skipping holds."""
    at = due.start_at
    left = running
    for hold in due.suspensions:
        h_start, h_end = max(_utc(hold.start), at), hold.end
        if h_end is None or h_start - at >= left:
            break
        left -= h_start - at
        at = _utc(h_end)
    return at + left


def _fmt_gap(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"


def retain_until(obligation: Obligation, start: datetime) -> datetime | None:
    """How long the record must be kept (PIPEDA s. 10.3: 24 months after determination)."""
    if obligation.retention is None:
        return None
    return add_months(_utc(start), obligation.retention.months)
